"""Big images are decoded without needless copies (measured: a 30 MiB image
once peaked at five times its size). Peaks are measured with tracemalloc, in
multiples of the image size; the encoded body itself is 1.33 of them."""

from __future__ import annotations

import base64
import json
import os
import tracemalloc
from collections.abc import Callable

import httpx

from generation.openrouter import GenerationResult, OpenRouterClient

SIZE = 8 * 1024 * 1024
IMAGE = b"\x89PNG\r\n\x1a\n" + os.urandom(SIZE - 8)
ENCODED = base64.b64encode(IMAGE).decode()


def peak_multiple(call: Callable[[], GenerationResult]) -> float:
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.images[0].data == IMAGE
    return peak / SIZE


def test_image_api_body_is_dropped_before_decoding(api, client: OpenRouterClient):
    body = json.dumps({"data": [{"b64_json": ENCODED}], "usage": {"cost": 0.04}}).encode()
    api.post("/images").mock(
        side_effect=lambda request: httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )
    )
    # Text of the body and the parsed string coexist once; bytes are gone by then.
    assert peak_multiple(lambda: client.generate_image("a/b", "x")) < 3.0


def test_chat_data_url_is_sliced_once(api, client: OpenRouterClient):
    part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{ENCODED}"}}
    body = json.dumps(
        {"id": "gen-1", "choices": [{"finish_reason": "stop", "message": {"images": [part]}}]}
    ).encode()
    api.post("/chat/completions").mock(
        side_effect=lambda request: httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )
    )
    assert peak_multiple(lambda: client.chat_image("a/b", "x", output_modalities=["image"])) < 4.0
