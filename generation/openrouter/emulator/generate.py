"""The three generation styles: Image API, Chat Completions, Responses API.

Each route validates, applies the prompt's directives, waits out the latency,
draws, bills the ledger *before* the body is written (so a test that reads the
ledger right after the response sees the charge), and answers. Routes raise
``ApiError`` for anything answered before a stream starts; the handler turns
it into a real-shaped error body.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import catalog_data, directives, drawing, pricing
from .catalog import in_models_list
from .directives import Directives
from .errors import ApiError, failure, no_endpoints
from .state import Generation, State, new_generation_id
from .transport import ClientGone, Transport
from .validation import (
    Plan,
    decode_image_url,
    plan_chat_image,
    plan_image_request,
    require_modalities,
)

# A refused image still costs a little: this fee plus the request's input costs.
REFUSAL_FEE = Decimal("0.0002")
TOOL_TYPE = "openrouter:image_generation"
TOOL_PASSTHROUGH = (
    "quality",
    "size",
    "aspect_ratio",
    "background",
    "output_format",
    "output_compression",
)
TOOL_PROMPT_TOKENS = 120  # the tool's definition, as the text model sees it
TOOL_CALL_TOKENS = 40  # the model's call to the tool


@dataclass
class Context:
    state: State
    io: Transport
    body: dict[str, Any]
    tag: str | None
    origin: str  # scheme://host[:port] as the client addressed us, for tool image URLs
    route: str
    started: float = field(default_factory=time.monotonic)


@dataclass
class Rendered:
    data: bytes
    media_type: str
    index: int | None = None  # the image's index when it was drawn (and so has partials)


def _model_id(body: dict[str, Any]) -> str:
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise ApiError(400, "'model' is required")
    return model_id


def _latency(ctx: Context, d: Directives) -> float:
    """What is left of the request's latency: drawing counts towards it, so that
    hundreds of concurrent slow requests draw while they wait."""
    latency = d.latency if d.latency is not None else ctx.state.settings().latency
    return max(0.0, latency - (time.monotonic() - ctx.started))


def _fail_if_asked(
    ctx: Context, d: Directives, raw_prompt: str, model_id: str, provider: str
) -> None:
    if d.fail is None:
        return
    if d.fail_times is not None and ctx.state.attempt(raw_prompt) > d.fail_times:
        return
    ctx.io.wait(_latency(ctx, d))
    raise failure(
        d.fail,
        model=model_id,
        provider_name=provider,
        prompt=directives.strip(raw_prompt),
        retry_after=d.retry_after,
    )


def _check_credit(
    ctx: Context, max_tokens: Any = None, completion_price: str | None = None
) -> None:
    limit = ctx.state.settings().key_limit
    if limit is None:
        return
    remaining = Decimal(str(limit)) - ctx.state.usage()
    if remaining <= 0:
        raise ApiError(
            402, "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
        )
    price = Decimal(completion_price or "0")
    if isinstance(max_tokens, int) and price > 0 and max_tokens * price > remaining:
        raise ApiError(
            402,
            f"This request requires more credits, or fewer max_tokens. You requested up to "
            f"{max_tokens} tokens, but can only afford {int(remaining / price)}. To increase, visit "
            "https://openrouter.ai/settings/credits and upgrade to a paid account",
        )


def render(plan: Plan, d: Directives, index: int) -> Rendered:
    text = directives.strip(plan.prompt)
    size = plan.sizes[index]
    model_id = plan.model["id"]
    if d.hostile_svg:
        return Rendered(drawing.hostile_svg(size), "image/svg+xml")
    if d.bomb:
        return Rendered(drawing.bomb(), "image/png")
    if d.garbage:
        return Rendered(drawing.garbage(model_id, text, plan.seed, index), plan.media_type)
    data = drawing.rendered(
        size,
        plan.fmt,
        plan.compression,
        text,
        model_id,
        plan.seed,
        index,
        plan.transparent,
        tuple(plan.palette),
        plan.background,
    )
    return Rendered(data, plan.media_type, index if plan.fmt != "svg" else None)


def _partial(rendered: Rendered, plan: Plan, stage: int) -> bytes:
    if rendered.index is None:
        return rendered.data  # SVG and the broken-on-purpose payloads have no partials
    image = drawing.preview(
        plan.sizes[rendered.index],
        stage,
        text=directives.strip(plan.prompt),
        model=plan.model["id"],
        seed=plan.seed,
        index=rendered.index,
        transparent=plan.transparent,
        palette=plan.palette,
        background=plan.background,
    )
    return drawing.encode(image, plan.fmt, plan.compression)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _count(plan: Plan, d: Directives) -> int:
    return len(plan.sizes) if d.fewer is None else min(len(plan.sizes), d.fewer)


def _billables(plan: Plan, prompt_text: str, count: int) -> pricing.Billables:
    return pricing.Billables(
        prompt_text=prompt_text,
        outputs=plan.sizes[:count],
        quality=plan.quality,
        input_images=plan.input_images,
        input_references=plan.input_references,
        fonts=plan.fonts,
    )


def _refusal(plan: Plan, prompt_text: str) -> pricing.Charge:
    inputs = pricing.charge(plan.model, plan.endpoint, _billables(plan, prompt_text, 0))
    return pricing.Charge(inputs.cost + REFUSAL_FEE, inputs.prompt_tokens, 0)


def _deliver(ctx: Context, body: dict[str, Any], d: Directives) -> int:
    """Answer 200 with ``body``, or break it as ``malformed`` / ``truncate`` ask."""
    if d.malformed or d.truncate:
        data = json.dumps(body).encode()
        if d.truncate:
            ctx.io.send_truncated(200, data, "application/json")
        else:
            ctx.io.send_bytes(200, data[: len(data) * 3 // 5], "application/json")
    else:
        ctx.io.send_json(200, body)
    return 200


def _broken(payload: dict[str, Any]) -> str:
    text = json.dumps(payload)
    return text[: len(text) * 3 // 5]


# POST /images


def images(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    model = ctx.state.catalog.image_model(model_id)
    if model is None:
        if ctx.state.catalog.text_model(model_id) is not None:
            raise no_endpoints(
                "No endpoints found that support the requested output modalities: image"
            )
        raise no_endpoints(f"No endpoints found for {model_id}.")
    prompt_field = body.get("prompt")
    raw_prompt = prompt_field if isinstance(prompt_field, str) else ""
    d = directives.parse(raw_prompt)
    plan = plan_image_request(model, body)
    _check_credit(ctx)
    _fail_if_asked(ctx, d, raw_prompt, model_id, plan.provider_name)
    text = directives.strip(raw_prompt)
    # OpenAI stamps `created`; other providers' answers come through with 0.
    created = int(time.time()) if plan.endpoint.get("provider_slug") == "openai" else 0
    if plan.stream:
        return _stream_images(ctx, plan, d, text)

    count = 0 if d.refuse or d.stream_error else _count(plan, d)
    rendered = [render(plan, d, i) for i in range(count)]
    ctx.io.wait(_latency(ctx, d))
    if d.stream_error:
        raise failure(502, model=model_id, provider_name=plan.provider_name, prompt=text)
    if d.refuse:
        bill = _refusal(plan, text)
        _ledger(ctx, plan, bill.cost, text, 0, outcome="refused")
        return _deliver(ctx, {"created": created, "data": [], "usage": _image_usage(bill)}, d)
    bill = pricing.charge(model, plan.endpoint, _billables(plan, text, count))
    _ledger(ctx, plan, bill.cost, text, count)
    answer = {
        "created": created,
        "data": [_image_item(r) for r in rendered],
        "usage": _image_usage(bill),
    }
    return _deliver(ctx, answer, d)


def _image_item(rendered: Rendered) -> dict[str, Any]:
    item = {"b64_json": _b64(rendered.data)}
    if rendered.media_type != "image/png":
        item["media_type"] = rendered.media_type
    return item


def _image_usage(bill: pricing.Charge) -> dict[str, Any]:
    return {
        "prompt_tokens": bill.prompt_tokens,
        "completion_tokens": bill.completion_tokens,
        "total_tokens": bill.total_tokens,
        "cost": pricing.as_number(bill.cost),
    }


def _ledger(
    ctx: Context,
    plan: Plan,
    cost: Decimal,
    prompt: str,
    images: int,
    *,
    generation_id: str | None = None,
    outcome: str = "ok",
    model: str | None = None,
    provider: str | None = None,
) -> None:
    ctx.state.charge(
        route=ctx.route,
        model=model or plan.model["id"],
        provider=provider or plan.provider_name,
        cost=cost,
        prompt=prompt,
        images=images,
        tag=ctx.tag,
        generation_id=generation_id,
        outcome=outcome,
    )


def _stream_images(ctx: Context, plan: Plan, d: Directives, text: str) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    count = _count(plan, d)
    charged = False

    def bill_once(cost: Decimal, images: int, outcome: str) -> None:
        nonlocal charged
        if not charged:
            charged = True
            _ledger(ctx, plan, cost, text, images, outcome=outcome)

    io.start_sse(d.stream_delay)
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        if d.refuse:
            io.wait(latency)
            # Not billed: Image API billing is all-or-nothing, and the error event
            # carries no usage that could tell a client what it cost.
            io.sse(
                {
                    "type": "error",
                    "error": {
                        "message": "Image generation refused by the provider's safety system (IMAGE_SAFETY)",
                        "code": "content_policy_violation",
                    },
                }
            )
            io.sse("[DONE]")
            io.end_sse()
            return 200
        rendered = [render(plan, d, i) for i in range(count)]
        bill = pricing.charge(plan.model, plan.endpoint, _billables(plan, text, count))
        media = {} if plan.media_type == "image/png" else {"media_type": plan.media_type}
        partials = [
            {"type": "image_generation.partial_image", "partial_image_index": stage, "index": 0}
            | media
            | {"b64_json": _b64(_partial(rendered[0], plan, stage))}
            for stage in (0, 1)
            if rendered
        ]
        io.wait(latency / 3)
        if partials:
            io.sse(partials[0])
        if d.truncate:
            bill_once(bill.cost, count, "truncated")
            io.sse_cut(partials[1] if partials else {"type": "image_generation.partial_image"})
            return 200
        io.wait(latency / 3)
        if partials:
            io.sse(partials[1])
        io.wait(latency / 3)
        if d.stream_error:
            # Like Google: the work was done, the stream broke; it is billed.
            bill_once(bill.cost, count, "stream_error")
            io.sse(
                {"type": "error", "error": {"message": "Generation failed", "code": "server_error"}}
            )
            io.sse("[DONE]")
            io.end_sse()
            return 200
        bill_once(bill.cost, count, "ok")
        for index, item in enumerate(rendered):
            event: dict[str, Any] = {
                "type": "image_generation.completed",
                "index": index,
                "b64_json": _b64(item.data),
                "created": int(time.time()),
            }
            if item.media_type != "image/png":
                event["media_type"] = item.media_type
            if index == count - 1:
                event["usage"] = _image_usage(bill)
            io.sse(_broken(event) if d.malformed and index == count - 1 else event)
        io.sse("[DONE]")
        io.end_sse()
    except ClientGone:
        if plan.endpoint.get("_emulator", {}).get("bills_on_cancel"):
            bill_once(
                pricing.charge(plan.model, plan.endpoint, _billables(plan, text, count)).cost,
                count,
                "cancelled",
            )
    return 200


# POST /chat/completions


@dataclass
class Conversation:
    last_user: str
    all_text: str
    image_urls: list[Any]


def _read_messages(messages: Any) -> Conversation:
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' is required and must be a non-empty list")
    last_user = ""
    texts: list[str] = []
    urls: list[Any] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            raise ApiError(
                400, "each message needs a role: system, developer, user, assistant or tool"
            )
        content = message.get("content")
        parts: list[str] = []
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    raise ApiError(400, "message content parts must be objects")
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "image_url":
                    image_url = part.get("image_url")
                    url = image_url.get("url") if isinstance(image_url, dict) else image_url
                    if message.get("role") == "user":
                        urls.append(url)
        elif content is not None:
            raise ApiError(400, "message content must be a string or a list of parts")
        texts.extend(parts)
        if message.get("role") == "user":
            last_user = " ".join(parts)
    return Conversation(last_user, "\n".join(texts), urls)


def _server_tool(tools: Any) -> dict[str, Any] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise ApiError(400, "'tools' must be a list")
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == TOOL_TYPE:
            parameters = tool.get("parameters", {})
            if not isinstance(parameters, dict):
                raise ApiError(400, f"{TOOL_TYPE} parameters must be an object")
            return tool
    return None


def _provider_of(model: dict[str, Any]) -> str:
    endpoints = model.get("endpoints") or []
    return str(
        endpoints[0]["provider_name"] if endpoints else model.get("provider_name", "OpenRouter")
    )


def chat(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    conversation = _read_messages(body.get("messages"))
    image_model = ctx.state.catalog.image_model(model_id)
    if image_model is not None and not in_models_list(image_model):
        image_model = None  # served by the Image API only
    model = image_model or ctx.state.catalog.text_model(model_id)
    if model is None:
        raise no_endpoints(f"No endpoints found for {model_id}.")
    d = directives.parse(conversation.last_user)
    architecture = model.get("architecture", {})
    outputs = architecture.get("output_modalities", [])
    if conversation.image_urls and "image" not in architecture.get("input_modalities", []):
        raise no_endpoints("No endpoints found that support image input")
    modalities = body.get("modalities")
    if modalities is not None and (
        not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities)
    ):
        raise ApiError(400, "'modalities' must be a list of strings")
    tool = _server_tool(body.get("tools"))
    if tool is not None and "text" in outputs and (modalities is None or "image" not in modalities):
        return _tool_answer(ctx, model, d, conversation, tool, api="chat")
    requested = (
        modalities
        if modalities is not None
        else (["image", "text"] if image_model is not None and "text" in outputs else ["text"])
    )
    require_modalities(model, requested, model_id)
    if "image" in requested and image_model is not None:
        return _image_chat(ctx, image_model, d, conversation, talks="text" in requested)
    return _text_chat(ctx, model, d, conversation)


def _chunk(
    meta: dict[str, Any],
    delta: dict[str, Any],
    finish: str | None = None,
    native: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    chunk = {
        "id": meta["id"],
        "provider": meta["provider"],
        "model": meta["model"],
        "object": "chat.completion.chunk",
        "created": meta["created"],
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "finish_reason": finish,
                "native_finish_reason": native,
                "logprobs": None,
            }
        ],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _chat_usage(
    prompt_tokens: int, completion_tokens: int, cost: Decimal, image_tokens: int = 0
) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": pricing.as_number(cost),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "cost_details": {"upstream_inference_cost": None},
        "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": image_tokens},
    }


@dataclass
class Answer:
    """A finished chat answer, ready to be sent buffered or streamed."""

    meta: dict[str, Any]
    content: str
    images: list[dict[str, Any]]
    preview: dict[str, Any] | None
    usage: dict[str, Any]
    cost: Decimal
    native: str
    extra: dict[str, Any]  # more assistant-message fields (server_tool_results)
    prompt: str
    image_count: int
    outcome: str
    bills_on_cancel: bool


def _image_url_item(data: bytes, media_type: str, index: int) -> dict[str, Any]:
    return {
        "type": "image_url",
        "image_url": {"url": drawing.data_url(data, media_type)},
        "index": index,
    }


def _image_chat(
    ctx: Context, model: dict[str, Any], d: Directives, conversation: Conversation, *, talks: bool
) -> int:
    body = ctx.body
    provider_hint = _provider_of(model)
    sizes = [decode_image_url(url, provider_hint, "messages") for url in conversation.image_urls]
    plan = plan_chat_image(model, body, conversation.last_user, sizes)
    _check_credit(ctx, body.get("max_tokens"), model.get("models_pricing", {}).get("completion"))
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], plan.provider_name)
    text = directives.strip(conversation.last_user)
    google = str(plan.endpoint.get("provider_slug", "")).startswith("google")
    native = "STOP" if google else "stop"
    images: list[dict[str, Any]] = []
    preview = None
    if d.refuse:
        bill = _refusal(plan, conversation.all_text)
        content = "I can't generate that image." if talks else ""
        native, outcome, count = "IMAGE_SAFETY", "refused", 0
    else:
        count = _count(plan, d)
        rendered = [render(plan, d, i) for i in range(count)]
        images = [_image_url_item(r.data, r.media_type, i) for i, r in enumerate(rendered)]
        if d.preview and rendered:
            preview = _image_url_item(_partial(rendered[0], plan, 0), plan.media_type, 0)
        bill = pricing.charge(model, plan.endpoint, _billables(plan, conversation.all_text, count))
        content = f"Here is your image: {text[:160]}" if talks else ""
        outcome = "ok"
    content_tokens = pricing.text_tokens(content) if content else 0
    text_cost = pricing.text_charge(
        {"completion": model.get("models_pricing", {}).get("completion", "0")}, 0, content_tokens
    )
    cost = bill.cost + text_cost
    meta = {
        "id": new_generation_id(),
        "provider": plan.provider_name,
        "model": model["id"],
        "created": int(time.time()),
    }
    answer = Answer(
        meta=meta,
        content=content,
        images=images,
        preview=preview,
        usage=_chat_usage(
            bill.prompt_tokens,
            bill.completion_tokens + content_tokens,
            cost,
            bill.completion_tokens,
        ),
        cost=cost,
        native=native,
        extra={},
        prompt=text,
        image_count=count,
        outcome=outcome,
        bills_on_cancel=bool(plan.endpoint.get("_emulator", {}).get("bills_on_cancel")),
    )
    return _send_chat(ctx, answer, d)


def _text_chat(
    ctx: Context, model: dict[str, Any], d: Directives, conversation: Conversation
) -> int:
    answer = _text_answer(ctx, model, d, conversation, ctx.body.get("max_tokens"))
    return _send_chat(ctx, answer, d)


def _text_answer(
    ctx: Context,
    model: dict[str, Any],
    d: Directives,
    conversation: Conversation,
    max_tokens: object,
) -> Answer:
    """A text model answering without drawing (Chat Completions or Responses)."""
    prices = model.get("models_pricing", {})
    _check_credit(ctx, max_tokens, prices.get("completion"))
    provider = _provider_of(model)
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], provider)
    text = directives.strip(conversation.last_user)
    content = f"(OpenRouter emulator) You said: {text[:400]}"
    prompt_tokens = pricing.text_tokens(conversation.all_text)
    completion_tokens = pricing.text_tokens(content)
    cost = pricing.text_charge(prices, prompt_tokens, completion_tokens)
    return Answer(
        meta={
            "id": new_generation_id(),
            "provider": provider,
            "model": model["id"],
            "created": int(time.time()),
        },
        content=content,
        images=[],
        preview=None,
        usage=_chat_usage(prompt_tokens, completion_tokens, cost),
        cost=cost,
        native="stop",
        extra={},
        prompt=text,
        image_count=0,
        outcome="ok",
        bills_on_cancel=False,
    )


def _record(ctx: Context, answer: Answer, *, streamed: bool, finish: str, api_type: str) -> None:
    usage = answer.usage
    ctx.state.charge(
        route=ctx.route,
        model=answer.meta["model"],
        provider=answer.meta["provider"],
        cost=answer.cost,
        prompt=answer.prompt,
        images=answer.image_count,
        tag=ctx.tag,
        generation_id=answer.meta["id"],
        outcome=answer.outcome,
    )
    ctx.state.record_generation(
        Generation(
            id=answer.meta["id"],
            model=answer.meta["model"],
            provider_name=answer.meta["provider"],
            total_cost=answer.cost,
            prompt_tokens=usage.get("prompt_tokens", usage.get("input_tokens", 0)),
            completion_tokens=usage.get("completion_tokens", usage.get("output_tokens", 0)),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(answer.meta["created"])),
            finished=time.monotonic(),
            streamed=streamed,
            finish_reason=finish,
            native_finish_reason=answer.native if finish != "error" else "error",
            images=answer.image_count,
            api_type=api_type,
            latency_ms=int(ctx.state.settings().latency * 1000),
        )
    )


def _send_chat(ctx: Context, answer: Answer, d: Directives) -> int:
    if ctx.body.get("stream"):
        return _stream_chat(ctx, answer, d)
    ctx.io.wait(_latency(ctx, d))
    if d.stream_error:
        raise failure(
            502,
            model=answer.meta["model"],
            provider_name=answer.meta["provider"],
            prompt=answer.prompt,
        )
    _record(ctx, answer, streamed=False, finish="stop", api_type="completions")
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "refusal": None,
        "reasoning": None,
    }
    images = ([answer.preview] if answer.preview else []) + answer.images
    if images:
        message["images"] = images
    message |= answer.extra
    response = {
        "id": answer.meta["id"],
        "provider": answer.meta["provider"],
        "model": answer.meta["model"],
        "object": "chat.completion",
        "created": answer.meta["created"],
        "choices": [
            {
                "logprobs": None,
                "finish_reason": "stop",
                "native_finish_reason": answer.native,
                "index": 0,
                "message": message,
            }
        ],
        "usage": answer.usage,
    }
    return _deliver(ctx, response, d)


def _stream_chat(ctx: Context, answer: Answer, d: Directives) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    meta = answer.meta
    charged = False
    io.start_sse(d.stream_delay)
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        io.sse(_chunk(meta, {"role": "assistant", "content": ""}))
        if answer.preview:
            io.wait(latency / 2)
            io.sse(_chunk(meta, {"role": "assistant", "content": "", "images": [answer.preview]}))
            io.wait(latency / 2)
        else:
            io.wait(latency)
        if d.stream_error:
            charged = True
            _record(ctx, answer, streamed=True, finish="error", api_type="completions")
            error_chunk = _chunk(meta, {"role": "assistant", "content": ""}, "error", "error")
            error_chunk["error"] = {
                "code": 502,
                "message": "Provider returned error",
                "metadata": {
                    "provider_name": meta["provider"],
                    "raw": '{"error":"stream interrupted"}',
                },
            }
            io.sse(error_chunk)
            io.end_sse()
            return 200
        charged = True
        _record(ctx, answer, streamed=True, finish="stop", api_type="completions")
        if answer.content:
            io.sse(_chunk(meta, {"role": "assistant", "content": answer.content}))
        extra_delta = {"role": "assistant", "content": ""} | answer.extra
        if answer.extra:
            io.sse(_chunk(meta, extra_delta))
        images_chunk = _chunk(meta, {"role": "assistant", "content": "", "images": answer.images})
        if d.truncate:
            io.sse_cut(images_chunk)
            return 200
        if d.malformed:
            io.sse(_broken(images_chunk))
        elif answer.images:
            io.sse(images_chunk)
        io.sse(
            _chunk(meta, {"role": "assistant", "content": ""}, "stop", answer.native, answer.usage)
        )
        io.sse("[DONE]")
        io.end_sse()
    except ClientGone:
        if not charged and answer.bills_on_cancel:
            answer.outcome = "cancelled"
            _record(ctx, answer, streamed=True, finish="cancelled", api_type="completions")
    return 200


# The server tool, for Chat Completions and the Responses API


def _run_tool(
    ctx: Context, tool: dict[str, Any], text: str, d: Directives
) -> tuple[dict[str, Any], Decimal, int]:
    """Generate the tool's image; (result, cost, images)."""
    parameters = tool.get("parameters") or {}
    image_model_id = parameters.get("model") or catalog_data.SERVER_TOOL_DEFAULT_MODEL
    image_model = ctx.state.catalog.image_model(str(image_model_id))
    if image_model is None:
        return {"status": "error", "error": f"Unknown image model {image_model_id}"}, Decimal(0), 0
    request = {"model": image_model_id, "prompt": text or "an image"}
    request |= {k: parameters[k] for k in TOOL_PASSTHROUGH if k in parameters}
    try:
        plan = plan_image_request(image_model, request)
    except ApiError as error:
        return {"status": "error", "error": error.message}, Decimal(0), 0
    if d.refuse:
        return (
            {"status": "error", "error": "Generation failed due to content policy"},
            REFUSAL_FEE,
            0,
        )
    rendered = render(plan, d, 0)
    ext = {"image/svg+xml": "svg", "image/jpeg": "jpeg", "image/webp": "webp"}.get(
        rendered.media_type, "png"
    )
    name = ctx.state.store_file(rendered.data, rendered.media_type, ext)
    bill = pricing.charge(image_model, plan.endpoint, _billables(plan, text, 1))
    url = f"{ctx.origin}/api/v1/__emulator__/files/{name}"
    return {"status": "ok", "imageUrl": url}, bill.cost, 1


