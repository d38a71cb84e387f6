"""Answers lost after OpenRouter accepted the request: every error says it may
have been charged and carries the generation id and any cost that arrived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from generation.openrouter import ErrorKind, OpenRouterError
from tests.openrouter.payloads import PNG, b64, data_url, sse_body

GEMINI = "google/gemini-2.5-flash-image"
HEADER_ID = "gen-from-the-header"


def cut(body: bytes, error: Exception, *, content_type: str) -> httpx.Response:
    """A 200 answer that delivers half of ``body`` and then fails with ``error``."""

    def chunks() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        raise error

    return httpx.Response(
        200,
        headers={"content-type": content_type, "x-generation-id": HEADER_ID},
        content=chunks(),
    )


def whole_chat() -> bytes:
    image = {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}}
    return json.dumps(
        {
            "id": HEADER_ID,
            "choices": [{"finish_reason": "stop", "message": {"content": "", "images": [image]}}],
            "usage": {"cost": 0.039},
        }
    ).encode()


def chunk(delta: dict, **extra: object) -> dict:
    return {"id": "gen-in-the-chunk", "choices": [{"index": 0, "delta": delta}], **extra}


def assert_interrupted(error: OpenRouterError) -> None:
    assert (error.kind, error.retryable, error.may_be_charged) == (
        ErrorKind.INTERRUPTED,
        False,
        True,
    )
    text = error.user_message
    assert "cut off" in text
    assert "may have been charged" in text
    assert "do not simply try again" in text
    assert "Could not reach" not in text


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset by peer"),
        httpx.ReadTimeout("timed out"),
    ],
    ids=["truncated", "dropped", "read-timeout"],
)
def test_cut_off_whole_chat_answer_keeps_the_header_id(api, client, failure):
    api.post("/chat/completions").mock(
        return_value=cut(whole_chat(), failure, content_type="application/json")
    )
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert_interrupted(caught.value)
    assert caught.value.generation_id == HEADER_ID


def test_cut_off_stream_keeps_the_id_and_cost_of_chunks_read(api, client):
    body = sse_body(
        chunk({"content": "Drawing"}, usage={"cost": 0.0123}), chunk({"content": "…"}), done=False
    )

    def chunks() -> Iterator[bytes]:
        yield body
        raise httpx.RemoteProtocolError("incomplete chunked read")

    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=chunks()
        )
    )
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    error = caught.value
    assert_interrupted(error)
    assert (error.generation_id, error.cost) == ("gen-in-the-chunk", Decimal("0.0123"))


def test_unreadable_json_is_malformed_and_may_be_charged(api, client):
    api.post("/chat/completions").respond(
        200, content=whole_chat()[:-30], headers={"x-generation-id": HEADER_ID}
    )
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    error = caught.value
    assert (error.kind, error.may_be_charged, error.generation_id) == (
        ErrorKind.MALFORMED,
        True,
        HEADER_ID,
    )
    assert error.user_message == (
        "OpenRouter sent an answer we could not read. "
        "It may have been charged, so do not simply try again."
    )


def test_cut_off_responses_answer_keeps_the_header_id(api, client):
    body = json.dumps({"id": HEADER_ID, "output": [], "usage": {"cost": 0.05}}).encode()
    api.post("/responses").mock(
        return_value=cut(body, httpx.RemoteProtocolError("cut"), content_type="application/json")
    )
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image("openai/gpt-5", "x", api="responses")
    assert_interrupted(caught.value)
    assert caught.value.generation_id == HEADER_ID


def test_cut_off_image_api_answer_may_be_charged_without_an_id(api, client):
    body = json.dumps({"data": [{"b64_json": b64(PNG)}], "usage": {"cost": 0.04}}).encode()

    def chunks() -> Iterator[bytes]:
        yield body[:20]
        raise httpx.RemoteProtocolError("cut")

    api.post("/images").mock(return_value=httpx.Response(200, content=chunks()))
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("openai/gpt-image-1", "x")
    assert_interrupted(caught.value)
    assert caught.value.generation_id is None


def test_stream_error_after_usage_arrived_keeps_that_cost(api, client):
    body = sse_body(
        chunk({"content": ""}, usage={"cost": 0.0311}),
        chunk({"content": ""}) | {"error": {"code": 502, "message": "Provider returned error"}},
    )
    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body
        )
    )
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    error = caught.value
    assert (error.kind, error.cost, error.generation_id) == (
        ErrorKind.STREAM_ERROR,
        Decimal("0.0311"),
        "gen-in-the-chunk",
    )
    assert error.may_be_charged


def test_unreadable_image_keeps_the_cost(api, client):
    broken = {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
    answer = {
        "id": "gen-1",
        "choices": [{"finish_reason": "stop", "message": {"content": "", "images": [broken]}}],
        "usage": {"cost": 0.039},
    }
    api.post("/chat/completions").respond(200, json=answer)
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert (caught.value.kind, caught.value.cost, caught.value.generation_id) == (
        ErrorKind.MALFORMED,
        Decimal("0.039"),
        "gen-1",
    )


@pytest.mark.parametrize(
    ("usage", "cost"), [({"cost": 0.021}, Decimal("0.021")), (None, None)], ids=["cost", "no-usage"]
)
def test_image_api_stream_error_may_be_charged_even_without_partials(api, client, usage, cost):
    event: dict = {
        "type": "error",
        "error": {"message": "Generation failed", "code": "server_error"},
    }
    if usage:
        event["usage"] = usage
    api.post("/images").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse_body(event)
        )
    )
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("openai/gpt-image-1", "x", stream=True)
    error = caught.value
    assert (error.kind, error.may_be_charged, error.cost) == (ErrorKind.STREAM_ERROR, True, cost)


def test_a_reported_cost_of_zero_is_not_charged(api, client):
    answer = {
        "id": "gen-1",
        "choices": [{"finish_reason": "stop", "message": {"content": ""}}],
        "usage": {"cost": 0},
    }
    api.post("/chat/completions").respond(200, json=answer)
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert (caught.value.kind, caught.value.may_be_charged) == (ErrorKind.REFUSED, False)
    assert "charged" not in caught.value.user_message


def test_the_generation_id_is_announced_before_the_body_is_read(api, client):
    """The header's id reaches ``on_generation_id`` before the (cut-off) body:
    a caller killed mid-answer has already kept it."""
    seen: list[str] = []
    read: list[str] = []

    def chunks() -> Iterator[bytes]:
        read.append("body")
        yield whole_chat()[:40]
        raise httpx.RemoteProtocolError("cut")

    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            200,
            headers={"content-type": "application/json", "x-generation-id": HEADER_ID},
            content=chunks(),
        )
    )
    client.on_generation_id = lambda gen_id: seen.append(f"{gen_id} after {len(read)} reads")
    with pytest.raises(OpenRouterError):
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert seen == [f"{HEADER_ID} after 0 reads"]


def test_a_streams_first_chunk_id_is_announced_once(api, client):
    """No header: the first chunk's id is announced, once, however many chunks repeat it."""
    image = {"type": "image_url", "image_url": {"url": data_url(PNG, "image/png")}}
    body = sse_body(
        chunk({"content": "Drawing"}),
        chunk({"images": [image]}),
        {**chunk({}), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body
        )
    )
    seen: list[str] = []
    client.on_generation_id = seen.append
    result = client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert seen == ["gen-in-the-chunk"]
    assert result.generation_id == "gen-in-the-chunk"
