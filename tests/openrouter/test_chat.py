"""Chat Completions image generation: request shape, image parts, refusals, streaming."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from generation.openrouter import (
    ErrorKind,
    GeneratedImage,
    OpenRouterClient,
    OpenRouterError,
    PartialImage,
    RequestInvalid,
)
from tests.openrouter.payloads import (
    API_KEY,
    JPEG,
    PNG,
    PUBLIC_IP,
    REFERER,
    WEBP,
    data_url,
    sse_body,
    sse_response,
)

GEMINI = "google/gemini-2.5-flash-image"
FLUX = "black-forest-labs/flux.2-pro"


def image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def completion(*images: str, content: str = "Here you go.", **extra: object) -> dict:
    return {
        "id": "gen-1760000000-abc",
        "provider": "Google",
        "model": GEMINI,
        "object": "chat.completion",
        "created": 1760000000,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "native_finish_reason": "STOP",
                "message": {
                    "role": "assistant",
                    "content": content,
                    "images": [image_part(url) for url in images],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 9,
            "completion_tokens": 1300,
            "total_tokens": 1309,
            "cost": 0.0387,
        },
        **extra,
    }


def sent_json(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_request_for_a_text_and_image_model(api, client):
    route = api.post("/chat/completions").respond(200, json=completion(data_url(PNG, "image/png")))
    client.chat_image(
        GEMINI,
        "Generate a sunset over mountains",
        output_modalities=["image", "text"],
        image_config={"aspect_ratio": "16:9", "image_size": "2K"},
    )
    request = route.calls.last.request
    assert str(request.url) == "https://openrouter.ai/api/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["http-referer"] == REFERER
    assert request.headers["x-title"] == "Darkroom"
    assert sent_json(route) == {
        "model": GEMINI,
        "messages": [{"role": "user", "content": "Generate a sunset over mountains"}],
        "modalities": ["image", "text"],
        "max_tokens": 1024,
        "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
    }


def test_request_for_an_image_only_model_with_input_images(api, client):
    route = api.post("/chat/completions").respond(
        200, json=completion(data_url(PNG, "image/png"), content="")
    )
    inputs = ["https://example.com/in.jpg", data_url(JPEG, "image/jpeg")]
    client.chat_image(
        FLUX, "make it watercolour", output_modalities=["image"], input_images=inputs, max_tokens=64
    )
    assert sent_json(route) == {
        "model": FLUX,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "make it watercolour"},
                    image_part(inputs[0]),
                    image_part(inputs[1]),
                ],
            }
        ],
        # ["image", "text"] would 404 on an image-only model.
        "modalities": ["image"],
        "max_tokens": 64,
    }


def test_model_without_image_output_is_rejected(api, client):
    with pytest.raises(RequestInvalid) as caught:
        client.chat_image("openai/gpt-4o", "x", output_modalities=["text"])
    assert caught.value.field == "model"
    assert not api.calls


def test_bad_input_image_is_rejected(api, client):
    with pytest.raises(RequestInvalid) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], input_images=["ftp://x/y"])
    assert caught.value.field == "input_images[0]"


def test_image_config_is_validated_for_the_model(api, client):
    with pytest.raises(RequestInvalid) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], image_config={"style": "any"})
    assert caught.value.field == "image_config.style"
    assert not api.calls


def test_several_images_in_several_formats(api, client):
    api.post("/chat/completions").respond(
        200,
        json=completion(
            data_url(PNG, "image/png"), data_url(JPEG, "image/jpeg"), data_url(WEBP, "image/webp")
        ),
    )
    result = client.chat_image(GEMINI, "three", output_modalities=["image", "text"])
    assert result.images == [
        GeneratedImage(PNG, "image/png"),
        GeneratedImage(JPEG, "image/jpeg"),
        GeneratedImage(WEBP, "image/webp"),
    ]
    assert result.text == "Here you go."
    assert result.generation_id == "gen-1760000000-abc"
    assert (result.provider, result.model) == ("Google", GEMINI)
    assert (result.finish_reasons, result.native_finish_reasons) == (["stop"], ["STOP"])
    assert result.cost == Decimal("0.0387")


def test_mislabelled_data_url_is_sniffed(api, client):
    api.post("/chat/completions").respond(200, json=completion(data_url(JPEG, "image/png")))
    (image,) = client.chat_image(GEMINI, "x", output_modalities=["image"]).images
    assert image.media_type == "image/jpeg"


def test_https_image_is_fetched_without_the_key(api, client):
    image_url = "https://cdn.example.com/img/abc.webp?sig=1"
    api.post("/chat/completions").respond(200, json=completion(image_url))
    fetch = api.get(f"https://{PUBLIC_IP}/img/abc.webp", params={"sig": "1"}).respond(
        200, content=WEBP, headers={"content-type": "image/webp"}
    )
    result = client.chat_image(GEMINI, "x", output_modalities=["image", "text"])

    assert result.images == [GeneratedImage(WEBP, "image/webp")]
    request = fetch.calls.last.request
    # Pinned to the address that was checked, with the real host for TLS and routing.
    assert request.headers["host"] == "cdn.example.com"
    assert request.extensions["sni_hostname"] == "cdn.example.com"
    assert "authorization" not in request.headers
    assert "http-referer" not in request.headers
    assert API_KEY not in str(request.headers)


def test_image_url_on_a_private_address_is_refused(api):
    private = OpenRouterClient(API_KEY, resolver=lambda host, port: ["10.0.0.7"])
    api.post("/chat/completions").respond(
        200, json=completion("https://internal.example/secret.png")
    )
    with private, pytest.raises(OpenRouterError) as caught:
        private.chat_image(GEMINI, "x", output_modalities=["image"])
    error = caught.value
    assert (error.kind, error.retryable, error.may_be_charged) == (ErrorKind.UPSTREAM, False, True)
    assert error.cost == Decimal("0.0387")
    assert error.generation_id == "gen-1760000000-abc"


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://127.0.0.1/a.png", None),  # an address literal, checked as is
        ("https://[::1]/a.png", None),
        ("https://cdn.example.com/a.png", ["::ffff:10.1.2.3"]),  # IPv4-mapped private
        ("https://cdn.example.com/a.png", [PUBLIC_IP, "169.254.169.254"]),  # any private one
    ],
)
def test_private_addresses_in_every_spelling_are_refused(api, url, addresses):
    resolver = None if addresses is None else (lambda host, port: addresses)
    api.post("/chat/completions").respond(200, json=completion(url))
    with OpenRouterClient(API_KEY, resolver=resolver) as checked, pytest.raises(OpenRouterError):
        checked.chat_image(GEMINI, "x", output_modalities=["image"])
    assert len(api.calls) == 1  # nothing was fetched


def test_plain_http_image_url_off_the_api_host_is_refused(api, client):
    api.post("/chat/completions").respond(200, json=completion("http://cdn.example.com/a.png"))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert "https" in caught.value.message


def test_image_url_on_the_api_host_is_trusted():
    base = "http://127.0.0.1:8765/api/v1"  # the offline emulator
    with respx.mock(base_url=base) as router:
        router.post("/chat/completions").respond(
            200, json=completion("http://127.0.0.1:8765/files/abc.png")
        )
        fetch = router.get("http://127.0.0.1:8765/files/abc.png").respond(200, content=PNG)

        def no_dns(host: str, port: int) -> list[str]:
            raise AssertionError("the API host needs no address check")

        with OpenRouterClient("sk-or-emulator", base_url=base, resolver=no_dns) as local:
            result = local.chat_image(GEMINI, "x", output_modalities=["image"])
    assert result.images == [GeneratedImage(PNG, "image/png")]
    assert "authorization" not in fetch.calls.last.request.headers


def test_fetched_image_over_the_cap_is_refused(api):
    api.post("/chat/completions").respond(200, json=completion("https://cdn.example.com/big.png"))
    api.get(f"https://{PUBLIC_IP}/big.png").respond(200, content=PNG * 100)
    capped = OpenRouterClient(
        API_KEY, max_response_bytes=len(PNG) * 10, resolver=lambda host, port: [PUBLIC_IP]
    )
    with capped, pytest.raises(OpenRouterError) as caught:
        capped.chat_image(GEMINI, "x", output_modalities=["image"])
    assert caught.value.kind is ErrorKind.UPSTREAM
    assert "exceeds" in caught.value.message


def test_fetch_does_not_follow_redirects(api, client):
    api.post("/chat/completions").respond(200, json=completion("https://cdn.example.com/a.png"))
    fetch = api.get(f"https://{PUBLIC_IP}/a.png").respond(
        302, headers={"Location": "http://169.254.169.254/latest"}
    )
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert "HTTP 302" in caught.value.message
    assert fetch.call_count == 1


def test_safety_refusal_is_a_failed_job_with_its_cost(api, client):
    refusal = completion(content="")
    refusal["choices"][0].update(finish_reason="stop", native_finish_reason="IMAGE_SAFETY")
    refusal["usage"]["cost"] = 0.000012
    api.post("/chat/completions").respond(200, json=refusal)
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "something forbidden", output_modalities=["image", "text"])
    error = caught.value
    assert error.kind is ErrorKind.REFUSED
    assert not error.retryable
    assert error.user_message == (
        "The model did not produce an image: blocked by the provider's safety filter (IMAGE_SAFETY)."
    )
    assert error.code == "IMAGE_SAFETY"
    assert error.cost == Decimal("0.000012")
    assert error.may_be_charged
    assert error.generation_id == "gen-1760000000-abc"
    assert error.provider == "Google"


def test_refusal_quotes_what_the_model_said(api, client):
    answer = completion(content="I can't create that image.")
    answer["choices"][0]["message"].pop("images")
    api.post("/chat/completions").respond(200, json=answer)
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image", "text"])
    assert "I can't create that image." in caught.value.message


def test_error_finish_without_images_is_a_stream_error(api, client):
    answer = completion()
    answer["choices"][0]["finish_reason"] = "error"
    answer["error"] = {"code": 502, "message": "Provider disconnected"}
    api.post("/chat/completions").respond(200, json=answer)
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert caught.value.kind is ErrorKind.STREAM_ERROR
    assert caught.value.message == "Provider disconnected"


# Streaming


def chunk(delta: dict, *, finish: str | None = None, native: str | None = None, **extra) -> dict:
    return {
        "id": "gen-stream-1",
        "provider": "Google",
        "model": GEMINI,
        "object": "chat.completion.chunk",
        "choices": [
            {"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": native}
        ],
        **extra,
    }


USAGE = {"prompt_tokens": 9, "completion_tokens": 2600, "total_tokens": 2609, "cost": 0.0774}


def test_stream_preview_then_final(api, client):
    body = sse_body(
        chunk({"role": "assistant", "content": "Here "}),
        chunk({"content": "it is."}),
        chunk({"images": [image_part(data_url(JPEG, "image/jpeg"))]}),
        chunk({"images": [image_part(data_url(PNG, "image/png"))]}),
        chunk({}, finish="stop", native="STOP"),
        chunk({}, usage=USAGE) | {"choices": []},
        newline="\r\n",
    )
    route = api.post("/chat/completions").mock(return_value=sse_response(body, chunk=5))
    partials: list[PartialImage] = []
    result = client.chat_image(
        GEMINI, "x", output_modalities=["image", "text"], stream=True, on_partial=partials.append
    )
    assert sent_json(route)["stream"] is True
    assert route.calls.last.request.headers["accept"] == "text/event-stream"
    assert partials == [PartialImage(0, JPEG, "image/jpeg"), PartialImage(1, PNG, "image/png")]
    assert result.images == [GeneratedImage(JPEG, "image/jpeg"), GeneratedImage(PNG, "image/png")]
    assert result.text == "Here it is."
    assert result.generation_id == "gen-stream-1"
    assert result.native_finish_reasons == ["STOP"]
    assert result.cost == Decimal("0.0774")


def test_stream_and_whole_answer_give_the_same_images(api, client):
    url = data_url(PNG, "image/png")
    api.post("/chat/completions").mock(
        side_effect=[
            sse_response(sse_body(chunk({"images": [image_part(url)]}, finish="stop"))),
            httpx.Response(200, json=completion(url)),
        ]
    )
    streamed = client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    whole = client.chat_image(GEMINI, "x", output_modalities=["image"])
    assert streamed.images == whole.images


def test_stream_refusal_carries_cost(api, client):
    body = sse_body(
        chunk({"content": ""}, finish="stop", native="IMAGE_SAFETY"),
        chunk({}, usage={"cost": 0.0004}) | {"choices": []},
    )
    api.post("/chat/completions").mock(return_value=sse_response(body))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    error = caught.value
    assert error.kind is ErrorKind.REFUSED
    assert "IMAGE_SAFETY" in error.message
    assert (error.cost, error.generation_id) == (Decimal("0.0004"), "gen-stream-1")


def test_mid_stream_error_chunk(api, client):
    error_chunk = chunk({"content": ""}, finish="error") | {
        "error": {"code": 502, "message": "Provider returned error"}
    }
    body = sse_body(chunk({"content": "Drawing…"}), error_chunk)
    api.post("/chat/completions").mock(return_value=sse_response(body))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    error = caught.value
    assert error.kind is ErrorKind.STREAM_ERROR
    assert not error.retryable
    assert error.may_be_charged
    assert error.code == 502
    assert error.generation_id == "gen-stream-1"


def test_truncated_stream_is_interrupted(api, client):
    body = sse_body(chunk({"content": "Drawing"}), done=False)
    api.post("/chat/completions").mock(return_value=sse_response(body))
    with pytest.raises(OpenRouterError) as caught:
        client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert (caught.value.kind, caught.value.retryable) == (ErrorKind.INTERRUPTED, False)
    assert caught.value.may_be_charged


def test_stream_request_answered_with_json(api, client):
    api.post("/chat/completions").respond(200, json=completion(data_url(PNG, "image/png")))
    result = client.chat_image(GEMINI, "x", output_modalities=["image"], stream=True)
    assert len(result.images) == 1


def test_decimal_values_from_a_form_are_sent_as_numbers(api, client):
    route = api.post("/chat/completions").respond(200, json=completion(data_url(PNG, "image/png")))
    client.chat_image(
        "recraft/recraft-v3",
        "x",
        output_modalities=["image"],
        input_images=["https://example.com/a.png"],
        image_config={"strength": Decimal("0.35")},
    )
    assert sent_json(route)["image_config"] == {"strength": 0.35}
