"""The offline OpenRouter emulator: auth, strict validation, failure directives, control API.

Every error is checked for OpenRouter's shape; every directive for its status,
body and whether the ledger charged it.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image

from emulator import EmulatorServer, main
from tests.emulator.conftest import KEY


def sse(text: str) -> list[Any]:
    events: list[Any] = []
    for line in text.splitlines():
        if line.startswith("data: "):
            data = line[len("data: ") :]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def charges(http: httpx.Client) -> list[dict[str, Any]]:
    return list(http.get("/__emulator__/ledger").json()["entries"])


def image(
    http: httpx.Client, prompt: str, model: str = "openai/gpt-image-1", **extra: Any
) -> httpx.Response:
    return http.post("/images", json={"model": model, "prompt": prompt} | extra)


def chat(
    http: httpx.Client, prompt: str, model: str = "google/gemini-2.5-flash-image", **extra: Any
) -> httpx.Response:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "modalities": ["image", "text"],
    }
    return http.post("/chat/completions", json=body | extra)


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)


# Auth


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}]
)
def test_generation_needs_a_bearer_key(server: EmulatorServer, headers: dict[str, str]) -> None:
    body = {"model": "openai/gpt-image-1", "prompt": "x"}
    for route in ("/images", "/chat/completions", "/responses"):
        response = httpx.post(f"{server.url}{route}", json=body, headers=headers)
        assert_error(response, 401)


def test_a_refused_request_leaves_the_kept_alive_connection_usable(server: EmulatorServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        first = client.post("/images", json={"model": "openai/gpt-image-1", "prompt": "x" * 5000})
        second = client.get("/images/models")

    assert first.status_code == 401
    assert second.status_code == 200


def test_a_bad_key_is_user_not_found(server: EmulatorServer) -> None:
    response = httpx.post(
        f"{server.url}/images",
        json={"model": "openai/gpt-image-1", "prompt": "x"},
        headers={"Authorization": "Bearer sk-or-v1-bad-key"},
    )

    assert assert_error(response, 401)["message"] == "User not found."


def test_credits_need_a_management_key(http: httpx.Client) -> None:
    assert_error(http.get("/credits"), 403)


# Validation


@pytest.mark.parametrize(
    ("body", "provider", "fragment"),
    [
        (
            {"model": "bytedance-seed/seedream-4.5", "background": "opaque"},
            "Bytedance",
            "'background' is not supported",
        ),
        (
            {"model": "bytedance-seed/seedream-4.5", "resolution": "8K"},
            "Bytedance",
            "Invalid value '8K'",
        ),
        ({"model": "openai/gpt-image-1", "n": 11}, "OpenAI", "'n' must be at most 10"),
        ({"model": "openai/gpt-5-image", "n": 5}, "OpenAI", "'n' must be at most 4"),
        ({"model": "openai/gpt-image-1", "n": 0}, "OpenAI", "at least 1"),
        ({"model": "openai/gpt-image-1", "output_format": "gif"}, "OpenAI", "Invalid value 'gif'"),
        ({"model": "openai/gpt-image-1", "output_compression": 101}, "OpenAI", "at most 100"),
        (
            {"model": "openai/gpt-image-1", "background": "transparent", "output_format": "jpeg"},
            "OpenAI",
            "transparent",
        ),
        (
            {"model": "openai/gpt-image-1", "size": "1024x1024", "aspect_ratio": "3:2"},
            "OpenAI",
            "conflicts",
        ),
        (
            {"model": "bytedance-seed/seedream-4.5", "size": "1024x1024", "resolution": "2K"},
            "Bytedance",
            "conflicts",
        ),
        (
            {"model": "bytedance-seed/seedream-4.5", "size": "2K", "resolution": "4K"},
            "Bytedance",
            "conflicts",
        ),
        ({"model": "openai/gpt-image-1", "size": "1600x900"}, "OpenAI", "supports aspect ratios"),
        ({"model": "openai/gpt-image-1", "size": "huge"}, "OpenAI", "WxH"),
        ({"model": "openai/gpt-image-1", "seed": 4}, "OpenAI", "'seed' is not supported"),
        (
            {"model": "black-forest-labs/flux.2-pro", "seed": -1},
            "Black Forest Labs",
            "'seed' must be",
        ),
        (
            {
                "model": "black-forest-labs/flux.2-pro",
                "provider": {"options": {"black-forest-labs": {"stepz": 2}}},
            },
            "Black Forest Labs",
            "Unknown provider option(s) ['stepz']",
        ),
        (
            {
                "model": "sourceful/riverflow-v2-fast",
                "input_references": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
                ],
            },
            "Sourceful",
            "Too many input_references",
        ),
        (
            {
                "model": "openai/gpt-image-1",
                "input_references": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
                ],
            },
            "OpenAI",
            "invalid base64",
        ),
        (
            {
                "model": "sourceful/riverflow-v2-fast",
                "provider": {
                    "options": {
                        "sourceful": {"super_resolution_references": ["https://x.test/a.png"]}
                    }
                },
            },
            "Sourceful",
            "needs an input image",
        ),
        (
            {"model": "recraft/recraft-v3", "aspect_ratio": "21:9"},
            "Recraft",
            "Invalid value '21:9'",
        ),
    ],
)
def test_image_api_rejects_what_the_endpoint_does_not_accept(
    http: httpx.Client, body: dict[str, Any], provider: str, fragment: str
) -> None:
    response = http.post("/images", json={"prompt": "a lighthouse"} | body)

    error = assert_error(response, 400)
    assert fragment in error["message"]
    assert error["metadata"]["provider_name"] == provider
    assert json.loads(error["metadata"]["raw"])["error"]["message"] == error["message"]
    assert charges(http) == []


def test_no_endpoint_accepting_the_request_reports_the_first_provider(http: httpx.Client) -> None:
    # Black Forest Labs accepts 2K, Together does not; pinning Together fails with its name.
    body = {"resolution": "2K", "provider": {"only": ["together"]}}

    error = assert_error(image(http, "x", "black-forest-labs/flux.2-pro", **body), 400)

    assert error["metadata"]["provider_name"] == "Together"


@pytest.mark.parametrize(
    ("model", "image_config", "fragment"),
    [
        ("google/gemini-2.5-flash-image", {"aspect_ratio": "1:4"}, "aspect_ratio '1:4'"),
        ("google/gemini-2.5-flash-image", {"image_size": "0.5K"}, "image_size '0.5K'"),
        ("google/gemini-3.1-flash-image-preview", {"image_size": "512"}, "image_size '512'"),
        ("microsoft/mai-image-2.5", {"aspect_ratio": "21:9"}, "aspect_ratio '21:9'"),
        (
            "google/gemini-2.5-flash-image",
            {"style": "any"},
            "not supported by google/gemini-2.5-flash-image",
        ),
        ("recraft/recraft-v4", {"style": "realistic_image"}, "['style'] not supported"),
        ("recraft/recraft-v3", {"style": "vector_illustration"}, "Vector style"),
        ("recraft/recraft-v3", {"style": "oil_painting"}, "Unknown style"),
        ("recraft/recraft-v3", {"rgb_colors": [[255, 0, 256]]}, "integers 0-255"),
        ("recraft/recraft-v3", {"background_rgb_color": [1, 2]}, "background_rgb_color"),
        (
            "recraft/recraft-v3",
            {"text_layout": [{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1]]}]},
            "bbox",
        ),
        (
            "recraft/recraft-v3",
            {"text_layout": [{"text": "Hi", "bbox": [[0, 0], [1.5, 0], [1, 1], [0, 1]]}]},
            "bbox",
        ),
        (
            "recraft/recraft-v4",
            {"text_layout": [{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}]},
            "text_layout",
        ),
        ("recraft/recraft-v3", {"strength": 1.5}, "strength"),
        (
            "sourceful/riverflow-v2-fast",
            {"font_inputs": [{"font_url": "https://f.test/a.ttf", "text": "A"}] * 3},
            "1 or 2 entries",
        ),
        (
            "sourceful/riverflow-v2-fast",
            {"font_inputs": [{"font_url": "ftp://f", "text": "A"}]},
            "must be a URL",
        ),
        (
            "sourceful/riverflow-v2-fast",
            {"super_resolution_references": ["https://r.test/a.png"]},
            "input image",
        ),
        ("sourceful/riverflow-v2-fast", {"scoring_prompt": "be sharp"}, "not supported"),
        ("sourceful/riverflow-v2.5-pro", {"background_hex_color": "red"}, "#RRGGBB"),
        (
            "sourceful/riverflow-v2.5-pro",
            {"background_mode": "original", "background_hex_color": "#12345"},
            "#RRGGBB",
        ),
        (
            "sourceful/riverflow-v2.5-pro",
            {"background_mode": "solid"},
            "required when background_mode is solid",
        ),
        ("sourceful/riverflow-v2.5-pro", {"background_mode": "blurred"}, "background_mode"),
        (
            "sourceful/riverflow-v2.5-pro",
            {"scoring_rubric": [{"key": "a", "label": "A", "description": "d"}]},
            "missing keys ['weight']",
        ),
        (
            "sourceful/riverflow-v2.5-pro",
            {
                "scoring_rubric": [
                    {"key": "a", "label": "A", "description": "d", "weight": 1},
                    {"key": "a", "label": "B", "description": "e", "weight": 2},
                ]
            },
            "duplicate scoring_rubric key",
        ),
        (
            "sourceful/riverflow-v2.5-pro",
            {"scoring_rubric": [{"key": "a", "label": "A", "description": "d", "weight": 0}]},
            "positive number",
        ),
    ],
)
def test_chat_image_config_is_validated_per_model_family(
    http: httpx.Client, model: str, image_config: dict[str, Any], fragment: str
) -> None:
    response = chat(http, "a poster", model, modalities=["image"], image_config=image_config)

    error = assert_error(response, 400)
    assert fragment in error["message"]
    assert error["metadata"]["provider_name"]


def test_valid_family_options_are_accepted(http: httpx.Client) -> None:
    recraft = chat(
        http,
        "a poster saying Hi",
        "recraft/recraft-v3",
        modalities=["image"],
        image_config={
            "style": "digital_illustration/pixel_art",
            "text_layout": [
                {"text": "Hi", "bbox": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.3], [0.1, 0.3]]}
            ],
            "rgb_colors": [[10, 20, 30], [200, 100, 0]],
            "background_rgb_color": [250, 250, 250],
        },
    )
    sourceful = chat(
        http,
        "a mug",
        "sourceful/riverflow-v2.5-pro",
        modalities=["image"],
        image_config={
            "scoring_prompt": "crisp edges",
            "scoring_rubric": [
                {
                    "key": "legibility",
                    "label": "Legibility",
                    "description": "Text is readable",
                    "weight": 2,
                    "passing_score": 7,
                    "score_guidance": [{"score": 10, "description": "perfect"}],
                }
            ],
            "background_mode": "transparent",
            "background_hex_color": "#FFFFFF",
        },
    )

    assert recraft.status_code == 200, recraft.text
    assert sourceful.status_code == 200, sourceful.text
    url = sourceful.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).mode == "RGBA"


def test_unknown_models_and_missing_modalities_are_404(http: httpx.Client) -> None:
    unknown = assert_error(image(http, "x", "nobody/nothing"), 404)
    text_model = assert_error(image(http, "x", "openai/gpt-4o-mini"), 404)
    no_modalities = http.post(
        "/chat/completions",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "messages": [{"role": "user", "content": "x"}],
        },
    )

    assert unknown["message"].startswith("No endpoints found")
    assert text_model["message"].startswith(
        "No endpoints found that support the requested output modalities"
    )
    assert_error(no_modalities, 404)


@pytest.mark.parametrize(
    ("route", "body", "status"),
    [
        ("/images", {"model": "openai/gpt-image-1"}, 400),
        ("/images", {"model": "openai/gpt-image-1", "prompt": "x", "colour": "red"}, 400),
        ("/images", {"prompt": "x"}, 400),
        ("/chat/completions", {"model": "openai/gpt-4o-mini", "messages": []}, 400),
        (
            "/chat/completions",
            {"model": "openai/gpt-4o-mini", "messages": [{"role": "robot"}]},
            400,
        ),
        ("/responses", {"model": "openai/gpt-4o-mini"}, 400),
        ("/responses", {"model": "black-forest-labs/flux.2-pro", "input": "x"}, 404),
    ],
)
def test_malformed_requests_get_real_shaped_errors(
    http: httpx.Client, route: str, body: dict[str, Any], status: int
) -> None:
    assert_error(http.post(route, json=body), status)


def test_invalid_json_is_a_400(http: httpx.Client) -> None:
    response = http.post(
        "/images", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400)


# Failure directives


@pytest.mark.parametrize("status", [400, 402, 408, 500, 502, 503, 524, 529])
def test_fail_directive_answers_that_error_and_charges_nothing(
    http: httpx.Client, status: int
) -> None:
    response = image(http, f"a cat [emulator:fail={status}]")

    error = assert_error(response, status)
    if status in (400, 408, 502, 503, 524, 529):
        assert error["metadata"]["provider_name"] == "OpenAI"
        json.loads(error["metadata"]["raw"])
    assert charges(http) == []


def test_rate_limit_directive_sets_retry_after_and_rate_limit_headers(http: httpx.Client) -> None:
    response = chat(http, "a cat [emulator:fail=429,retry_after=7]")

    error = assert_error(response, 429)
    assert error["metadata"]["provider_name"] == "Google AI Studio"
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Limit"] == "20"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > time.time() * 1000


def test_moderation_directive_is_a_403_with_reasons_and_flagged_input(http: httpx.Client) -> None:
    error = assert_error(image(http, "a fight scene [emulator:fail=403]"), 403)

    assert error["metadata"]["reasons"] == ["violence"]
    assert error["metadata"]["flagged_input"] == "a fight scene"


def test_fail_times_fails_the_first_attempts_then_succeeds(http: httpx.Client) -> None:
    prompt = "a kite [emulator:fail_times=2,fail=503]"

    statuses = [image(http, prompt).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert len(charges(http)) == 1
    counts = http.get("/__emulator__/requests").json()["counts"]
    assert counts == {"/images": {"openai/gpt-image-1": 3}}


def test_refusal_is_a_200_without_image_and_costs_a_little(http: httpx.Client) -> None:
    response = chat(http, "something forbidden [emulator:refuse]")

    assert response.status_code == 200
    body = response.json()
    (choice,) = body["choices"]
    assert "images" not in choice["message"]
    assert choice["native_finish_reason"] == "IMAGE_SAFETY"
    assert choice["finish_reason"] == "stop"
    assert 0 < body["usage"]["cost"] < 0.01
    (entry,) = charges(http)
    assert entry["outcome"] == "refused"
    assert Decimal(entry["cost"]) == Decimal(str(body["usage"]["cost"]))


def test_refusal_in_the_image_api_returns_no_data(http: httpx.Client) -> None:
    body = image(http, "forbidden [emulator:refuse]").json()

    assert body["data"] == []
    assert body["usage"]["cost"] > 0
    assert len(charges(http)) == 1


def test_streamed_image_api_refusal_is_an_error_event_and_not_charged(http: httpx.Client) -> None:
    response = image(http, "forbidden [emulator:refuse]", stream=True)

    assert response.status_code == 200
    assert '"type":"error"' in response.text.replace(" ", "")
    assert "IMAGE_SAFETY" in response.text
    assert response.text.rstrip().endswith("data: [DONE]")
    assert charges(http) == []


def test_refusal_through_the_server_tool_is_a_tool_error(http: httpx.Client) -> None:
    response = chat(
        http,
        "forbidden [emulator:refuse]",
        "openai/gpt-4o-mini",
        modalities=None,
        tools=[{"type": "openrouter:image_generation"}],
    )

    (result,) = response.json()["choices"][0]["message"]["server_tool_results"]
    assert result == {
        "type": "openrouter:image_generation",
        "status": "error",
        "error": "Generation failed due to content policy",
    }


def test_stream_error_after_partials_is_an_error_event_and_is_charged(http: httpx.Client) -> None:
    response = image(http, "a storm [emulator:stream_error]", stream=True)

    events = sse(response.text)
    assert response.status_code == 200
    assert [e["type"] for e in events[:3]] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "error",
    ]
    assert events[2]["error"] == {"message": "Generation failed", "code": "server_error"}
    assert events[-1] == "[DONE]"
    assert charges(http)[0]["outcome"] == "stream_error"


def test_chat_stream_error_is_a_chunk_with_a_top_level_error(http: httpx.Client) -> None:
    response = chat(http, "a storm [emulator:stream_error]", stream=True)

    events = sse(response.text)
    last = events[-1]
    assert last["error"]["code"] == 502
    assert last["choices"][0]["finish_reason"] == "error"
    assert len(charges(http)) == 1


def test_stream_error_on_a_buffered_request_is_an_uncharged_502(http: httpx.Client) -> None:
    assert_error(image(http, "a storm [emulator:stream_error]"), 502)
    assert charges(http) == []


@pytest.mark.parametrize("route", ["/images", "/chat/completions"])
def test_malformed_directive_sends_invalid_json_with_a_200(http: httpx.Client, route: str) -> None:
    response = (
        image(http, "x [emulator:malformed]")
        if route == "/images"
        else chat(http, "x [emulator:malformed]")
    )

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert len(charges(http)) == 1


def test_malformed_stream_has_an_invalid_event(http: httpx.Client) -> None:
    response = image(http, "x [emulator:malformed]", stream=True)

    with pytest.raises(json.JSONDecodeError):
        sse(response.text)


@pytest.mark.parametrize("stream", [False, True])
def test_truncate_directive_cuts_the_body_and_closes(http: httpx.Client, stream: bool) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        image(http, "x [emulator:truncate]", stream=stream)

    assert len(charges(http)) == 1
    assert http.get("/images/models").status_code == 200  # the client recovers on a new connection


def test_truncated_chat_stream(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        chat(http, "x [emulator:truncate]", stream=True)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("route", ["/chat/completions", "/responses"])
def test_truncated_answer_sends_its_generation_id_before_cutting(
    server: EmulatorServer, http: httpx.Client, route: str, stream: bool
) -> None:
    server.state.update_config({"generation_404_seconds": 0})
    prompt = "x [emulator:truncate]"
    if route == "/responses":
        body: dict[str, Any] = {"model": "openai/gpt-4o-mini", "input": prompt}
    else:
        body = {
            "model": "google/gemini-2.5-flash-image",
            "messages": [{"role": "user", "content": prompt}],
        }
    received: list[bytes] = []
    with http.stream("POST", route, json=body | {"stream": stream}) as response:
        generation_id = response.headers["X-Generation-Id"]
        with pytest.raises(httpx.RemoteProtocolError):
            received.extend(response.iter_bytes())
    assert generation_id.encode() in b"".join(received)  # in the body or the chunks sent
    (charge,) = charges(http)
    assert (charge["generation_id"], charge["outcome"]) == (generation_id, "truncated")
    record = http.get("/generation", params={"id": generation_id})
    assert record.status_code == 200
    assert Decimal(str(record.json()["data"]["total_cost"])) == Decimal(charge["cost"])


@pytest.mark.parametrize("no_usage", [False, True])
def test_image_stream_error_event_carries_its_cost_unless_told_not_to(
    http: httpx.Client, no_usage: bool
) -> None:
    directive = "[emulator:stream_error,no_usage]" if no_usage else "[emulator:stream_error]"
    events = sse(image(http, f"x {directive}", stream=True).text)

    (error,) = [e for e in events if isinstance(e, dict) and e.get("type") == "error"]
    (charge,) = charges(http)
    if no_usage:
        assert "usage" not in error
    else:
        assert Decimal(str(error["usage"]["cost"])) == Decimal(charge["cost"])


@pytest.mark.parametrize(
    ("directive", "status", "words"),
    [
        ("fail=402", 402, "Insufficient credits"),
        ("fail=402,reason=key_limit", 402, "Key limit exceeded"),
        ("fail=403,reason=key_limit", 403, "Key limit exceeded"),
    ],
)
def test_credit_failures_in_both_wordings(
    http: httpx.Client, directive: str, status: int, words: str
) -> None:
    error = assert_error(image(http, f"x [emulator:{directive}]"), status)

    assert words in error["message"]
    assert "metadata" not in error


def test_chat_preview_is_smaller_than_the_final_image(http: httpx.Client) -> None:
    images = chat(http, "x [emulator:preview]").json()["choices"][0]["message"]["images"]

    preview, final = (
        Image.open(io.BytesIO(base64.b64decode(i["image_url"]["url"].split(",", 1)[1])))
        for i in images
    )
    assert preview.width * preview.height < final.width * final.height
    assert abs(preview.width / preview.height - final.width / final.height) < 0.02


@pytest.mark.parametrize("value", ["tool_shape=svg", "reason=wallet"])
def test_unknown_directive_values_are_a_400(http: httpx.Client, value: str) -> None:
    error = assert_error(image(http, f"x [emulator:{value}]"), 400)

    assert "Bad emulator directive" in error["message"]


def test_fewer_directive_returns_fewer_images_than_asked(http: httpx.Client) -> None:
    body = image(http, "x [emulator:fewer=1]", n=3).json()

    assert len(body["data"]) == 1
    assert charges(http)[0]["images"] == 1


def test_garbage_bytes_are_not_an_image(http: httpx.Client) -> None:
    item = image(http, "x [emulator:bytes=garbage]").json()["data"][0]

    data = base64.b64decode(item["b64_json"])
    assert len(data) > 1000
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(data))


def test_bomb_declares_a_huge_pixel_count(http: httpx.Client) -> None:
    url = chat(http, "x [emulator:bomb]").json()["choices"][0]["message"]["images"][0]["image_url"][
        "url"
    ]

    data = base64.b64decode(url.split(",", 1)[1])
    assert len(data) < 200_000
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_hostile_svg_is_active_content(http: httpx.Client) -> None:
    item = image(http, "x [emulator:svg=hostile]", "recraft/recraft-v4-vector").json()["data"][0]

    markup = base64.b64decode(item["b64_json"]).decode()
    assert item["media_type"] == "image/svg+xml"
    ET.fromstring(markup)  # noqa: S314 (well-formedness of our own markup)
    assert "<script" in markup
    assert "onload=" in markup
    assert 'href="https://attacker.invalid/' in markup
    assert "javascript:" in markup


def test_latency_directive_delays_the_answer(http: httpx.Client) -> None:
    started = time.monotonic()
    image(http, "x [emulator:latency=0.3]")

    assert time.monotonic() - started >= 0.3


def test_streams_send_keepalives_while_waiting(http: httpx.Client) -> None:
    http.post("/__emulator__/config", json={"keepalive_interval": 0.05}).raise_for_status()

    response = chat(http, "x [emulator:latency=0.3]", stream=True)

    assert response.text.count(": OPENROUTER PROCESSING") >= 3


def test_stream_delay_directive_spaces_the_events(http: httpx.Client) -> None:
    started = time.monotonic()
    response = image(http, "x [emulator:stream_delay=0.1]", stream=True)

    assert len(sse(response.text)) == 4
    assert time.monotonic() - started >= 0.3  # three gaps between four events


def test_bad_directive_is_a_400(http: httpx.Client) -> None:
    assert (
        "Bad emulator directive"
        in assert_error(image(http, "x [emulator:explode]"), 400)["message"]
    )
    assert_error(image(http, "x [emulator:fail=418]"), 400)


# The control API


def test_catalog_price_change_shows_in_discovery_and_in_the_charge(http: httpx.Client) -> None:
    # A model with one per-image line, so the whole charge is the patched price.
    patch = {
        "set_price": [{"model": "recraft/recraft-v4", "billable": "output_image", "cost_usd": 0.5}]
    }
    http.post("/__emulator__/catalog", json=patch).raise_for_status()

    endpoints = http.get("/images/models/recraft/recraft-v4/endpoints").json()["endpoints"]
    body = image(http, "x", "recraft/recraft-v4").json()

    assert endpoints[0]["pricing"] == [
        {"billable": "output_image", "unit": "image", "cost_usd": 0.5}
    ]
    assert body["usage"]["cost"] == 0.5


def test_catalog_endpoint_patch_and_model_removal(http: httpx.Client) -> None:
    http.post(
        "/__emulator__/catalog",
        json={
            "remove": ["google/gemini-3.1-flash-image-preview"],
            "endpoint_patch": {"openai/gpt-image-1": {"openai": {"supports_streaming": False}}},
        },
    ).raise_for_status()

    ids = {m["id"] for m in http.get("/images/models").json()["data"]}
    assert "google/gemini-3.1-flash-image-preview" not in ids
    assert_error(chat(http, "x", "google/gemini-3.1-flash-image-preview"), 404)
    assert image(http, "x", stream=True).headers["content-type"] == "application/json"

    http.post("/__emulator__/reset").raise_for_status()
    assert "google/gemini-3.1-flash-image-preview" in {
        m["id"] for m in http.get("/images/models").json()["data"]
    }


def test_config_rejects_unknown_keys(http: httpx.Client) -> None:
    assert_error(http.post("/__emulator__/config", json={"latencyy": 1}), 400)
    assert http.get("/__emulator__/config").json()["latency"] == 0.0


def test_key_limit_runs_out_with_a_402(http: httpx.Client) -> None:
    http.post("/__emulator__/config", json={"key_limit": 0.05}).raise_for_status()

    first = image(http, "x", "microsoft/mai-image-2.5")
    second = image(http, "x", "microsoft/mai-image-2.5")
    third = image(http, "x", "microsoft/mai-image-2.5")

    assert [first.status_code, second.status_code] == [200, 200]
    assert_error(third, 402)
    key = http.get("/key").json()["data"]
    assert key["limit"] == 0.05
    assert key["limit_remaining"] == 0.0


def test_fifty_slow_requests_are_served_side_by_side(
    server: EmulatorServer, http: httpx.Client
) -> None:
    http.post("/__emulator__/config", json={"latency": 1.0}).raise_for_status()

    def generate(index: int) -> int:
        body = {"model": "microsoft/mai-image-2.5", "prompt": f"image {index}"}
        return httpx.post(f"{server.url}/images", json=body, headers=KEY, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(generate, range(50)))

    assert statuses == [200] * 50
    assert http.get("/__emulator__/ledger").json()["count"] == 50


# Running it


def test_help_documents_the_failure_controls(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    text = capsys.readouterr().out
    assert exit_info.value.code == 0
    for needle in (
        "[emulator:fail=429,retry_after=7]",
        "fail_times",
        "refuse",
        "bomb",
        "svg=hostile",
        "/__emulator__",
    ):
        assert needle.replace("/__emulator__", "__emulator__") in text


def test_module_runs_as_a_server_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ", 1)[1].strip()
        assert url.endswith("/api/v1")
        assert httpx.get(f"{url}/images/models", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