def _tool_answer(
    ctx: Context,
    model: dict[str, Any],
    d: Directives,
    conversation: Conversation,
    tool: dict[str, Any],
    *,
    api: str,
) -> int:
    prices = model.get("models_pricing", {})
    _check_credit(
        ctx,
        ctx.body.get("max_tokens") or ctx.body.get("max_output_tokens"),
        prices.get("completion"),
    )
    provider = _provider_of(model)
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], provider)
    text = directives.strip(conversation.last_user)
    result, image_cost, count = _run_tool(ctx, tool, text, d)
    if result["status"] == "ok":
        content = f"Here is the image I generated for you.\n\n![{_alt(text)}]({result['imageUrl']})"
    else:
        content = f"I could not generate the image: {result['error']}"
    prompt_tokens = pricing.text_tokens(conversation.all_text) + TOOL_PROMPT_TOKENS
    completion_tokens = pricing.text_tokens(content) + TOOL_CALL_TOKENS
    cost = pricing.text_charge(prices, prompt_tokens, completion_tokens) + image_cost
    usage = _chat_usage(prompt_tokens, completion_tokens, cost)
    usage["server_tool_use"] = {"image_generation_requests": 1}
    answer = Answer(
        meta={
            "id": new_generation_id(),
            "provider": provider,
            "model": model["id"],
            "created": int(time.time()),
        },
        content=content,
        images=[],
        preview=None,
        usage=usage,
        cost=cost,
        native="stop",
        extra={"images": [], "server_tool_results": [{"type": TOOL_TYPE} | result]},
        prompt=text,
        image_count=count,
        outcome="ok" if result["status"] == "ok" else "tool_error",
        bills_on_cancel=False,
    )
    if api == "chat":
        return _send_chat(ctx, answer, d)
    return _send_response(ctx, answer, d, result)


