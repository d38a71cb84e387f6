"""Capability descriptors become form fields, and submitted values become clean parameters."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from catalog.capabilities import (
    describe_capabilities,
    max_input_references,
    option_fields,
)
from catalog.cleaning import clean_options
from catalog.models import Endpoint, ImageModel

FLUX_PARAMS = {
    "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9", "9:16"]},
    "resolution": {"type": "enum", "values": ["512", "1K", "2K"]},
    "n": {"type": "range", "min": 1, "max": 4},
    "seed": {"type": "boolean"},
    "output_format": {"type": "enum", "values": ["jpeg", "png", "webp"]},
    "output_compression": {"type": "range", "min": 0, "max": 100},
    "input_references": {"type": "range", "min": 0, "max": 8},
    "prompt_upsampling": {"type": "boolean"},
}


@pytest.fixture
def flux(make_model: Callable[..., ImageModel], make_endpoint: Callable[..., Endpoint]) -> Endpoint:
    model = make_model("black-forest-labs/flux.2-pro", supported_parameters=FLUX_PARAMS)
    return make_endpoint(
        model,
        "black-forest-labs",
        provider_name="Black Forest Labs",
        supported_parameters=FLUX_PARAMS,
        allowed_passthrough_parameters=["steps", "guidance"],
    )


def errors_of(call: Callable[[], Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


class TestImageApiFields:
    def test_each_descriptor_type_becomes_its_field(self, flux: Endpoint) -> None:
        fields = option_fields(flux, "images")

        aspect = fields["aspect_ratio"]
        assert isinstance(aspect, forms.ChoiceField)
        assert list(aspect.choices) == [  # type: ignore[arg-type]
            ("", "Model default"),
            ("1:1", "1:1"),
            ("16:9", "16:9"),
            ("9:16", "9:16"),
        ]
        n = fields["n"]
        assert isinstance(n, forms.IntegerField)
        assert (n.min_value, n.max_value) == (1, 4)
        # A boolean seed carries a number, not true/false.
        seed = fields["seed"]
        assert isinstance(seed, forms.IntegerField)
        assert seed.min_value == 0
        assert isinstance(fields["prompt_upsampling"], forms.BooleanField)
        assert "input_references" not in fields
        assert all(not field.required for field in fields.values())
        assert fields["n"].label == "Number of images"

    def test_passthrough_keys_become_provider_option_fields(self, flux: Endpoint) -> None:
        fields = option_fields(flux, "images")

        assert "provider_options.steps" in fields
        assert "Black Forest Labs" in str(fields["provider_options.steps"].label)

    def test_clean_returns_only_what_was_set(self, flux: Endpoint) -> None:
        params = clean_options(
            flux,
            "images",
            {
                "aspect_ratio": "16:9",
                "n": "2",
                "seed": "42",
                "resolution": "",
                "output_format": "",
                "prompt_upsampling": "on",
                "provider_options.steps": "40",
                "provider_options.guidance": "3.5",
            },
        )

        assert params == {
            "aspect_ratio": "16:9",
            "n": 2,
            "seed": 42,
            "prompt_upsampling": True,
            "provider_options": {"black-forest-labs": {"steps": 40, "guidance": 3.5}},
        }

    def test_every_field_at_fault_is_named(self, flux: Endpoint) -> None:
        errors = errors_of(
            lambda: clean_options(flux, "images", {"n": "9", "aspect_ratio": "7:3", "seed": "x"})
        )

        assert set(errors) == {"n", "aspect_ratio", "seed"}

    def test_cross_field_rules_come_from_the_client_checks(self, flux: Endpoint) -> None:
        errors = errors_of(
            lambda: clean_options(
                flux, "images", {"output_format": "png", "output_compression": "80"}
            )
        )

        assert list(errors) == ["output_compression"]
        assert "lossy" in errors["output_compression"][0]
        assert clean_options(
            flux, "images", {"output_format": "webp", "output_compression": "80"}
        ) == {"output_format": "webp", "output_compression": 80}

    def test_too_many_references_is_a_form_error(self, flux: Endpoint) -> None:
        errors = errors_of(lambda: clean_options(flux, "images", {}, input_images=9))

        assert "at most 8" in errors[NON_FIELD_ERRORS][0]
        assert max_input_references(flux) == 8

    def test_an_option_the_endpoint_lacks_is_refused(self, flux: Endpoint) -> None:
        errors = errors_of(lambda: clean_options(flux, "images", {"quality": "high"}))

        assert "not an option" in errors["quality"][0]


def chat_fields(slug: str, make_model: Callable[..., ImageModel]) -> dict[str, forms.Field]:
    return option_fields(make_model(slug), "chat")


def choice_values(field: forms.Field) -> list[str]:
    return [value for value, _ in field.choices if value]  # type: ignore[attr-defined]


class TestChatImageConfig:
    def test_standard_models_get_the_seed_table(
        self, make_model: Callable[..., ImageModel]
    ) -> None:
        fields = chat_fields("google/gemini-2.5-flash-image", make_model)

        assert list(fields) == ["image_config.aspect_ratio", "image_config.image_size"]
        assert choice_values(fields["image_config.aspect_ratio"]) == [
            "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
        ]  # fmt: skip
        assert choice_values(fields["image_config.image_size"]) == ["1K", "2K", "4K"]

    def test_gemini_3_1_adds_extended_ratios_and_half_k(
        self, make_model: Callable[..., ImageModel]
    ) -> None:
        fields = chat_fields("google/gemini-3.1-flash-image-preview", make_model)

        assert {"1:4", "4:1", "1:8", "8:1"} <= set(
            choice_values(fields["image_config.aspect_ratio"])
        )
        assert choice_values(fields["image_config.image_size"]) == ["0.5K", "1K", "2K", "4K"]

    def test_mai_has_its_own_ratios(self, make_model: Callable[..., ImageModel]) -> None:
        fields = chat_fields("microsoft/mai-image-2.5", make_model)

        assert choice_values(fields["image_config.aspect_ratio"]) == [
            "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3",
        ]  # fmt: skip

    def test_recraft_options(self, make_model: Callable[..., ImageModel]) -> None:
        v3 = chat_fields("recraft/recraft-v3", make_model)
        v4 = chat_fields("recraft/recraft-v4", make_model)

        assert {"strength", "style", "text_layout", "rgb_colors", "background_rgb_color"} <= {
            name.removeprefix("image_config.") for name in v3
        }
        assert "image_config.text_layout" not in v4
        assert "image_config.style" not in v4
        assert isinstance(v3["image_config.strength"], forms.DecimalField)
        assert "Image-to-image only" in str(v3["image_config.strength"].help_text)

    def test_sourceful_options(self, make_model: Callable[..., ImageModel]) -> None:
        v2 = chat_fields("sourceful/riverflow-v2-fast", make_model)
        v25 = chat_fields("sourceful/riverflow-v2.5-pro", make_model)

        assert {"image_config.font_inputs", "image_config.super_resolution_references"} <= set(v2)
        assert "image_config.scoring_rubric" not in v2
        assert {
            "image_config.scoring_prompt",
            "image_config.scoring_rubric",
            "image_config.background_mode",
            "image_config.background_hex_color",
        } <= set(v25)

    def test_clean_nests_under_image_config(self, make_model: Callable[..., ImageModel]) -> None:
        model = make_model("recraft/recraft-v3")

        params = clean_options(
            model,
            "chat",
            {
                "image_config.aspect_ratio": "16:9",
                "image_config.strength": "0.5",
                "image_config.rgb_colors": "[[255, 0, 0], [0, 0, 255]]",
                "image_config.background_rgb_color": "10, 20, 30",
                "image_config.style": "",
            },
            input_images=1,
        )

        assert params == {
            "image_config": {
                "aspect_ratio": "16:9",
                "strength": 0.5,
                "rgb_colors": [[255, 0, 0], [0, 0, 255]],
                "background_rgb_color": [10, 20, 30],
            }
        }
        assert isinstance(params["image_config"]["strength"], float)

    def test_structured_options_name_the_place_at_fault(
        self, make_model: Callable[..., ImageModel]
    ) -> None:
        model = make_model("recraft/recraft-v3")

        errors = errors_of(
            lambda: clean_options(
                model,
                "chat",
                {
                    "image_config.text_layout": '[{"text": "SALE", "bbox": [[0, 0], [2, 0]]}]',
                    "image_config.rgb_colors": "[[255, 0",
                    "image_config.strength": "0.5",
                },
            )
        )

        assert errors["image_config.text_layout"][0].startswith("[0].bbox: ")
        assert errors["image_config.rgb_colors"][0].startswith("Not valid JSON")
        # Strength needs an input image; none was given.
        assert "image-to-image" in errors["image_config.strength"][0]

    def test_solid_background_needs_a_colour(self, make_model: Callable[..., ImageModel]) -> None:
        model = make_model("sourceful/riverflow-v2.5-pro")

        errors = errors_of(
            lambda: clean_options(model, "chat", {"image_config.background_mode": "solid"})
        )

        assert list(errors) == ["image_config.background_hex_color"]
        assert clean_options(
            model,
            "chat",
            {"background_mode": "solid", "background_hex_color": "#102030"},
        ) == {"image_config": {"background_mode": "solid", "background_hex_color": "#102030"}}

    def test_font_inputs_are_checked(self, make_model: Callable[..., ImageModel]) -> None:
        model = make_model("sourceful/riverflow-v2-fast")
        one = '[{"font_url": "https://f/a.ttf", "text": "a"}]'
        fonts = (
            '[{"font_url": "https://f/a.ttf", "text": "a"}, {"font_url": "ftp://x", "text": "b"}]'
        )

        errors = errors_of(lambda: clean_options(model, "chat", {"font_inputs": fonts}))

        assert errors["image_config.font_inputs"][0].startswith("[1].font_url: ")
        assert clean_options(model, "chat", {"font_inputs": one}) == {
            "image_config": {"font_inputs": [{"font_url": "https://f/a.ttf", "text": "a"}]}
        }


class TestServerTool:
    def test_tool_parameters_use_the_endpoint_value_sets(
        self, flux: Endpoint, make_model: Callable[..., ImageModel]
    ) -> None:
        fields = option_fields(flux, "tool_chat")

        assert list(fields) == [
            "model",
            "quality",
            "size",
            "aspect_ratio",
            "background",
            "output_format",
            "output_compression",
            "moderation",
        ]
        assert choice_values(fields["output_format"]) == ["jpeg", "png", "webp"]
        assert choice_values(fields["aspect_ratio"]) == ["1:1", "16:9", "9:16"]
        assert "black-forest-labs/flux.2-pro" in choice_values(fields["model"])

    def test_clean_tool_parameters(self, flux: Endpoint) -> None:
        assert clean_options(
            flux,
            "tool_responses",
            {"quality": "high", "output_format": "jpeg", "output_compression": "80", "size": ""},
        ) == {"quality": "high", "output_format": "jpeg", "output_compression": 80}

        errors = errors_of(
            lambda: clean_options(
                flux, "tool", {"size": "big", "output_format": "png", "output_compression": "5"}
            )
        )
        assert set(errors) == {"size", "output_compression"}


def test_capabilities_in_words() -> None:
    words = describe_capabilities(
        {
            "seed": {"type": "boolean"},
            "input_references": {"type": "range", "min": 0, "max": 4},
            "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9"]},
            "n": {"type": "range", "min": 1, "max": 10},
            "output_format": {"type": "enum", "values": ["png", "webp"]},
        }
    )

    assert words == [
        "Number of images: 1 to 10",
        "Aspect ratio: one of 1:1, 16:9",
        "Output format: one of PNG, WebP",
        "Seed: supported",
        "Input references: up to 4",
    ]


def test_an_unknown_style_is_a_programming_error(flux: Endpoint) -> None:
    with pytest.raises(ValueError, match="unknown generation style"):
        option_fields(flux, "fax")


def test_decimal_values_are_stored_as_json_numbers(make_model: Callable[..., ImageModel]) -> None:
    params = clean_options(
        make_model("recraft/recraft-v4"), "chat", {"strength": "1"}, input_images=1
    )

    assert params == {"image_config": {"strength": 1}}
    assert not any(isinstance(v, Decimal) for v in params["image_config"].values())
