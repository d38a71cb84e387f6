"""Contract check: the client against the offline emulator over real HTTP.

The respx tests pin the client to the documented shapes; these make sure the
emulator and the client agree on them too, for each way of generating.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from generation.openrouter import EMULATOR_API_KEY, OpenRouterClient, PartialImage

emulator = pytest.importorskip("emulator")


@pytest.fixture(scope="module")
def local() -> Iterator[OpenRouterClient]:
    with (
        emulator.EmulatorServer(port=0, generation_404_seconds=0.2) as server,
        OpenRouterClient(
            EMULATOR_API_KEY, base_url=server.url, generation_retry_delays=(0.1, 0.2, 0.4, 0.8)
        ) as client,
    ):
        yield client


def test_discovery_and_image_api(local):
    models = {model.id: model for model in local.list_image_models()}
    assert "openai/gpt-image-1" in models
    (endpoint, *_) = local.get_endpoints("openai/gpt-image-1")
    assert endpoint.pricing
    partials: list[PartialImage] = []
    result = local.generate_image(
        "openai/gpt-image-1",
        "a red panda",
        params={"output_format": "webp", "quality": "low"},
        stream=endpoint.supports_streaming,
        on_partial=partials.append,
        endpoint=endpoint,
    )
    assert result.images
    assert result.cost is not None
    assert result.cost > 0
    assert result.generation_id is None


def test_chat_image_and_its_final_cost(local):
    result = local.chat_image(
        "google/gemini-2.5-flash-image",
        "a sunset",
        output_modalities=["image", "text"],
        image_config={"aspect_ratio": "16:9"},
        stream=True,
    )
    assert result.images
    assert result.generation_id
    stats = local.get_generation(result.generation_id)
    assert stats.total_cost == result.cost


def test_tool_image_through_both_apis(local):
    text_models = [model.id for model in local.list_models("text")]
    assert text_models
    for api in ("chat", "responses"):
        result = local.tool_image(text_models[0], "draw a lighthouse", api=api)
        assert result.images
        assert result.cost is not None


def test_the_same_request_again_is_drawn_from_the_emulator_cache(local):
    """A benchmark sends one prompt hundreds of times: the emulator encodes its
    final image and its partial previews once, and sends the same bytes."""
    from emulator import drawing, generate

    (endpoint, *_) = local.get_endpoints("openai/gpt-image-1")
    assert endpoint.supports_streaming

    def once() -> tuple[bytes, list[bytes]]:
        partials: list[PartialImage] = []
        result = local.generate_image(
            "openai/gpt-image-1",
            "a red panda, cached",
            params={"quality": "low"},
            stream=True,
            on_partial=partials.append,
            endpoint=endpoint,
        )
        return result.images[0].data, [partial.data for partial in partials]

    first = once()
    finals, previews = drawing.rendered.cache_info(), generate._encoded_preview.cache_info()
    second = once()

    assert second == first
    assert first[1]
    assert drawing.rendered.cache_info().hits > finals.hits
    assert generate._encoded_preview.cache_info().hits >= previews.hits + len(first[1])
    assert generate._encoded_preview.cache_info().misses == previews.misses
