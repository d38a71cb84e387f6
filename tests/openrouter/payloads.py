"""Recorded-shape OpenRouter payloads and small real images for the client tests.

Shapes follow OpenRouter's documents and recorded answers, quirks included: no generation id
on /images, ``created: 0``, ``media_type`` absent or not PNG, ``cost_usd`` in
exponent notation, /models pricing with only some keys.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
from PIL import Image

API_KEY = "sk-or-v1-0123456789abcdef0123456789abcdef"
BASE_URL = "https://openrouter.ai/api/v1"
REFERER = "https://darkroom.example"
# What the injected resolver answers for every image host (a public address).
PUBLIC_IP = "93.184.215.14"


def _image(fmt: str, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = _image("PNG", (200, 30, 30))
JPEG = _image("JPEG", (30, 200, 30))
WEBP = _image("WEBP", (30, 30, 200))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3"/></svg>'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{b64(data)}"


def sse_body(*events: dict[str, Any] | str, done: bool = True, newline: str = "\n") -> bytes:
    """An OpenRouter-style SSE body: a keep-alive comment, the events, ``[DONE]``."""
    lines = [": OPENROUTER PROCESSING", ""]
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        lines += [f"data: {data}", ""]
    if done:
        lines += ["data: [DONE]", ""]
    return (newline.join(lines) + newline).encode()


def sse_response(body: bytes, chunk: int = 7) -> httpx.Response:
    """A streamed response delivering ``body`` in small chunks, splitting lines."""
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))


SEEDREAM_MODEL: dict[str, Any] = {
    "id": "bytedance-seed/seedream-4.5",
    "name": "Seedream 4.5",
    "description": "A text-to-image model.",
    "created": 1692901234,
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
    "supported_parameters": {
        "resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
        "seed": {"type": "boolean"},
    },
    "supports_streaming": False,
    "endpoints": "/api/v1/images/models/bytedance-seed/seedream-4.5/endpoints",
}

# Written as text so that cost_usd keeps its exponent notation on the wire.
SEEDREAM_ENDPOINTS_JSON = """{
  "id": "bytedance-seed/seedream-4.5",
  "endpoints": [
    {
      "provider_name": "Bytedance",
      "provider_slug": "bytedance",
      "provider_tag": "bytedance",
      "supported_parameters": {
        "resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
        "seed": {"type": "boolean"}
      },
      "allowed_passthrough_parameters": [],
      "supports_streaming": false,
      "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.05}]
    },
    {
      "provider_name": "Fal",
      "provider_slug": "fal",
      "provider_tag": null,
      "supported_parameters": {},
      "allowed_passthrough_parameters": ["steps"],
      "supports_streaming": true,
      "pricing": [
        {"billable": "input_text", "unit": "token", "cost_usd": 3e-05},
        {"billable": "output_image", "unit": "megapixel", "cost_usd": 0.04, "variant": "4k"},
        {"billable": "output_image", "unit": "image"}
      ]
    },
    {"provider_name": "No slug"}
  ]
}"""

GPT_IMAGE_ENDPOINT: dict[str, Any] = {
    "provider_name": "OpenAI",
    "provider_slug": "openai",
    "provider_tag": "openai",
    "supported_parameters": {
        "n": {"type": "range", "min": 1, "max": 10},
        "quality": {"type": "enum", "values": ["auto", "low", "medium", "high"]},
        "size": {"type": "boolean"},
        "aspect_ratio": {"type": "enum", "values": ["1:1", "3:2", "2:3", "auto"]},
        "output_format": {"type": "enum", "values": ["png", "webp", "jpeg"]},
        "background": {"type": "enum", "values": ["auto", "transparent", "opaque"]},
        "output_compression": {"type": "range", "min": 0, "max": 100},
        "input_references": {"type": "range", "min": 0, "max": 2},
    },
    "allowed_passthrough_parameters": ["moderation", "user"],
    "supports_streaming": True,
    "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.011}],
}

FLUX_ENDPOINT: dict[str, Any] = {
    "provider_name": "Black Forest Labs",
    "provider_slug": "black-forest-labs",
    "provider_tag": "black-forest-labs",
    "supported_parameters": {
        "resolution": {"type": "enum", "values": ["1K", "2K"]},
        "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9", "9:16", "4:3"]},
        "seed": {"type": "boolean"},
        "output_format": {"type": "enum", "values": ["png", "webp"]},
    },
    "allowed_passthrough_parameters": ["steps", "guidance"],
    "supports_streaming": False,
    "pricing": [{"billable": "output_image", "unit": "megapixel", "cost_usd": 0.03}],
}

MODELS_PAGE: dict[str, Any] = {
    "data": [
        {
            "id": "google/gemini-2.5-flash-image",
            "canonical_slug": "google/gemini-2.5-flash-image",
            "name": "Google: Nano Banana",
            "created": 1756218977,
            "description": "Gemini 2.5 Flash Image.",
            "context_length": 32768,
            "architecture": {
                "modality": "text+image->text+image",
                "input_modalities": ["image", "text"],
                "output_modalities": ["image", "text"],
            },
            "pricing": {
                "prompt": "0.0000003",
                "completion": "0.0000025",
                "image": "0.001238",
                "image_output": "0.00003",
                "discount": 0,
            },
            "supported_parameters": ["max_tokens", "temperature"],
        },
        {
            "id": "black-forest-labs/flux.2-pro",
            "name": "FLUX.2 Pro",
            "created": 0,
            "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
            "pricing": {"prompt": "0", "completion": "0", "web_search": "bogus"},
        },
    ]
}
