"""The offline OpenRouter emulator: OpenRouter's image API over real HTTP, no key, no network.

Start it::

    python -m emulator --port 8765 [--latency 1.5] [--verbose]

or in-process (tests, benchmarks)::

    with EmulatorServer(port=0, latency=0) as emulator:
        httpx.get(f"{emulator.url}/images/models")   # url ends in /api/v1

Standalone: stdlib and Pillow only; the server is a ``ThreadingHTTPServer``
(HTTP/1.1 keep-alive, daemon threads, backlog 1024) so hundreds of slow
requests wait side by side. ``--help`` lists every route, directive and
control endpoint; the modules document the details:

* ``catalog_data``  the models (plain data); ``catalog`` the discovery documents
* ``validation``    the 400/404 rules and endpoint choice
* ``options``       the values of parameters and provider options (400s)
* ``pricing``       how usage and ``usage.cost`` are computed (tokens per image, …)
* ``drawing``       pixel-size tables and image rendering
* ``directives``    ``[emulator:…]`` prompt directives
* ``generate``      the routes' shared machinery and the Image API; ``chat``
  Chat Completions; ``tool`` the server tool and the Responses API; ``routes``
  which of them answers a chat or Responses request

Models (``/images/models``): the 27 image models OpenRouter lists in the
public captures (``data/catalog.json``, each entry with its ``_source``):
Google's Gemini 2.5 Flash Image (and its preview slug, 2 providers),
Gemini 3 Pro Image preview (AI Studio and Vertex) and Gemini 3.1 Flash Image
preview (extended ratios, 0.5K); OpenAI's gpt-image-1, gpt-image-1-mini,
gpt-image-2, gpt-5-image, gpt-5-image-mini and gpt-5.4-image-2 (all stream);
FLUX.2 pro (2 providers), flex, max and klein 4B (megapixel pricing,
``steps``/``guidance`` passthrough); bytedance-seed/seedream-4.5 (returns at
most 4 images: ``n`` is an upper bound); Recraft V3, V4, V4 vector, V4 pro
and V4 pro vector (vectors always SVG); Sourceful Riverflow V2 fast, V2 pro,
V2 max preview, V2.5 fast and V2.5 pro; microsoft/mai-image-2.5 (per token);
x-ai/grok-imagine-image-quality. Text models (``/models``
default filter): openai/gpt-4o-mini, anthropic/claude-sonnet-4.5,
google/gemini-2.5-flash.
Image+text output (``modalities: ["image", "text"]``): the Gemini image
models and the gpt-5 image models; the others need ``["image"]``. A chat
request to an image model without ``modalities`` is treated as
``["image", "text"]`` for image+text models and 404s for image-only ones.

What is emitted
---------------

``POST /images`` (buffered)::

    {"created": 0 | <unix time, OpenAI only>,
     "data": [{"b64_json": "<base64>", "media_type": "image/webp"}],  # media_type absent for PNG
     "usage": {"prompt_tokens", "completion_tokens", "total_tokens", "cost": <number>}}

``POST /images`` with ``stream: true`` on a streaming endpoint (others answer
JSON): ``: OPENROUTER PROCESSING`` comments, two
``{"type": "image_generation.partial_image", "partial_image_index": 0|1,
"index": 0, "b64_json"}`` (blurred previews, at most 1024 px), then per image
``{"type": "image_generation.completed", "index", "b64_json", "created"}`` with
``usage`` on the last one, then ``data: [DONE]``. Errors mid-stream:
``{"type": "error", "error": {"message", "code"}}`` then ``[DONE]``.

``POST /chat/completions`` (image models)::

    {"id": "gen-…", "provider": "Google AI Studio", "model", "object": "chat.completion",
     "created", "choices": [{"index": 0, "finish_reason": "stop",
       "native_finish_reason": "STOP" (Google) | "stop" | "IMAGE_SAFETY" (refusal),
       "message": {"role": "assistant", "content": "Here is your image: …" | "",
                   "images": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"},
                               "index": 0}]}}],   # no "images" key on a refusal
     "usage": {"prompt_tokens", "completion_tokens", "total_tokens", "cost": <number>,
               "completion_tokens_details": {"image_tokens"}, …}}

Streamed: chunks ``{"object": "chat.completion.chunk", "choices": [{"delta":
{"role", "content", "images"?}, "finish_reason", "native_finish_reason"}]}``:
role chunk, keep-alive comments during the latency, (``preview``: an image
chunk), content chunk, images chunk, final chunk with ``finish_reason`` and
top-level ``usage``, ``data: [DONE]``. A mid-stream error is a chunk with a
top-level ``error`` and ``finish_reason: "error"``, and the stream ends
(no ``[DONE]``).

Server tool, Chat Completions (``tools: [{"type": "openrouter:image_generation",
"parameters": {...}}]`` on a text-output model; the image model is
``parameters.model`` or openai/gpt-5-image; ``quality``, ``size``,
``aspect_ratio``, ``background``, ``output_format``, ``output_compression`` are
passed to it and validated as an Image API request)::

    "message": {"role": "assistant",
                "content": "Here is the image I generated for you.\\n\\n![alt](http://<host>/api/v1/__emulator__/files/<token>.png)",
                "images": []}
    # tool_shape=plain_url: the bare URL in the text; tool_shape=structured adds
    # "server_tool_results": [{"type": "openrouter:image_generation", "status": "ok", "imageUrl"}]
    # on failure (always structured): {"type": "openrouter:image_generation", "status": "error", "error": "…"}
    "usage": {…, "cost": <text tokens + image>, "server_tool_use": {"image_generation_requests": 1}}

Streamed, the text arrives in a ``delta.content`` chunk (and any
``server_tool_results`` in one chunk's ``delta``). The URL's host is the
request's ``Host`` header; fetch it at once (10 min). Chat Completions and
Responses answers, whole or streamed, carry ``X-Generation-Id`` in their headers.

Server tool, Responses API (``POST /responses``, ``input`` a string or list)::

    {"id": "gen-…", "object": "response", "created_at", "model", "provider", "status": "completed",
     "output": [{"type": "openrouter:image_generation", "id": "ig_…",
                 "status": "completed", "imageUrl": "http://…/files/<token>.png"},
                # tool_shape=result: "result": <url>; tool_shape=imageB64: "imageB64": <base64>;
                # on failure: "status": "failed", "error": "…"
                {"type": "message", "id": "msg_…", "role": "assistant", "status": "completed",
                 "content": [{"type": "output_text", "text": "…", "annotations": []}]}],
     "usage": {"input_tokens", "output_tokens", "total_tokens", "cost", "server_tool_use"?}}

Streamed: ``event: response.created``, ``response.output_item.done`` per item,
``response.completed`` with the whole response.

``GET /generation?id=`` answers 404 for ``generation_404_seconds`` after the
generation finished, then ``{"data": {"id", "total_cost", "model",
"provider_name", "native_tokens_prompt", "native_tokens_completion",
"created_at", "streamed", "finish_reason", …}}``. ``GET /key`` →
``{"data": {"label", "usage" (ledger sum), "limit", "limit_remaining",
"is_free_tier", …}}``. ``GET /credits`` → 403.

Failure controls
----------------

1. Directives in the prompt (the last user message for chat/responses), e.g.
   ``"a cat [emulator:fail_times=2,fail=503]"``; stripped from the drawn text.
   ``latency=S``, ``stream_delay=S``, ``fail=CODE`` (+ ``retry_after=N`` for
   429, ``reason=key_limit|credits`` for 402/403), ``fail_times=N``, ``refuse``,
   ``preview``, ``stream_error`` (+ ``no_usage``), ``malformed``, ``truncate``,
   ``tool_shape=S``, ``fewer=K``, ``bytes=garbage``, ``bomb``, ``svg=hostile``
   — see ``directives`` for each one's exact effect.
2. The control API under ``/api/v1/__emulator__`` (no key):
   ``GET|DELETE /ledger`` (``?tag=`` filters on the ``X-Emulator-Tag`` header),
   ``GET /requests`` (``{"total", "counts": {route: {model: n}}, "requests"}``),
   ``GET|POST /config`` (``latency``, ``stream_delay``, ``generation_404_seconds``,
   ``file_ttl``, ``keepalive_interval``, ``key_limit``: a number makes
   generations 402 once the ledger reaches it), ``GET|POST /catalog`` (POST
   ``{"remove": [id]}``, ``{"patch": {id: {deep-merged fields}}}``,
   ``{"endpoint_patch": {id: {provider_slug: {fields}}}}``, ``{"set_price":
   [{"model", "provider_slug"?, "billable", "variant"?, "cost_usd", "unit"?}]}``,
   ``{"add": [model]}``, ``{"replace": {"image_models", "text_models"}}``),
   ``POST /reset`` (everything back to start), ``GET /status``,
   ``GET /files/<token>.<ext>`` (server-tool images).

Billing (the ledger at ``GET /api/v1/__emulator__/ledger``): every success is
charged its ``usage.cost``; errors answered as HTTP errors are not; a refusal
costs its input plus a 0.0002 USD fee; a stream error after partials, a
malformed or truncated body are charged (the work was done); a stream the
client drops is charged only on endpoints that bill cancelled streams
(Google). Chat/responses charges carry their ``gen-`` id.
"""

from __future__ import annotations

from .cli import main
from .server import EmulatorServer

__all__ = ["EmulatorServer", "main"]
