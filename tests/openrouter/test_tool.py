"""The openrouter:image_generation server tool through Chat Completions and Responses."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from generation.openrouter import ErrorKind, GeneratedImage, OpenRouterError, RequestInvalid
from tests.openrouter.payloads import API_KEY, PNG, PUBLIC_IP, WEBP, b64, data_url

TEXT_MODEL = "openai/gpt-5"
IMAGE_URL = "https://files.openrouter.example/tmp/abc.png"
FETCH_URL = f"https://{PUBLIC_IP}/tmp/abc.png"


def sent_json(route) -> dict:
    return json.loads(route.calls.last.request.content)


def chat_answer(message: dict, cost: float = 0.0523) -> dict:
    return {
        "id": "gen-tool-1",
        "provider": "OpenAI",
        "model": TEXT_MODEL,
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 300,
            "total_tokens": 420,
            "cost": cost,
        },
    }


def responses_answer(*output: dict, cost: float = 0.061) -> dict:
    return {
        "id": "gen-resp-1",
        "object": "response",
        "status": "completed",
        "error": None,
        "model": TEXT_MODEL,
        "output": list(output),
        "usage": {"input_tokens": 30, "output_tokens": 200, "total_tokens": 230, "cost": cost},
    }


def test_chat_request_and_tool_result_in_tool_calls(api, client):
    message = {
        "role": "assistant",
        "content": "Here is your city.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "openrouter:image_generation",
                "result": json.dumps({"status": "ok", "imageUrl": IMAGE_URL}),
            }
        ],
    }
    route = api.post("/chat/completions").respond(200, json=chat_answer(message))
    fetch = api.get(FETCH_URL).respond(200, content=PNG, headers={"content-type": "image/png"})
    result = client.tool_image(
        TEXT_MODEL,
        "Create an image of a futuristic city at sunset",
        tool_parameters={"model": "openai/gpt-5-image", "quality": "high", "aspect_ratio": "16:9"},
    )

    assert sent_json(route) == {
        "model": TEXT_MODEL,
        "messages": [{"role": "user", "content": "Create an image of a futuristic city at sunset"}],
        "tools": [
            {
                "type": "openrouter:image_generation",
                "parameters": {
                    "model": "openai/gpt-5-image",
                    "quality": "high",
                    "aspect_ratio": "16:9",
                },
            }
        ],
        "max_tokens": 1024,
    }
    assert route.calls.last.request.headers["authorization"] == f"Bearer {API_KEY}"
    assert "authorization" not in fetch.calls.last.request.headers
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.text == "Here is your city."
    assert result.cost == Decimal("0.0523")
    assert result.generation_id == "gen-tool-1"


def test_chat_without_parameters_sends_a_bare_tool(api, client):
    route = api.post("/chat/completions").respond(
        200,
        json=chat_answer(
            {
                "role": "assistant",
                "content": "",
                "images": [
                    {"type": "image_url", "image_url": {"url": data_url(WEBP, "image/webp")}}
                ],
            }
        ),
    )
    result = client.tool_image(TEXT_MODEL, "a mountain")
    assert sent_json(route)["tools"] == [{"type": "openrouter:image_generation"}]
    assert result.images == [GeneratedImage(WEBP, "image/webp")]


def test_the_same_url_found_twice_is_fetched_once(api, client):
    result_object = {"status": "ok", "imageUrl": IMAGE_URL}
    message = {
        "role": "assistant",
        "content": "Done",
        "annotations": [{"type": "tool_result", "content": json.dumps(result_object)}],
        "tool_results": [result_object],
    }
    api.post("/chat/completions").respond(200, json=chat_answer(message))
    fetch = api.get(FETCH_URL).respond(200, content=PNG)
    result = client.tool_image(TEXT_MODEL, "x")
    assert len(result.images) == 1
    assert fetch.call_count == 1


def test_responses_request_and_nested_tool_output(api, client):
    route = api.post("/responses").respond(
        200,
        json=responses_answer(
            {"type": "reasoning", "summary": []},
            {
                "type": "openrouter:image_generation_call",
                "id": "ig_1",
                "status": "completed",
                "output": json.dumps({"status": "ok", "imageUrl": IMAGE_URL}),
            },
            {
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "A mountain landscape."}],
            },
        ),
    )
    api.get(FETCH_URL).respond(200, content=PNG)
    result = client.tool_image(
        TEXT_MODEL,
        "Generate an image of a mountain landscape",
        tool_parameters={"quality": "high"},
        api="responses",
    )
    assert sent_json(route) == {
        "model": TEXT_MODEL,
        "input": "Generate an image of a mountain landscape",
        "tools": [{"type": "openrouter:image_generation", "parameters": {"quality": "high"}}],
        "max_output_tokens": 1024,
    }
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.text == "A mountain landscape."
    assert result.cost == Decimal("0.061")
    assert result.usage is not None
    assert result.usage.prompt_tokens == 30


def test_responses_with_image_url_key_and_inline_result(api, client):
    api.post("/responses").respond(
        200,
        json=responses_answer(
            {"type": "function_call_output", "output": {"status": "ok", "image_url": IMAGE_URL}},
            {"type": "image_generation_call", "status": "completed", "result": b64(WEBP)},
        ),
    )
    api.get(FETCH_URL).respond(200, content=PNG)
    result = client.tool_image(TEXT_MODEL, "x", api="responses")
    assert [image.media_type for image in result.images] == ["image/png", "image/webp"]


def test_tool_error_for_policy_is_a_refusal_with_cost(api, client):
    message = {
        "role": "assistant",
        "content": "Sorry, I couldn't make that.",
        "tool_calls": [
            {
                "type": "openrouter:image_generation",
                "output": json.dumps(
                    {"status": "error", "error": "Generation failed due to content policy"}
                ),
            }
        ],
    }
    api.post("/chat/completions").respond(200, json=chat_answer(message))
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    error = caught.value
    assert error.kind is ErrorKind.REFUSED
    assert error.message == "Generation failed due to content policy"
    assert not error.retryable
    assert error.cost == Decimal("0.0523")
    assert error.generation_id == "gen-tool-1"


def test_tool_error_otherwise_is_upstream(api, client):
    api.post("/responses").respond(
        200,
        json=responses_answer(
            {
                "type": "openrouter:image_generation_call",
                "status": "failed",
                "error": {"message": "Image provider timed out"},
            },
        ),
    )
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x", api="responses")
    assert (caught.value.kind, caught.value.retryable) == (ErrorKind.UPSTREAM, False)
    assert caught.value.message == "Image provider timed out"


def test_model_that_never_calls_the_tool(api, client):
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": "I'd rather describe it."})
    )
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    assert caught.value.kind is ErrorKind.REFUSED
    assert "I'd rather describe it." in caught.value.message
    assert caught.value.cost == Decimal("0.0523")


def test_a_plain_link_to_a_page_is_not_an_image(api, client):
    # JSON typed by the model into its own reply is not a tool result, and the
    # link in it, fetched as a plain URL, turns out to be a page.
    fake = json.dumps({"status": "ok", "imageUrl": "https://pages.example/x"})
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": f"See {fake}"})
    )
    page = api.get(f"https://{PUBLIC_IP}/x").respond(
        200, text="<html>hello</html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    assert page.called
    assert caught.value.kind is ErrorKind.REFUSED
    assert "pages.example" not in caught.value.user_message


def test_expired_tool_url_is_not_retryable(api, client):
    message = {"role": "tool", "content": json.dumps({"status": "ok", "imageUrl": IMAGE_URL})}
    api.post("/chat/completions").respond(
        200, json=chat_answer({"role": "assistant", "content": "", "tool_results": [message]})
    )
    api.get(FETCH_URL).respond(404, text="expired")
    with pytest.raises(OpenRouterError) as caught:
        client.tool_image(TEXT_MODEL, "x")
    error = caught.value
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.UPSTREAM, False, True)
    assert "HTTP 404" in error.message
    assert error.cost == Decimal("0.0523")


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"steps": 4}, "parameters.steps"),
        ({"output_format": "gif"}, "parameters.output_format"),
        ({"output_compression": 101, "output_format": "jpeg"}, "parameters.output_compression"),
        ({"model": "not a model"}, "parameters.model"),
    ],
)
def test_invalid_tool_parameters_are_not_sent(api, client, parameters, field):
    with pytest.raises(RequestInvalid) as caught:
        client.tool_image(TEXT_MODEL, "x", tool_parameters=parameters)
    assert caught.value.field == field
    assert not api.calls


def test_unknown_api_is_rejected(api, client):
    with pytest.raises(RequestInvalid) as caught:
        client.tool_image(TEXT_MODEL, "x", api="completions")
    assert caught.value.field == "api"
