"""Pre-flight checks: each rule passes a good request and names the field of a bad one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from generation.openrouter import (
    Endpoint,
    RequestInvalid,
    chat_modalities,
    image_config_options_for,
    validate_image_config,
    validate_image_request,
    validate_tool_parameters,
)
from generation.openrouter.validation import (
    EXTENDED_ASPECT_RATIOS,
    MAI_ASPECT_RATIOS,
    STANDARD_ASPECT_RATIOS,
    check_image_url,
    tier_of_pixels,
)
from tests.openrouter.payloads import FLUX_ENDPOINT, GPT_IMAGE_ENDPOINT

GPT_IMAGE = Endpoint.from_api(GPT_IMAGE_ENDPOINT)
FLUX = Endpoint.from_api(FLUX_ENDPOINT)


def field_of(call: Any) -> str:
    with pytest.raises(RequestInvalid) as caught:
        call()
    return caught.value.field


# POST /images


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        (
            GPT_IMAGE,
            {
                "n": 2,
                "quality": "high",
                "size": "1536x1024",
                "aspect_ratio": "3:2",
                "output_format": "webp",
                "background": "transparent",
                "output_compression": 80,
            },
        ),
        (FLUX, {"resolution": "1K", "aspect_ratio": "16:9", "size": "1344x768", "seed": 42}),
        (FLUX, {"size": "2K"}),  # a tier shorthand for an endpoint with resolution
        (FLUX, {"quality": "high"}),  # ignored by providers without the knob
        (FLUX, {"n": 1}),  # the default, even where n is not offered
        (FLUX, {"aspect_ratio": "4:3", "size": "1184x864"}),  # provider rounding
        (None, {"style": "anything", "output_format": "jpeg", "output_compression": 0}),
        (None, {"aspect_ratio": "auto", "size": "1024x1024"}),
    ],
)
def test_image_request_passes(endpoint, params):
    validate_image_request(params, endpoint=endpoint)


@pytest.mark.parametrize(
    ("endpoint", "params", "field", "fragment"),
    [
        (GPT_IMAGE, {"output_format": "gif"}, "output_format", "choose one of png, webp, jpeg"),
        (None, {"output_format": "gif"}, "output_format", "choose one of png, jpeg, webp"),
        (GPT_IMAGE, {"n": 11}, "n", "from 1 to 10"),
        (GPT_IMAGE, {"n": 0}, "n", "from 1 to 10"),
        (None, {"n": 12}, "n", "from 1 to 10"),
        (GPT_IMAGE, {"n": 2.0}, "n", "whole number"),
        (GPT_IMAGE, {"seed": 5}, "seed", "not supported by this endpoint"),
        (None, {"seed": -1}, "seed", "from 0"),
        (FLUX, {"n": 2}, "n", "not supported by this endpoint"),
        (FLUX, {"resolution": "4K"}, "resolution", "choose one of 1K, 2K"),
        (FLUX, {"size": "4K"}, "size", "choose one of 1K, 2K"),
        (None, {"quality": "ultra"}, "quality", "choose one of auto, low, medium, high"),
        (None, {"quality": 3}, "quality", "must be a string"),
        (GPT_IMAGE, {"aspect_ratio": "4:5"}, "aspect_ratio", "not offered by this endpoint"),
        (None, {"aspect_ratio": "wide"}, "aspect_ratio", "ratio like '16:9'"),
        (
            GPT_IMAGE,
            {"background": "transparent", "output_format": "jpeg"},
            "background",
            "png or webp",
        ),
        (GPT_IMAGE, {"output_compression": 50}, "output_compression", "jpeg or webp"),
        (
            GPT_IMAGE,
            {"output_compression": 50, "output_format": "png"},
            "output_compression",
            "jpeg or webp",
        ),
        (
            GPT_IMAGE,
            {"output_compression": 150, "output_format": "jpeg"},
            "output_compression",
            "from 0 to 100",
        ),
        (
            None,
            {"output_compression": -1, "output_format": "webp"},
            "output_compression",
            "0 to 100",
        ),
        (GPT_IMAGE, {"size": "1024x1024", "aspect_ratio": "3:2"}, "size", "aspect ratio 3:2"),
        (FLUX, {"size": "2048x2048", "resolution": "1K"}, "size", "2K size but resolution is 1K"),
        (FLUX, {"size": "2K", "resolution": "1K"}, "size", "conflicts with resolution"),
        (None, {"size": "huge"}, "size", "explicit pixels"),
        (None, {"model": "x/y"}, "model", "own argument"),
        (None, {"stream": True}, "stream", "own argument"),
    ],
)
def test_image_request_fails(endpoint, params, field, fragment):
    with pytest.raises(RequestInvalid) as caught:
        validate_image_request(params, endpoint=endpoint)
    assert caught.value.field == field
    assert fragment in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def test_size_on_an_endpoint_with_no_size_knob_at_all():
    bare = Endpoint.from_api(
        {**FLUX_ENDPOINT, "supported_parameters": {"seed": {"type": "boolean"}}}
    )
    assert field_of(lambda: validate_image_request({"size": "1K"}, endpoint=bare)) == "size"


def test_tiers_of_pixel_sizes():
    assert [tier_of_pixels(*size) for size in [(512, 512), (1344, 768), (1536, 672)]] == [
        "512",
        "1K",
        "1K",
    ]
    assert [tier_of_pixels(*size) for size in [(2048, 2048), (2880, 1620), (4096, 4096)]] == [
        "2K",
        "2K",
        "4K",
    ]


REFS_ENDPOINT = GPT_IMAGE  # input_references range max 2


def test_references_pass():
    validate_image_request(
        {},
        endpoint=REFS_ENDPOINT,
        input_references=[
            "https://example.com/a.jpg",
            "data:image/png;name=a.png;base64,iVBORw0KGgo=",
        ],
    )


@pytest.mark.parametrize(
    ("endpoint", "references", "field"),
    [
        (FLUX, ["https://example.com/a.jpg"], "input_references"),
        (REFS_ENDPOINT, ["https://e.com/1.png"] * 3, "input_references"),
        (None, ["ftp://example.com/a.jpg"], "input_references[0]"),
        (None, ["https://ok.example/a.png", "data:text/plain;base64,AAAA"], "input_references[1]"),
        (None, ["data:image/png;base64,"], "input_references[0]"),
        (None, ["data:image/png,rawbytes"], "input_references[0]"),
        (None, ["https://example.com/a b.png"], "input_references[0]"),
        (None, "https://example.com/a.jpg", "input_references"),
    ],
)
def test_references_fail(endpoint, references, field):
    call = lambda: validate_image_request({}, endpoint=endpoint, input_references=references)  # noqa: E731
    assert field_of(call) == field


def test_reference_count_message_says_the_limit():
    with pytest.raises(RequestInvalid) as caught:
        validate_image_request({}, endpoint=REFS_ENDPOINT, input_references=["https://e.com/a"] * 3)
    assert "at most 2" in caught.value.message


def test_provider_options_pass():
    validate_image_request(
        {}, endpoint=FLUX, provider_options={"black-forest-labs": {"steps": 40, "guidance": 3}}
    )
    validate_image_request({}, provider_options={"anyone": {"anything": 1}})


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"fal": {"steps": 4}}, "provider.options.fal", "key them by 'black-forest-labs'"),
        (
            {"black-forest-labs": {"safety_tolerance": 6}},
            "provider.options.black-forest-labs.safety_tolerance",
            "allowed: steps, guidance",
        ),
        ({"black-forest-labs": 5}, "provider.options.black-forest-labs", "object"),
    ],
)
def test_provider_options_fail(options, field, fragment):
    with pytest.raises(RequestInvalid) as caught:
        validate_image_request({}, endpoint=FLUX, provider_options=options)
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_check_image_url_accepts_only_http_and_image_data():
    check_image_url("http://example.com/a.png", "x")
    check_image_url("DATA:image/webp;base64,UklGRg==", "x")
    assert field_of(lambda: check_image_url("javascript:alert(1)", "img")) == "img"
    assert field_of(lambda: check_image_url(42, "img")) == "img"


# The server tool


def test_tool_parameters_pass():
    validate_tool_parameters(
        {
            "model": "openai/gpt-5-image",
            "quality": "high",
            "aspect_ratio": "16:9",
            "size": "1024x576",
            "background": "opaque",
            "output_format": "webp",
            "output_compression": 70,
            "moderation": "low",
        }
    )
    validate_tool_parameters({"size": "auto", "background": "transparent"})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"seed": 1}, "parameters.seed"),
        ({"background": "transparent", "output_format": "jpeg"}, "parameters.background"),
        ({"size": "1024x1024", "aspect_ratio": "16:9"}, "parameters.size"),
        ({"output_compression": 50}, "parameters.output_compression"),
        ({"output_compression": "50", "output_format": "jpeg"}, "parameters.output_compression"),
        ({"aspect_ratio": "wide"}, "parameters.aspect_ratio"),
        ({"quality": ""}, "parameters.quality"),
        ({"moderation": 1}, "parameters.moderation"),
        ({"model": "gpt-5-image"}, "parameters.model"),
    ],
)
def test_tool_parameters_fail(params, field):
    assert field_of(lambda: validate_tool_parameters(params)) == field


# Chat image_config

GEMINI_25 = "google/gemini-2.5-flash-image"
GEMINI_31 = "google/gemini-3.1-flash-image-preview"
MAI = "microsoft/mai-image-2.5"
RECRAFT_V3 = "recraft/recraft-v3"
RECRAFT_V4 = "recraft/recraft-v4-pro"
RIVERFLOW_2 = "sourceful/riverflow-v2-pro"
RIVERFLOW_25 = "sourceful/riverflow-v2.5-fast"

RUBRIC = [
    {
        "key": "legibility",
        "label": "Legibility",
        "description": "Text is readable",
        "weight": 2,
        "passing_score": 7,
        "score_guidance": [
            {"score": 10, "description": "crisp"},
            {"score": 0, "description": "none"},
        ],
    },
    {"key": "brand", "label": "Brand", "description": "On brand", "weight": Decimal("0.5")},
]
LAYOUT = [{"text": "SALE", "bbox": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.3], [0.1, 0.3]]}]


@pytest.mark.parametrize(
    ("model", "config", "has_input"),
    [
        (GEMINI_25, {"aspect_ratio": "21:9", "image_size": "4K"}, False),
        (GEMINI_31, {"aspect_ratio": "1:8", "image_size": "0.5K"}, False),
        ("google/gemini-3.1-flash-image", {"aspect_ratio": "4:1"}, False),
        (MAI, {"aspect_ratio": "16:9"}, False),
        (RECRAFT_V3, {"strength": 0.5, "style": "digital_illustration"}, True),
        (RECRAFT_V3, {"text_layout": LAYOUT}, False),
        (
            RECRAFT_V4,
            {"rgb_colors": [[255, 0, 0], [0, 0, 255]], "background_rgb_color": [1, 2, 3]},
            False,
        ),
        (RECRAFT_V4, {"strength": 0}, True),
        (
            RIVERFLOW_2,
            {
                "font_inputs": [
                    {"font_url": "https://example.com/a.ttf", "text": "Hello"},
                    {"font_url": "https://example.com/b.otf", "text": "World"},
                ]
            },
            False,
        ),
        (RIVERFLOW_2, {"super_resolution_references": ["https://e.com/r.jpg"] * 4}, True),
        (
            RIVERFLOW_25,
            {
                "scoring_prompt": "Prefer bold type",
                "scoring_rubric": RUBRIC,
                "background_mode": "solid",
                "background_hex_color": "#FFAA00",
            },
            False,
        ),
        (RIVERFLOW_25, {"background_mode": "transparent"}, False),
        (RIVERFLOW_25, {"background_hex_color": "#00ff00"}, False),
        ("black-forest-labs/flux.2-pro:free", {}, False),
    ],
)
def test_image_config_passes(model, config, has_input):
    validate_image_config(model, config, has_input_images=has_input)


@pytest.mark.parametrize(
    ("model", "config", "has_input", "field"),
    [
        (GEMINI_25, {"aspect_ratio": "1:4"}, False, "image_config.aspect_ratio"),
        (GEMINI_25, {"image_size": "0.5K"}, False, "image_config.image_size"),
        (GEMINI_31, {"aspect_ratio": "3:1"}, False, "image_config.aspect_ratio"),
        (MAI, {"aspect_ratio": "4:5"}, False, "image_config.aspect_ratio"),
        (GEMINI_25, {"strength": 0.5}, True, "image_config.strength"),
        (RECRAFT_V3, {"strength": 0.5}, False, "image_config.strength"),
        (RECRAFT_V3, {"strength": 1.5}, True, "image_config.strength"),
        (RECRAFT_V3, {"strength": True}, True, "image_config.strength"),
        (RECRAFT_V4, {"text_layout": LAYOUT}, False, "image_config.text_layout"),
        (RECRAFT_V4, {"style": "any"}, False, "image_config.style"),
        (RECRAFT_V3, {"style": "vector_illustration"}, False, "image_config.style"),
        (RECRAFT_V3, {"text_layout": []}, False, "image_config.text_layout"),
        (
            RECRAFT_V3,
            {"text_layout": [{"text": "A", "bbox": [[0, 0], [1, 0], [1, 1]]}]},
            False,
            "image_config.text_layout[0].bbox",
        ),
        (
            RECRAFT_V3,
            {"text_layout": [{"text": "A", "bbox": [[0, 0], [1.2, 0], [1, 1], [0, 1]]}]},
            False,
            "image_config.text_layout[0].bbox",
        ),
        (RECRAFT_V3, {"text_layout": [{"bbox": []}]}, False, "image_config.text_layout[0].text"),
        (RECRAFT_V4, {"rgb_colors": [[256, 0, 0]]}, False, "image_config.rgb_colors[0]"),
        (RECRAFT_V4, {"rgb_colors": [[1.5, 0, 0]]}, False, "image_config.rgb_colors[0]"),
        (RECRAFT_V4, {"background_rgb_color": [1, 2]}, False, "image_config.background_rgb_color"),
        (GEMINI_25, {"rgb_colors": [[1, 2, 3]]}, False, "image_config.rgb_colors"),
        (
            RIVERFLOW_2,
            {"font_inputs": [{"font_url": "https://e.com/a.ttf", "text": "x"}] * 3},
            False,
            "image_config.font_inputs",
        ),
        (
            RIVERFLOW_2,
            {"font_inputs": [{"font_url": "https://e.com/a.ttf"}]},
            False,
            "image_config.font_inputs[0].text",
        ),
        (
            RIVERFLOW_2,
            {"font_inputs": [{"font_url": "file:///etc/passwd", "text": "x"}]},
            False,
            "image_config.font_inputs[0].font_url",
        ),
        (GEMINI_25, {"font_inputs": []}, False, "image_config.font_inputs"),
        (
            RIVERFLOW_2,
            {"super_resolution_references": ["https://e.com/r.jpg"] * 5},
            True,
            "image_config.super_resolution_references",
        ),
        (
            RIVERFLOW_2,
            {"super_resolution_references": ["https://e.com/r.jpg"]},
            False,
            "image_config.super_resolution_references",
        ),
        (RIVERFLOW_2, {"scoring_prompt": "x"}, False, "image_config.scoring_prompt"),
        (RIVERFLOW_25, {"scoring_prompt": "  "}, False, "image_config.scoring_prompt"),
        (
            RIVERFLOW_25,
            {"scoring_rubric": [RUBRIC[0], RUBRIC[0]]},
            False,
            "image_config.scoring_rubric[1].key",
        ),
        (
            RIVERFLOW_25,
            {"scoring_rubric": [{**RUBRIC[1], "weight": 0}]},
            False,
            "image_config.scoring_rubric[0].weight",
        ),
        (
            RIVERFLOW_25,
            {"scoring_rubric": [{**RUBRIC[1], "score_guidance": [{"score": "high"}]}]},
            False,
            "image_config.scoring_rubric[0].score_guidance[0].description",
        ),
        (
            RIVERFLOW_25,
            {"scoring_rubric": [{"key": "k", "label": "L", "weight": 1}]},
            False,
            "image_config.scoring_rubric[0].description",
        ),
        (RIVERFLOW_25, {"background_mode": "solid"}, False, "image_config.background_hex_color"),
        (RIVERFLOW_25, {"background_mode": "blur"}, False, "image_config.background_mode"),
        (
            RIVERFLOW_25,
            {"background_mode": "transparent", "background_hex_color": "#12345"},
            False,
            "image_config.background_hex_color",
        ),
        (RIVERFLOW_2, {"background_mode": "solid"}, False, "image_config.background_mode"),
    ],
)
def test_image_config_fails(model, config, has_input, field):
    call = lambda: validate_image_config(model, config, has_input_images=has_input)  # noqa: E731
    assert field_of(call) == field


def test_unsupported_key_message_lists_what_is_supported():
    with pytest.raises(RequestInvalid) as caught:
        validate_image_config(GEMINI_25, {"style": "any"})
    assert caught.value.message == (
        "is not supported by google/gemini-2.5-flash-image; it accepts: aspect_ratio, image_size"
    )


def test_option_table_for_form_builders():
    gemini = image_config_options_for(GEMINI_31)
    assert list(gemini) == ["aspect_ratio", "image_size"]
    assert gemini["aspect_ratio"].choices == EXTENDED_ASPECT_RATIOS
    assert gemini["image_size"].choices == ("0.5K", "1K", "2K", "4K")
    assert image_config_options_for(GEMINI_25)["aspect_ratio"].choices == STANDARD_ASPECT_RATIOS
    assert image_config_options_for(MAI)["aspect_ratio"].choices == MAI_ASPECT_RATIOS

    recraft = image_config_options_for(RECRAFT_V3)
    assert set(recraft) == {
        "aspect_ratio",
        "image_size",
        "strength",
        "rgb_colors",
        "background_rgb_color",
        "text_layout",
        "style",
    }
    strength = recraft["strength"]
    assert (strength.kind, strength.minimum, strength.maximum, strength.default) == (
        "number",
        0.0,
        1.0,
        0.2,
    )
    assert strength.requires_input_image

    riverflow = image_config_options_for(RIVERFLOW_25)
    assert {"scoring_rubric", "background_mode"} <= set(riverflow)
    assert riverflow["background_mode"].choices == ("original", "transparent", "solid")
    # Fonts and super-resolution references are Sourceful v2 only, not v2.5 (the seeds).
    assert not {"font_inputs", "super_resolution_references"} & set(riverflow)
    riverflow_2 = image_config_options_for(RIVERFLOW_2)
    assert riverflow_2["font_inputs"].max_items == 2
    assert riverflow_2["super_resolution_references"].max_items == 4
    assert "scoring_rubric" not in riverflow_2


def test_chat_modalities():
    assert chat_modalities(["image", "text"]) == ["image", "text"]
    assert chat_modalities(("text", "image")) == ["image", "text"]
    assert chat_modalities(["image"]) == ["image"]
    assert field_of(lambda: chat_modalities(["text"])) == "model"