def _alt(text: str) -> str:
    return re.sub(r"[\[\]()\n]", " ", text)[:80].strip() or "generated image"


# POST /responses


def _read_input(value: Any) -> Conversation:
    if isinstance(value, str):
        if not value.strip():
            raise ApiError(400, "'input' must not be empty")
        return Conversation(value, value, [])
    if not isinstance(value, list) or not value:
        raise ApiError(400, "'input' is required: a string or a non-empty list of items")
    last_user, texts = "", []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(400, "each input item must be an object")
        content = item.get("content")
        parts: list[str] = []
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                p["text"]
                for p in content
                if isinstance(p, dict)
                and p.get("type") in ("input_text", "text", "output_text")
                and isinstance(p.get("text"), str)
            )
        texts.extend(parts)
        if item.get("role") == "user":
            last_user = " ".join(parts)
    return Conversation(last_user, "\n".join(texts), [])


def responses(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    conversation = _read_input(body.get("input"))
    model = ctx.state.catalog.text_model(model_id) or ctx.state.catalog.image_model(model_id)
    if model is None:
        raise no_endpoints(f"No endpoints found for {model_id}.")
    require_modalities(model, ["text"], model_id)
    d = directives.parse(conversation.last_user)
    tool = _server_tool(body.get("tools"))
    if tool is not None:
        return _tool_answer(ctx, model, d, conversation, tool, api="responses")
    answer = _text_answer(ctx, model, d, conversation, body.get("max_output_tokens"))
    return _send_response(ctx, answer, d, None)


def _response_document(
    answer: Answer, tool_result: dict[str, Any] | None, status: str
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if tool_result is not None:
        output.append(
            {"type": "openrouter:image_generation_call", "id": f"igc_{secrets.token_hex(12)}"}
            | tool_result
        )
    output.append(
        {
            "type": "message",
            "id": f"msg_{secrets.token_hex(12)}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": answer.content, "annotations": []}],
        }
    )
    usage = answer.usage
    return {
        "id": answer.meta["id"],
        "object": "response",
        "created_at": answer.meta["created"],
        "model": answer.meta["model"],
        "provider": answer.meta["provider"],
        "status": status,
        "output": output if status == "completed" else [],
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "cost": usage["cost"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        | ({"server_tool_use": usage["server_tool_use"]} if "server_tool_use" in usage else {}),
    }


def _send_response(
    ctx: Context, answer: Answer, d: Directives, tool_result: dict[str, Any] | None
) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    if not ctx.body.get("stream"):
        io.wait(latency)
        if d.stream_error:
            raise failure(
                502,
                model=answer.meta["model"],
                provider_name=answer.meta["provider"],
                prompt=answer.prompt,
            )
        _record(ctx, answer, streamed=False, finish="stop", api_type="responses")
        return _deliver(ctx, _response_document(answer, tool_result, "completed"), d)
    document = _response_document(answer, tool_result, "completed")
    io.start_sse(d.stream_delay)
    charged = False
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        created = _response_document(answer, tool_result, "in_progress")
        io.sse({"type": "response.created", "response": created}, event="response.created")
        io.wait(latency)
        if d.stream_error:
            charged = True
            _record(ctx, answer, streamed=True, finish="error", api_type="responses")
            io.sse(
                {"type": "error", "code": "server_error", "message": "Provider returned error"},
                event="error",
            )
            io.end_sse()
            return 200
        charged = True
        _record(ctx, answer, streamed=True, finish="stop", api_type="responses")
        for index, item in enumerate(document["output"]):
            event = {"type": "response.output_item.done", "output_index": index, "item": item}
            if d.truncate and index == len(document["output"]) - 1:
                io.sse_cut(event)
                return 200
            io.sse(event, event="response.output_item.done")
        final = {"type": "response.completed", "response": document}
        io.sse(_broken(final) if d.malformed else final, event="response.completed")
        io.end_sse()
    except ClientGone:
        if not charged:
            return 200
    return 200
