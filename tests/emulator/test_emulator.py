"""The offline OpenRouter emulator: discovery, the three generation styles, usage and the ledger.

Driven over real HTTP with plain httpx (not the client package), against an
in-process ``EmulatorServer`` on a free port, reset before every test.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image

from generation.openrouter.sizes import MAI_1K, STANDARD_1K


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def from_data_url(url: str) -> tuple[str, Image.Image]:
    header, _, payload = url.partition(",")
    return header, decode(payload)


def sse(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body, JSON-decoded, ``[DONE]`` kept as a string."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                data = line[len("data: ") :]
                events.append(data if data == "[DONE]" else json.loads(data))
    return events


def ledger(http: httpx.Client, **params: str) -> dict[str, Any]:
    response = http.get("/__emulator__/ledger", params=params)
    response.raise_for_status()
    return dict(response.json())


def chat_image(http: httpx.Client, model: str, prompt: str, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]} | extra
    return http.post("/chat/completions", json=body)


# Discovery


def test_image_models_list_every_model_with_its_union_of_capabilities(http: httpx.Client) -> None:
    response = httpx.get(f"{http.base_url}images/models")  # no key needed

    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["data"]}
    assert len(models) >= 12
    flux = models["black-forest-labs/flux.2-pro"]
    # Black Forest Labs lists 21:9 and 512; Together does not: the model shows the union.
    assert "21:9" in flux["supported_parameters"]["aspect_ratio"]["values"]
    assert "512" in flux["supported_parameters"]["resolution"]["values"]
    assert flux["endpoints"] == "/api/v1/images/models/black-forest-labs/flux.2-pro/endpoints"
    assert models["openai/gpt-image-1"]["supports_streaming"] is True
    assert models["bytedance-seed/seedream-4.5"]["supports_streaming"] is False
    assert models["openai/gpt-image-1"]["supported_parameters"]["n"] == {
        "type": "range",
        "min": 1,
        "max": 10,
    }
    for model in models.values():
        assert set(model) >= {
            "id",
            "name",
            "architecture",
            "supported_parameters",
            "supports_streaming",
        }
        assert "_emulator" not in json.dumps(model)


def test_endpoints_document_has_the_seeds_shape(http: httpx.Client) -> None:
    response = httpx.get(f"{http.base_url}images/models/bytedance-seed/seedream-4.5/endpoints")

    assert response.status_code == 200
    document = response.json()
    assert document["id"] == "bytedance-seed/seedream-4.5"
    (endpoint,) = document["endpoints"]
    assert set(endpoint) == {
        "provider_name",
        "provider_slug",
        "provider_tag",
        "supported_parameters",
        "allowed_passthrough_parameters",
        "supports_streaming",
        "pricing",
    }
    assert endpoint["supported_parameters"]["resolution"] == {
        "type": "enum",
        "values": ["1K", "2K", "4K"],
    }
    assert {
        "billable": "output_image",
        "unit": "image",
        "cost_usd": 0.06,
        "variant": "4k",
    } in endpoint["pricing"]


def test_pricing_lines_cover_every_unit_billable_and_variant(http: httpx.Client) -> None:
    lines, raw = [], ""
    for model in http.get("/images/models").json()["data"]:
        response = http.get(f"/images/models/{model['id']}/endpoints")
        raw += response.text
        lines += [line for e in response.json()["endpoints"] for line in e["pricing"]]

    assert {line["unit"] for line in lines} == {"image", "megapixel", "token"}
    assert {line["billable"] for line in lines} >= {
        "output_image",
        "input_image",
        "input_reference",
        "input_font",
        "input_text",
    }
    assert {line.get("variant") for line in lines} >= {"2k", "4k"}
    assert '"cost_usd": 3e-05' in raw  # a JSON number in exponent notation
    assert all(isinstance(line["cost_usd"], int | float) for line in lines)


def test_unknown_model_endpoints_is_404(http: httpx.Client) -> None:
    response = http.get("/images/models/nobody/nothing/endpoints")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_models_default_to_text_output_and_image_filter_adds_pure_image_models(
    http: httpx.Client,
) -> None:
    default = {m["id"]: m for m in http.get("/models").json()["data"]}
    image = {
        m["id"]: m
        for m in http.get("/models", params={"output_modalities": "image"}).json()["data"]
    }
    everything = http.get("/models", params={"output_modalities": "all"}).json()["data"]

    assert "openai/gpt-4o-mini" in default
    assert "anthropic/claude-sonnet-4.5" in default
    assert "google/gemini-2.5-flash-image" in default  # text+image output
    assert "black-forest-labs/flux.2-pro" not in default
    assert "black-forest-labs/flux.2-pro" in image
    assert "openai/gpt-4o-mini" not in image
    assert len(everything) == len(set(default) | set(image))
    assert image["black-forest-labs/flux.2-pro"]["pricing"] == {"prompt": "0", "completion": "0"}
    gemini = image["google/gemini-2.5-flash-image"]["pricing"]
    assert {"prompt", "completion", "image", "image_output"} <= set(gemini)
    assert all(
        isinstance(gemini[k], str) for k in ("prompt", "completion", "image", "image_output")
    )
    assert isinstance(gemini["discount"], int | float)
    assert image["google/gemini-2.5-flash-image"]["architecture"]["output_modalities"] == [
        "image",
        "text",
    ]


def test_models_paging_follows_links_next_to_the_end(http: httpx.Client) -> None:
    full = [
        m["id"] for m in http.get("/models", params={"output_modalities": "image"}).json()["data"]
    ]
    url: str | None = f"{http.base_url}models?output_modalities=image&limit=4"
    seen: list[str] = []
    pages = 0
    while url:
        page = http.get(url).json()
        assert page["total_count"] == len(full)
        seen += [m["id"] for m in page["data"]]
        url = page["links"]["next"]
        pages += 1

    assert seen == full
    assert pages == -(-len(full) // 4)
    assert "total_count" not in http.get("/models").json()


# The Image API


@pytest.mark.parametrize(
    ("request_body", "size", "image_format"),
    [
        ({"model": "openai/gpt-image-1"}, (1024, 1024), "PNG"),
        (
            {"model": "openai/gpt-image-1", "aspect_ratio": "3:2", "output_format": "jpeg"},
            (1536, 1024),
            "JPEG",
        ),
        ({"model": "openai/gpt-image-1", "size": "1024x1536"}, (1024, 1536), "PNG"),
        (
            {
                "model": "google/gemini-3.1-flash-image-preview",
                "resolution": "2K",
                "aspect_ratio": "21:9",
            },
            (3072, 1344),
            "PNG",
        ),
        (
            {
                "model": "google/gemini-3.1-flash-image-preview",
                "resolution": "512",
                "aspect_ratio": "1:4",
            },
            (256, 1024),
            "PNG",
        ),
        ({"model": "bytedance-seed/seedream-4.5", "size": "2048x1152"}, (2048, 1152), "JPEG"),
        ({"model": "microsoft/mai-image-2.5", "aspect_ratio": "16:9"}, MAI_1K["16:9"], "PNG"),
        (
            {"model": "sourceful/riverflow-v2-fast", "aspect_ratio": "3:4"},
            STANDARD_1K["3:4"],
            "WEBP",
        ),
        (
            {"model": "black-forest-labs/flux.2-flex", "aspect_ratio": "16:9", "resolution": "512"},
            (672, 384),
            "JPEG",
        ),
    ],
)
def test_image_api_draws_the_requested_size_and_format(
    http: httpx.Client, request_body: dict[str, Any], size: tuple[int, int], image_format: str
) -> None:
    response = http.post("/images", json={"prompt": "a lighthouse at dusk"} | request_body)

    assert response.status_code == 200, response.text
    body = response.json()
    assert "id" not in body
    (item,) = body["data"]
    image = decode(item["b64_json"])
    assert image.size == size
    assert image.format == image_format
    if image_format == "PNG":
        assert "media_type" not in item
    else:
        assert item["media_type"] == f"image/{image_format.lower()}"
    assert isinstance(body["usage"]["cost"], float)
    assert body["usage"]["cost"] > 0


def test_vector_model_answers_svg_markup(http: httpx.Client) -> None:
    response = http.post(
        "/images", json={"model": "recraft/recraft-v4-vector", "prompt": "a fox logo"}
    )

    (item,) = response.json()["data"]
    assert item["media_type"] == "image/svg+xml"
    root = ET.fromstring(base64.b64decode(item["b64_json"]))  # noqa: S314 (our own markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "OpenRouter emulator" in base64.b64decode(item["b64_json"]).decode()


def test_transparent_background_has_an_alpha_channel(http: httpx.Client) -> None:
    response = http.post(
        "/images",
        json={
            "model": "openai/gpt-image-1",
            "prompt": "a sticker",
            "background": "transparent",
            "output_format": "webp",
        },
    )

    image = decode(response.json()["data"][0]["b64_json"])
    assert image.mode == "RGBA"
    assert image.getchannel("A").getextrema() != (255, 255)


def test_n_is_an_upper_bound_and_each_image_is_billed(http: httpx.Client) -> None:
    response = http.post(
        "/images", json={"model": "bytedance-seed/seedream-4.5", "prompt": "tiles", "n": 6}
    )

    body = response.json()
    assert len(body["data"]) == 4  # this provider answers at most 4
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.16")
    images = [decode(item["b64_json"]).tobytes() for item in body["data"]]
    assert len(set(images)) == 4


def test_4k_uses_the_4k_price_variant(http: httpx.Client) -> None:
    response = http.post(
        "/images",
        json={"model": "bytedance-seed/seedream-4.5", "prompt": "a city", "resolution": "4K"},
    )

    body = response.json()
    assert decode(body["data"][0]["b64_json"]).size == (4096, 4096)
    assert body["usage"]["cost"] == 0.06


def test_megapixel_pricing_uses_the_real_pixel_count(http: httpx.Client) -> None:
    response = http.post(
        "/images",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "prompt": "a dune",
            "aspect_ratio": "16:9",
            "resolution": "2K",
        },
    )

    body = response.json()
    width, height = decode(body["data"][0]["b64_json"]).size
    assert (width, height) == (2688, 1536)
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.03") * width * height / 1_000_000


def test_same_prompt_and_seed_give_identical_bytes(http: httpx.Client) -> None:
    def generate(seed: int) -> str:
        body = {"model": "black-forest-labs/flux.2-pro", "prompt": "a red panda", "seed": seed}
        return str(http.post("/images", json=body).json()["data"][0]["b64_json"])

    assert generate(7) == generate(7)
    assert generate(7) != generate(8)


def test_directives_are_stripped_from_the_drawn_prompt(http: httpx.Client) -> None:
    def generate(prompt: str) -> str:
        body = {"model": "black-forest-labs/flux.2-pro", "prompt": prompt, "seed": 1}
        return str(http.post("/images", json=body).json()["data"][0]["b64_json"])

    assert generate("a quiet harbour [emulator:latency=0]") == generate("a quiet harbour")


def test_streaming_image_api_sends_two_partials_then_the_completed_image(
    http: httpx.Client,
) -> None:
    body = {"model": "openai/gpt-image-1", "prompt": "a detailed landscape", "stream": True}
    response = http.post("/images", json=body)

    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith(": OPENROUTER PROCESSING")
    events = sse(response.text)
    assert [e["type"] for e in events[:-1]] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert events[-1] == "[DONE]"
    assert [e["partial_image_index"] for e in events[:2]] == [0, 1]
    assert decode(events[0]["b64_json"]).format == "PNG"
    completed = events[2]
    assert decode(completed["b64_json"]).size == (1024, 1024)
    assert completed["usage"]["cost"] > 0
    buffered = http.post("/images", json=body | {"stream": False}).json()
    assert buffered["data"][0]["b64_json"] == completed["b64_json"]


def test_a_non_streaming_endpoint_ignores_stream_and_answers_json(http: httpx.Client) -> None:
    response = http.post(
        "/images", json={"model": "bytedance-seed/seedream-4.5", "prompt": "x", "stream": True}
    )

    assert response.headers["content-type"] == "application/json"
    assert len(response.json()["data"]) == 1


def test_provider_options_pass_through_to_the_endpoint_that_allows_them(http: httpx.Client) -> None:
    body = {
        "model": "black-forest-labs/flux.2-pro",
        "prompt": "a dramatic portrait",
        "provider": {"options": {"black-forest-labs": {"steps": 40, "guidance": 3}}},
    }

    assert http.post("/images", json=body).status_code == 200


def test_provider_order_picks_the_endpoint_and_its_pricing(http: httpx.Client) -> None:
    body = {
        "model": "black-forest-labs/flux.2-pro",
        "prompt": "x",
        "provider": {"order": ["together"]},
    }

    response = http.post("/images", json=body)

    assert response.json()["usage"]["cost"] == 0.04  # Together prices per image
    assert ledger(http)["entries"][0]["provider"] == "Together"


# Chat Completions


@pytest.mark.parametrize(
    ("model", "image_config", "size"),
    [
        ("google/gemini-2.5-flash-image", {}, (1024, 1024)),
        ("google/gemini-2.5-flash-image", {"aspect_ratio": "16:9"}, STANDARD_1K["16:9"]),
        ("google/gemini-2.5-flash-image", {"aspect_ratio": "21:9"}, STANDARD_1K["21:9"]),
        (
            "google/gemini-3.1-flash-image-preview",
            {"aspect_ratio": "16:9", "image_size": "2K"},
            (2688, 1536),
        ),
        (
            "google/gemini-3.1-flash-image-preview",
            {"aspect_ratio": "4:5", "image_size": "0.5K"},
            (448, 576),
        ),
        ("google/gemini-3.1-flash-image-preview", {"aspect_ratio": "8:1"}, (3072, 384)),
        ("openai/gpt-5-image", {"aspect_ratio": "2:3"}, (1024, 1536)),
    ],
)
def test_chat_images_follow_the_seeds_size_tables(
    http: httpx.Client, model: str, image_config: dict[str, str], size: tuple[int, int]
) -> None:
    response = chat_image(
        http, model, "a fox", modalities=["image", "text"], image_config=image_config
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"].startswith("gen-")
    assert body["provider"]
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["native_finish_reason"] in ("STOP", "stop")
    assert choice["message"]["content"]
    (item,) = choice["message"]["images"]
    header, image = from_data_url(item["image_url"]["url"])
    assert header == "data:image/png;base64"
    assert image.size == size
    assert body["usage"]["completion_tokens_details"]["image_tokens"] > 0


def test_image_only_models_take_image_modality_alone(http: httpx.Client) -> None:
    refused = chat_image(
        http, "black-forest-labs/flux.2-pro", "a fox", modalities=["image", "text"]
    )
    mai = chat_image(
        http,
        "microsoft/mai-image-2.5",
        "a fox",
        modalities=["image"],
        image_config={"aspect_ratio": "9:16"},
    )
    flux = chat_image(http, "black-forest-labs/flux.2-pro", "a fox", modalities=["image"])

    assert refused.status_code == 404
    assert refused.json()["error"]["message"].startswith(
        "No endpoints found that support the requested output modalities"
    )
    _, image = from_data_url(mai.json()["choices"][0]["message"]["images"][0]["image_url"]["url"])
    assert image.size == (768, 1365)
    header, image = from_data_url(
        flux.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
    )
    assert header == "data:image/jpeg;base64"
    assert image.format == "JPEG"
    assert flux.json()["choices"][0]["message"]["content"] == ""


def test_chat_streaming_sends_delta_images_then_usage_then_done(http: httpx.Client) -> None:
    response = chat_image(
        http, "google/gemini-2.5-flash-image", "a city", modalities=["image", "text"], stream=True
    )

    assert ": OPENROUTER PROCESSING" in response.text
    events = sse(response.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(
        c["object"] == "chat.completion.chunk" and c["id"].startswith("gen-") for c in chunks
    )
    images = [i for c in chunks for i in c["choices"][0]["delta"].get("images", [])]
    (item,) = images
    assert from_data_url(item["image_url"]["url"])[1].size == (1024, 1024)
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["native_finish_reason"] == "STOP"
    assert final["usage"]["cost"] > 0


def test_preview_directive_sends_a_preview_before_the_final_image(http: httpx.Client) -> None:
    response = chat_image(
        http, "openai/gpt-5-image", "a boat [emulator:preview]", modalities=["image", "text"]
    )

    images = response.json()["choices"][0]["message"]["images"]
    assert len(images) == 2
    sizes = [from_data_url(i["image_url"]["url"])[1].size for i in images]
    assert sizes[1] == (1024, 1024)


def test_input_images_are_accepted_and_billed(http: httpx.Client) -> None:
    source = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(source, "PNG")
    data_url = "data:image/png;base64," + base64.b64encode(source.getvalue()).decode()
    content = [
        {"type": "text", "text": "sharpen the logo"},
        {"type": "image_url", "image_url": {"url": data_url}},
    ]
    config = {
        "super_resolution_references": ["https://example.com/a.png", "https://example.com/b.png"],
        "font_inputs": [{"font_url": "https://example.com/f.ttf", "text": "ACME"}],
    }

    response = http.post(
        "/chat/completions",
        json={
            "model": "sourceful/riverflow-v2-fast",
            "messages": [{"role": "user", "content": content}],
            "modalities": ["image"],
            "image_config": config,
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    header, image = from_data_url(body["choices"][0]["message"]["images"][0]["image_url"]["url"])
    assert header == "data:image/webp;base64"
    assert image.size == (640, 480)  # super-resolution keeps the input's size
    # 0.02 output + 0.005 input image + 2 x 0.20 references + 0.03 font
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.455")


def test_chat_to_a_text_model_answers_text(http: httpx.Client) -> None:
    response = chat_image(http, "anthropic/claude-sonnet-4.5", "hello there")

    message = response.json()["choices"][0]["message"]
    assert "hello there" in message["content"]
    assert "images" not in message


# The server tool


TOOL = {
    "type": "openrouter:image_generation",
    "parameters": {"quality": "low", "aspect_ratio": "3:2"},
}


MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\((\S+)\)")


def test_server_tool_in_chat_returns_its_url_as_markdown_in_the_text(http: httpx.Client) -> None:
    response = chat_image(
        http, "openai/gpt-4o-mini", "Create an image of a futuristic city", tools=[TOOL]
    )

    assert response.status_code == 200, response.text
    body = response.json()
    message = body["choices"][0]["message"]
    assert message["images"] == []
    # As on the real service: no structured result, only the model's markdown.
    assert "server_tool_results" not in message
    (url,) = MARKDOWN_IMAGE.findall(message["content"])
    assert url.startswith(f"{http.base_url.scheme}://{http.base_url.host}")
    assert response.headers["X-Generation-Id"] == body["id"]
    fetched = httpx.get(url)
    assert fetched.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(fetched.content)).size == (1536, 1024)
    assert body["usage"]["server_tool_use"] == {"image_generation_requests": 1}
    # The image (408 low-quality tokens at 4e-05 on gpt-5-image) is added to the text model's cost.
    assert body["usage"]["cost"] > 408 * 4e-05


def test_server_tool_shape_structured_adds_the_tool_result(http: httpx.Client) -> None:
    response = chat_image(
        http, "openai/gpt-4o-mini", "a city [emulator:tool_shape=structured]", tools=[TOOL]
    )

    message = response.json()["choices"][0]["message"]
    (result,) = message["server_tool_results"]
    assert (result["type"], result["status"]) == ("openrouter:image_generation", "ok")
    assert result["imageUrl"] not in message["content"]
    assert httpx.get(result["imageUrl"]).status_code == 200


def test_server_tool_shape_plain_url_puts_a_bare_url_in_the_text(http: httpx.Client) -> None:
    response = chat_image(
        http, "openai/gpt-4o-mini", "a city [emulator:tool_shape=plain_url]", tools=[TOOL]
    )

    message = response.json()["choices"][0]["message"]
    assert "server_tool_results" not in message
    assert not MARKDOWN_IMAGE.search(message["content"])
    (url,) = re.findall(r"https?://\S+", message["content"])
    assert httpx.get(url).status_code == 200


def test_server_tool_streams_its_markdown_in_a_delta(http: httpx.Client) -> None:
    response = chat_image(http, "openai/gpt-4o-mini", "draw a kite", tools=[TOOL], stream=True)

    events = sse(response.text)
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert MARKDOWN_IMAGE.search(text)
    assert {e["id"] for e in events[:-1]} == {response.headers["X-Generation-Id"]}
    assert events[-2]["usage"]["cost"] > 0


def test_server_tool_reports_an_invalid_parameter_as_a_tool_error(http: httpx.Client) -> None:
    tool = {"type": "openrouter:image_generation", "parameters": {"aspect_ratio": "7:3"}}

    response = chat_image(http, "openai/gpt-4o-mini", "draw a kite", tools=[tool])

    (result,) = response.json()["choices"][0]["message"]["server_tool_results"]
    assert result["status"] == "error"
    assert "aspect_ratio" in result["error"]


def test_server_tool_in_the_responses_api(http: httpx.Client) -> None:
    response = http.post(
        "/responses",
        json={
            "model": "anthropic/claude-sonnet-4.5",
            "input": [
                {
                    "role": "user",
                    "content": [{"type": "input_text", "text": "a mountain landscape"}],
                }
            ],
            "tools": [
                {
                    "type": "openrouter:image_generation",
                    "parameters": {"model": "google/gemini-2.5-flash-image"},
                }
            ],
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    call, message = body["output"]
    assert call["type"] == "openrouter:image_generation"
    assert call["status"] == "completed"
    assert response.headers["X-Generation-Id"] == body["id"]
    assert message["type"] == "message"
    assert message["content"][0]["type"] == "output_text"
    assert Image.open(io.BytesIO(httpx.get(call["imageUrl"]).content)).size == (1024, 1024)
    assert body["usage"]["cost"] > 0.0387


@pytest.mark.parametrize(
    ("shape", "field"), [("imageUrl", "imageUrl"), ("result", "result"), ("imageB64", "imageB64")]
)
def test_responses_tool_item_shapes(http: httpx.Client, shape: str, field: str) -> None:
    response = http.post(
        "/responses",
        json={
            "model": "openai/gpt-4o-mini",
            "input": f"a kite [emulator:tool_shape={shape}]",
            "tools": [TOOL],
        },
    )

    call = response.json()["output"][0]
    assert call["type"] == "openrouter:image_generation"
    assert set(call) & {"imageUrl", "result", "imageB64"} == {field}
    if field == "imageB64":
        assert Image.open(io.BytesIO(base64.b64decode(call[field]))).size == (1536, 1024)
    else:
        assert httpx.get(call[field]).status_code == 200


def test_responses_api_streams_events(http: httpx.Client) -> None:
    response = http.post(
        "/responses",
        json={"model": "openai/gpt-4o-mini", "input": "a kite", "tools": [TOOL], "stream": True},
    )

    events = sse(response.text)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.output_item.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[-1]["response"]["output"][0]["status"] == "completed"


def test_tool_images_expire(http: httpx.Client) -> None:
    http.post("/__emulator__/config", json={"file_ttl": 0}).raise_for_status()

    response = chat_image(http, "openai/gpt-4o-mini", "draw a kite", tools=[TOOL])

    (url,) = MARKDOWN_IMAGE.findall(response.json()["choices"][0]["message"]["content"])
    assert httpx.get(url).status_code == 404


# Usage, the ledger, /generation and /key


def test_ledger_total_equals_the_sum_of_usage_cost(http: httpx.Client) -> None:
    costs = [
        http.post("/images", json={"model": "openai/gpt-image-1", "prompt": "a", "n": 3}).json()[
            "usage"
        ]["cost"],
        http.post("/images", json={"model": "black-forest-labs/flux.2-flex", "prompt": "b"}).json()[
            "usage"
        ]["cost"],
        chat_image(http, "google/gemini-3.1-flash-image-preview", "c").json()["usage"]["cost"],
        chat_image(http, "openai/gpt-4o-mini", "d", tools=[TOOL]).json()["usage"]["cost"],
        http.post("/responses", json={"model": "openai/gpt-4o-mini", "input": "e"}).json()["usage"][
            "cost"
        ],
    ]

    report = ledger(http)
    assert report["count"] == 5
    assert Decimal(report["total"]) == sum(Decimal(str(c)) for c in costs)
    assert [Decimal(e["cost"]) for e in report["entries"]] == [Decimal(str(c)) for c in costs]
    entry = report["entries"][2]
    assert entry["route"] == "/chat/completions"
    assert entry["model"] == "google/gemini-3.1-flash-image-preview"
    assert entry["generation_id"].startswith("gen-")
    assert entry["images"] == 1
    assert entry["prompt"] == "c"
    key = http.get("/key").json()["data"]
    assert Decimal(str(key["usage"])) == Decimal(report["total"])
    assert key["is_free_tier"] is False
    assert "limit_remaining" in key


def test_ledger_entries_carry_the_request_tag_and_can_be_cleared(http: httpx.Client) -> None:
    http.post(
        "/images",
        json={"model": "openai/gpt-image-1", "prompt": "a"},
        headers={"X-Emulator-Tag": "job-1"},
    )
    http.post("/images", json={"model": "openai/gpt-image-1", "prompt": "b"})

    assert ledger(http, tag="job-1")["count"] == 1
    assert ledger(http, tag="job-1")["entries"][0]["tag"] == "job-1"
    http.delete("/__emulator__/ledger").raise_for_status()
    assert ledger(http) == {"entries": [], "count": 0, "total": "0"}


def test_generation_is_404_at_first_then_reports_the_cost(http: httpx.Client) -> None:
    http.post("/__emulator__/config", json={"generation_404_seconds": 0.3}).raise_for_status()
    body = chat_image(http, "google/gemini-2.5-flash-image", "a fox").json()

    early = http.get("/generation", params={"id": body["id"]})
    time.sleep(0.35)
    later = http.get("/generation", params={"id": body["id"]})

    assert early.status_code == 404
    assert later.status_code == 200
    data = later.json()["data"]
    assert data["id"] == body["id"]
    assert data["total_cost"] == body["usage"]["cost"]
    assert data["model"] == "google/gemini-2.5-flash-image"
    assert data["provider_name"] == body["provider"]
    assert data["native_tokens_prompt"] == body["usage"]["prompt_tokens"]
    assert data["native_tokens_completion"] == body["usage"]["completion_tokens"]
    assert data["created_at"]


def test_generation_with_no_delay_is_available_at_once(http: httpx.Client) -> None:
    http.post("/__emulator__/config", json={"generation_404_seconds": 0}).raise_for_status()
    body = chat_image(http, "anthropic/claude-sonnet-4.5", "hi").json()

    assert (
        http.get("/generation", params={"id": body["id"]}).json()["data"]["total_cost"]
        == body["usage"]["cost"]
    )
    assert http.get("/generation", params={"id": "gen-unknown"}).status_code == 404


def test_requests_log_counts_generation_calls_per_route_and_model(http: httpx.Client) -> None:
    http.post("/images", json={"model": "openai/gpt-image-1", "prompt": "a"})
    http.post("/images", json={"model": "openai/gpt-image-1", "prompt": "b", "n": 99})
    chat_image(http, "google/gemini-2.5-flash-image", "c")

    report = http.get("/__emulator__/requests").json()
    assert report["total"] == 3
    assert report["counts"] == {
        "/images": {"openai/gpt-image-1": 2},
        "/chat/completions": {"google/gemini-2.5-flash-image": 1},
    }
    assert [r["status"] for r in report["requests"]] == [200, 400, 200]


def test_an_image_api_only_model_is_not_a_chat_model(http: httpx.Client) -> None:
    listed = {
        m["id"] for m in http.get("/models", params={"output_modalities": "image"}).json()["data"]
    }
    chat = http.post(
        "/chat/completions",
        json={
            "model": "openai/gpt-image-1",
            "messages": [{"role": "user", "content": "a cat"}],
            "modalities": ["image"],
        },
    )

    assert "openai/gpt-image-1" not in listed
    assert "openai/gpt-5-image" in listed
    assert chat.status_code == 404
    assert (
        http.post("/images", json={"model": "openai/gpt-image-1", "prompt": "a"}).status_code == 200
    )
