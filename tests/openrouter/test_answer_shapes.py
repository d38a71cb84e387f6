"""Answers in every documented shape: tool images wherever they are put, preview
images kept out of results, both 402 wordings, safety refusals on a stream."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from PIL import Image

from generation.openrouter import ErrorKind, GeneratedImage, OpenRouterError, PartialImage
from generation.openrouter.answers import final_images
from tests.openrouter.payloads import PNG, PUBLIC_IP, b64, data_url, sse_body, sse_response

TEXT_MODEL = "openai/gpt-5"
GEMINI = "google/gemini-2.5-flash-image"
IMAGE_URL = "https://files.openrouter.example/tmp/abc.png"
FETCH_URL = f"https://{PUBLIC_IP}/tmp/abc.png"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def chat_answer(message: dict, cost: float = 0.0523) -> dict:
    return {
        "id": "gen-tool-1",
        "provider": "OpenAI",
        "model": TEXT_MODEL,
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 300, "cost": cost},
    }


def responses_answer(*output: dict) -> dict:
    return {
        "id": "gen-resp-1",
        "object": "response",
        "status": "completed",
        "output": list(output),
        "usage": {"input_tokens": 30, "output_tokens": 200, "cost": 0.061},
    }


# Server-tool images


@pytest.mark.parametrize(
    "content",
    [
        f"Here is the image I generated for you.\n\n![Generated image]({IMAGE_URL})",
        f'![a city at sunset](<{IMAGE_URL}> "the city")',
        f"Here is your image: {IMAGE_URL}.",
    ],
    ids=["markdown", "markdown-angle-title", "plain-url"],
)
def test_tool_image_in_the_assistants_text_is_fetched(api, client, content):
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": content})
    )
    fetch = api.get(FETCH_URL).respond(200, content=PNG, headers={"content-type": "image/png"})
    result = client.tool_image(TEXT_MODEL, "a city")
    assert fetch.call_count == 1
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.cost == Decimal("0.0523")
    assert result.generation_id == "gen-tool-1"


def test_structured_result_and_markdown_of_the_same_url_fetch_once(api, client):
    message = {
        "role": "assistant",
        "content": f"![Generated image]({IMAGE_URL})",
        "server_tool_results": [
            {"type": "openrouter:image_generation", "status": "ok", "imageUrl": IMAGE_URL}
        ],
    }
    api.post("/chat/completions").respond(200, json=chat_answer(message))
    fetch = api.get(FETCH_URL).respond(200, content=PNG)
    assert len(client.tool_image(TEXT_MODEL, "a city").images) == 1
    assert fetch.call_count == 1


@pytest.mark.parametrize(
    "item",
    [
        {"type": "openrouter:image_generation", "status": "completed", "imageUrl": IMAGE_URL},
        {"type": "openrouter:image_generation", "status": "completed", "result": IMAGE_URL},
        {"type": "openrouter:image_generation", "status": "ok", "imageB64": b64(PNG)},
    ],
    ids=["imageUrl", "result-url", "imageB64"],
)
def test_responses_tool_item_shapes(api, client, item):
    api.post("/responses").respond(200, json=responses_answer(item))
    api.get(FETCH_URL).respond(200, content=PNG, headers={"content-type": "image/png"})
    result = client.tool_image(TEXT_MODEL, "a mountain", api="responses")
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.cost == Decimal("0.061")


def test_responses_markdown_in_the_message_text(api, client):
    message = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": f"Done: ![Generated image]({IMAGE_URL})"}],
    }
    api.post("/responses").respond(200, json=responses_answer(message))
    api.get(FETCH_URL).respond(200, content=PNG)
    assert client.tool_image(TEXT_MODEL, "x", api="responses").images


@pytest.mark.parametrize("status", [404, 410])
def test_expired_tool_image_keeps_the_cost_and_hides_the_url(api, client, status):
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": f"![Generated image]({IMAGE_URL})"})
    )
    api.get(FETCH_URL).respond(status, text="gone")
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    error = caught.value
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.UPSTREAM, False, True)
    assert (error.cost, error.generation_id) == (Decimal("0.0523"), "gen-tool-1")
    for text in (error.message, error.user_message, str(error)):
        assert "files.openrouter.example" not in text
        assert "/tmp/abc.png" not in text
    assert "expired" in error.user_message


def test_unreadable_tool_image_keeps_the_cost(api, client):
    item = {"type": "openrouter:image_generation", "status": "ok", "imageB64": "@" * 100}
    api.post("/responses").respond(200, json=responses_answer(item))
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x", api="responses")
    assert (caught.value.kind, caught.value.cost) == (ErrorKind.MALFORMED, Decimal("0.061"))
    assert caught.value.generation_id == "gen-resp-1"


# Preview images


def test_final_images_drop_a_smaller_image_of_the_same_shape():
    preview, final = (
        GeneratedImage(png(64, 48), "image/png"),
        GeneratedImage(png(128, 96), "image/png"),
    )
    other = GeneratedImage(png(50, 100), "image/png")
    assert final_images([preview, final]) == [final]
    assert final_images([final, preview]) == [final, preview]  # a later smaller one is kept
    assert final_images([other, final]) == [other, final]  # another shape is another image
    twins = [GeneratedImage(png(64, 48), "image/png"), GeneratedImage(png(64, 48), "image/png")]
    assert final_images(twins) == twins
    svg = GeneratedImage(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    assert final_images([svg, final]) == [svg, final]


def chunk(delta: dict, finish: str | None = None, native: str | None = None, **extra) -> dict:
    return {
        "id": "gen-stream-1",
        "provider": "Google",
        "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": native}
        ],
        **extra,
    }


def image_part(data: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": data_url(data, "image/png")}}


def test_streamed_preview_goes_only_to_on_partial(api, client):
    small, large = png(64, 48), png(128, 96)
    body = sse_body(
        chunk({"images": [image_part(small)]}),
        chunk({"images": [image_part(large)]}),
        chunk({}, finish="stop", native="STOP", usage={"cost": 0.039}),
    )
    api.post("/chat/completions").mock(return_value=sse_response(body))
    partials: list[PartialImage] = []
    result = client.chat_image(
        GEMINI, "x", output_modalities=["image"], stream=True, on_partial=partials.append
    )
    assert [partial.data for partial in partials] == [small, large]
    assert result.images == [GeneratedImage(large, "image/png")]


def test_whole_answer_preview_is_not_a_result(api, client):
    small, large = png(32, 32), png(96, 96)
    answer = {
        "id": "gen-1",
        "choices": [
            {
                "finish_reason": "stop",
                "message": {"content": "", "images": [image_part(small), image_part(large)]},
            }
        ],
        "usage": {"cost": 0.039},
    }
    api.post("/chat/completions").respond(200, json=answer)
    result = client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert result.images == [GeneratedImage(large, "image/png")]


# 402: the account's credits or the key's limit


@pytest.mark.parametrize(
    ("status", "message", "scope"),
    [
        (
            402,
            "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
            "account",
        ),
        (
            402,
            "This request requires more credits, or fewer max_tokens. You requested up to 1024 "
            "tokens, but can only afford 12. To increase, visit https://openrouter.ai/settings/"
            "credits and upgrade to a paid account",
            "account",
        ),
        (
            402,
            "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys",
            "key",
        ),
        (
            402,
            "This request requires more credits, or fewer max_tokens. You requested up to 1024 "
            "tokens, but can only afford 0. To increase, visit https://openrouter.ai/settings/keys "
            "and create a key with a higher monthly limit",
            "key",
        ),
        (403, "Key limit exceeded. Manage it using https://openrouter.ai/keys", "key"),
    ],
)
def test_credits_error_says_which_limit_ran_out(api, client, status, message, scope):
    api.post("/images").respond(status, json={"error": {"code": status, "message": message}})
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("openai/gpt-image-1", "x")
    error = caught.value
    assert (error.kind, error.credits_scope, error.retryable) == (ErrorKind.CREDITS, scope, False)
    if scope == "key":
        assert "key's limit" in error.user_message
    else:
        assert "out of credits" in error.user_message
        assert "top up" in error.user_message
    assert "ask an admin" in error.user_message.lower()
    assert "https://" not in error.user_message


# Safety refusals on a stream


def test_error_chunk_with_a_safety_code_is_a_refusal(api, client):
    error_chunk = chunk({"content": ""}, finish="error") | {
        "error": {"code": "content_policy_violation", "message": "Your request was rejected"},
        "usage": {"cost": 0.0002},
    }
    api.post("/chat/completions").mock(return_value=sse_response(sse_body(error_chunk)))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    error = caught.value
    assert (error.kind, error.cost, error.generation_id) == (
        ErrorKind.REFUSED,
        Decimal("0.0002"),
        "gen-stream-1",
    )
    assert "part-way" not in error.user_message


def test_error_finish_with_a_safety_native_reason_is_a_refusal(api, client):
    body = sse_body(
        chunk({"content": ""}, finish="error", native="IMAGE_SAFETY")
        | {"error": {"code": 502, "message": "Provider returned error"}}
    )
    api.post("/chat/completions").mock(return_value=sse_response(body))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert caught.value.kind is ErrorKind.REFUSED
    assert "IMAGE_SAFETY" in caught.value.user_message


def test_image_api_error_event_with_a_safety_code_is_a_refusal(api, client):
    event = {
        "type": "error",
        "error": {"message": "Refused (IMAGE_SAFETY)", "code": "content_policy_violation"},
    }
    api.post("/images").mock(return_value=sse_response(sse_body(event)))
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("openai/gpt-image-1", "x", stream=True)
    assert caught.value.kind is ErrorKind.REFUSED
    assert caught.value.may_be_charged


def test_connection_refused_in_an_error_message_is_not_a_refusal(api, client):
    error_chunk = chunk({"content": ""}, finish="error") | {
        "error": {"code": 502, "message": "upstream connect error: connection refused"}
    }
    api.post("/chat/completions").mock(return_value=sse_response(sse_body(error_chunk)))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert caught.value.kind is ErrorKind.STREAM_ERROR


def test_tool_error_json_string_still_found(api, client):
    message = {
        "role": "tool",
        "content": json.dumps(
            {"status": "error", "error": "Generation failed due to content policy"}
        ),
    }
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": "", "tool_results": [message]})
    )
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    assert caught.value.kind is ErrorKind.REFUSED
    assert caught.value.user_message.endswith(".")
