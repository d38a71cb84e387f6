"""POST /images: exact request bodies, the response quirks, and SSE streaming."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from generation.openrouter import (
    Endpoint,
    ErrorKind,
    GeneratedImage,
    OpenRouterError,
    PartialImage,
    RequestInvalid,
)
from tests.openrouter.payloads import (
    API_KEY,
    FLUX_ENDPOINT,
    GPT_IMAGE_ENDPOINT,
    JPEG,
    PNG,
    REFERER,
    SVG,
    WEBP,
    b64,
    data_url,
    sse_body,
    sse_response,
)

USAGE = {"prompt_tokens": 0, "completion_tokens": 4175, "total_tokens": 4175, "cost": 0.04}
GPT_IMAGE = Endpoint.from_api(GPT_IMAGE_ENDPOINT)
FLUX = Endpoint.from_api(FLUX_ENDPOINT)


def sent_json(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_minimal_request_and_png_without_media_type(api, client):
    route = api.post("/images").respond(
        200, json={"created": 0, "data": [{"b64_json": b64(PNG)}], "usage": USAGE}
    )
    result = client.generate_image("bytedance-seed/seedream-4.5", "a red panda astronaut")

    request = route.calls.last.request
    assert str(request.url) == "https://openrouter.ai/api/v1/images"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["http-referer"] == REFERER
    assert request.headers["x-openrouter-title"] == "Darkroom"
    assert request.headers["content-type"] == "application/json"
    assert sent_json(route) == {
        "model": "bytedance-seed/seedream-4.5",
        "prompt": "a red panda astronaut",
    }
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.generation_id is None  # The Image API gives none.
    assert result.cost == Decimal("0.04")
    assert result.usage is not None
    assert result.usage.completion_tokens == 4175
    assert result.model == "bytedance-seed/seedream-4.5"


def test_svg_with_media_type(api, client):
    api.post("/images").respond(
        200,
        json={
            "created": 1748372400,
            "data": [{"b64_json": b64(SVG), "media_type": "image/svg+xml"}],
            "usage": USAGE,
        },
    )
    result = client.generate_image("recraft/recraft-v4-vector", "a fox logo")
    assert result.images == [GeneratedImage(SVG, "image/svg+xml")]


def test_media_type_absent_is_sniffed(api, client):
    api.post("/images").respond(
        200, json={"data": [{"b64_json": b64(WEBP)}, {"b64_json": b64(JPEG)}]}
    )
    result = client.generate_image("google/gemini-2.5-flash-image", "a cat", params={"n": 2})
    assert [image.media_type for image in result.images] == ["image/webp", "image/jpeg"]
    assert result.cost is None
    assert result.usage is None


def test_declared_webp_is_kept(api, client):
    api.post("/images").respond(
        200, json={"data": [{"b64_json": b64(WEBP), "media_type": "image/webp"}]}
    )
    (image,) = client.generate_image("x/y", "a cat").images
    assert image.media_type == "image/webp"


def test_n_is_an_upper_bound(api, client):
    route = api.post("/images").respond(
        200, json={"data": [{"b64_json": b64(PNG)}, {"b64_json": b64(PNG)}], "usage": USAGE}
    )
    result = client.generate_image(
        "openai/gpt-image-1", "a cute cat", params={"n": 4}, endpoint=GPT_IMAGE
    )
    assert sent_json(route)["n"] == 4
    assert len(result.images) == 2


def test_full_request_body_against_an_endpoint(api, client):
    route = api.post("/images").respond(200, json={"data": [{"b64_json": b64(PNG)}]})
    client.generate_image(
        "black-forest-labs/flux.2-pro",
        "a dramatic portrait",
        params={"resolution": "2K", "aspect_ratio": "16:9", "seed": 7, "output_format": "webp"},
        input_references=["https://example.com/photo.jpg", data_url(JPEG, "image/jpeg")],
        provider_options={"black-forest-labs": {"steps": 40, "guidance": 3}},
        endpoint=Endpoint.from_api(
            {
                **FLUX_ENDPOINT,
                "supported_parameters": {
                    **FLUX_ENDPOINT["supported_parameters"],
                    "input_references": {"type": "range", "min": 0, "max": 4},
                },
            }
        ),
    )
    assert sent_json(route) == {
        "model": "black-forest-labs/flux.2-pro",
        "prompt": "a dramatic portrait",
        "resolution": "2K",
        "aspect_ratio": "16:9",
        "seed": 7,
        "output_format": "webp",
        "input_references": [
            {"type": "image_url", "image_url": {"url": "https://example.com/photo.jpg"}},
            {"type": "image_url", "image_url": {"url": data_url(JPEG, "image/jpeg")}},
        ],
        "provider": {
            "options": {"black-forest-labs": {"steps": 40, "guidance": 3}},
            "order": ["black-forest-labs"],
            "allow_fallbacks": False,
        },
    }


def test_no_pinning_without_a_provider_tag_or_when_disabled(api, client):
    route = api.post("/images").respond(200, json={"data": [{"b64_json": b64(PNG)}]})
    untagged = Endpoint.from_api({**FLUX_ENDPOINT, "provider_tag": None})
    client.generate_image("black-forest-labs/flux.2-pro", "x", endpoint=untagged)
    assert "provider" not in sent_json(route)
    client.generate_image("black-forest-labs/flux.2-pro", "x", endpoint=FLUX, pin_provider=False)
    assert "provider" not in sent_json(route)


def test_invalid_request_is_not_sent(api, client):
    route = api.post("/images").respond(200, json={"data": []})
    with pytest.raises(RequestInvalid) as caught:
        client.generate_image(
            "black-forest-labs/flux.2-pro",
            "x",
            params={"output_format": "jpeg"},
            endpoint=FLUX,
        )
    assert caught.value.field == "output_format"
    assert str(caught.value) == (
        "output_format: 'jpeg' is not offered by this endpoint; choose one of png, webp"
    )
    assert not route.called


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_empty_prompt_is_rejected(api, client, prompt):
    with pytest.raises(RequestInvalid) as caught:
        client.generate_image("x/y", prompt)
    assert caught.value.field == "prompt"


def test_no_image_is_a_refusal_with_its_cost(api, client):
    api.post("/images").respond(200, json={"created": 0, "data": [], "usage": {"cost": 0}})
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "a cat")
    error = caught.value
    assert (error.kind, error.retryable, error.cost) == (ErrorKind.REFUSED, False, Decimal(0))
    assert not error.may_be_charged


def test_undecodable_base64_is_malformed(api, client):
    api.post("/images").respond(200, json={"data": [{"b64_json": "ab\u00e9c"}], "usage": USAGE})
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "a cat")
    error = caught.value
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.MALFORMED, False, True)
    assert error.cost == Decimal("0.04")


# Streaming

PARTIAL_0 = {
    "type": "image_generation.partial_image",
    "partial_image_index": 0,
    "b64_json": b64(JPEG),
}
PARTIAL_1 = {
    "type": "image_generation.partial_image",
    "partial_image_index": 1,
    "b64_json": b64(WEBP),
}
COMPLETED = {
    "type": "image_generation.completed",
    "b64_json": b64(PNG),
    "created": 1748372400,
    "usage": {"prompt_tokens": 16, "completion_tokens": 272, "total_tokens": 288, "cost": 0.011},
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_stream_with_partials(api, client, newline):
    body = sse_body(PARTIAL_0, PARTIAL_1, COMPLETED, newline=newline)
    route = api.post("/images").mock(return_value=sse_response(body))
    partials: list[PartialImage] = []
    result = client.generate_image(
        "openai/gpt-image-1",
        "a detailed landscape",
        stream=True,
        on_partial=partials.append,
        endpoint=GPT_IMAGE,
    )
    request = route.calls.last.request
    assert request.headers["accept"] == "text/event-stream"
    assert sent_json(route) == {
        "model": "openai/gpt-image-1",
        "prompt": "a detailed landscape",
        "provider": {"order": ["openai"], "allow_fallbacks": False},
        "stream": True,
    }
    assert partials == [PartialImage(0, JPEG, "image/jpeg"), PartialImage(1, WEBP, "image/webp")]
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert result.cost == Decimal("0.011")


def test_stream_of_several_images_adds_up_their_costs(api, client):
    svg_done = {**COMPLETED, "b64_json": b64(SVG), "media_type": "image/svg+xml"}
    api.post("/images").mock(return_value=sse_response(sse_body(COMPLETED, svg_done)))
    result = client.generate_image("x/y", "two", params={"n": 2}, stream=True)
    assert [image.media_type for image in result.images] == ["image/png", "image/svg+xml"]
    assert result.cost == Decimal("0.022")
    assert result.usage is not None
    assert result.usage.total_tokens == 576


def test_stream_not_requested_from_an_endpoint_without_streaming(api, client):
    route = api.post("/images").respond(200, json={"data": [{"b64_json": b64(PNG)}]})
    client.generate_image("black-forest-labs/flux.2-pro", "x", stream=True, endpoint=FLUX)
    assert "stream" not in sent_json(route)


def test_stream_answered_with_plain_json(api, client):
    api.post("/images").respond(200, json={"data": [{"b64_json": b64(PNG)}], "usage": USAGE})
    partials: list[PartialImage] = []
    result = client.generate_image("x/y", "x", stream=True, on_partial=partials.append)
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert partials == []


def test_stream_error_event(api, client):
    error = {"type": "error", "error": {"message": "Generation failed", "code": "server_error"}}
    api.post("/images").mock(return_value=sse_response(sse_body(PARTIAL_0, error)))
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "x", stream=True)
    error_raised = caught.value
    assert error_raised.kind is ErrorKind.STREAM_ERROR
    assert not error_raised.retryable
    assert (error_raised.message, error_raised.code) == ("Generation failed", "server_error")


def test_stream_ending_without_a_completed_image_is_interrupted(api, client):
    api.post("/images").mock(return_value=sse_response(sse_body(PARTIAL_0, done=False)))
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "x", stream=True)
    assert (caught.value.kind, caught.value.retryable) == (ErrorKind.INTERRUPTED, False)
    assert caught.value.may_be_charged


def test_stream_cut_inside_an_event_is_interrupted(api, client):
    body = sse_body(PARTIAL_0, COMPLETED, done=False)
    api.post("/images").mock(return_value=sse_response(body[: len(body) - 40]))
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "x", stream=True)
    assert caught.value.kind is ErrorKind.INTERRUPTED
    assert caught.value.may_be_charged


def test_completed_image_without_done_is_kept(api, client):
    api.post("/images").mock(return_value=sse_response(sse_body(COMPLETED, done=False)))
    result = client.generate_image("x/y", "x", stream=True)
    assert result.images == [GeneratedImage(PNG, "image/png")]


def test_progress_callback_can_cancel_the_stream(api, client):
    class Canceled(Exception):
        pass

    seen: list[int] = []

    def cancel(partial: PartialImage) -> None:
        seen.append(partial.index)
        raise Canceled

    api.post("/images").mock(return_value=sse_response(sse_body(PARTIAL_0, PARTIAL_1, COMPLETED)))
    with pytest.raises(Canceled):
        client.generate_image("x/y", "x", stream=True, on_partial=cancel)
    assert seen == [0]  # nothing read past the cancelling preview


def test_stream_broken_by_the_network_is_not_retryable(api, client):
    def chunks():
        yield sse_body(PARTIAL_0, done=False)
        raise httpx.ReadError("connection reset")

    api.post("/images").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=chunks()
        )
    )
    with pytest.raises(OpenRouterError) as caught:
        client.generate_image("x/y", "x", stream=True)
    assert (caught.value.kind, caught.value.retryable) == (ErrorKind.INTERRUPTED, False)
    assert caught.value.may_be_charged
