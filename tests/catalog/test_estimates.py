"""The estimator's arithmetic for each unit and variant, checked against hand-computed sums."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.estimates import (
    EstimateRequest,
    estimate_from_pricing,
    headline_price,
    model_headline_price,
    pixel_size,
)
from catalog.price_words import describe_models_price, describe_price, describe_prices, format_usd
from generation.openrouter.types import PricingLine

D = Decimal
SEEDREAM = [
    PricingLine("output_image", "image", D("0.04")),
    PricingLine("output_image", "image", D("0.06"), "4k"),
]
RIVERFLOW = [
    PricingLine("output_image", "image", D("0.02")),
    PricingLine("output_image", "image", D("0.04"), "2k"),
    PricingLine("input_image", "image", D("0.005")),
    PricingLine("input_font", "image", D("0.03")),
    PricingLine("input_reference", "image", D("0.2")),
]
FLUX = [
    PricingLine("output_image", "megapixel", D("0.03")),
    PricingLine("input_reference", "megapixel", D("0.015")),
]
GEMINI = [
    PricingLine("input_text", "token", D("3E-7")),
    PricingLine("input_image", "token", D("3E-7")),
    PricingLine("output_image", "token", D("3E-5")),
]


def total(pricing: list[PricingLine], slug: str = "acme/model", **request: Any) -> Decimal:
    return estimate_from_pricing(slug, pricing, EstimateRequest(**request)).total


class TestPerImage:
    def test_n_images_at_the_base_price(self) -> None:
        result = estimate_from_pricing("a/b", SEEDREAM, EstimateRequest(n=3))

        assert result.total == D("0.12")
        [line] = result.lines
        assert (line.quantity, line.unit, line.unit_price, line.amount) == (
            D(3),
            "image",
            D("0.04"),
            D("0.12"),
        )

    def test_the_4k_variant_replaces_the_base_line_at_4k(self) -> None:
        result = estimate_from_pricing("a/b", SEEDREAM, EstimateRequest(n=2, resolution="4K"))

        assert result.total == D("0.12")
        assert "4K" in result.lines[0].label

    def test_a_tier_without_its_own_variant_uses_the_base_line(self) -> None:
        assert total(SEEDREAM, resolution="2K") == D("0.04")
        assert total(RIVERFLOW, resolution="2K") == D("0.04")
        assert total(RIVERFLOW, resolution="1K") == D("0.02")

    def test_an_explicit_pixel_size_picks_the_tier_of_its_pixels(self) -> None:
        assert total(SEEDREAM, size="4096x4096") == D("0.06")
        assert total(RIVERFLOW, size="2048x2048") == D("0.04")
        assert total(RIVERFLOW, size="1024x1024") == D("0.02")


class TestPerMegapixel:
    @pytest.mark.parametrize(
        ("request_", "expected"),
        [
            ({}, D("0.03145728")),  # 1024x1024 = 1.048576 MP
            ({"aspect_ratio": "16:9"}, D("0.03096576")),  # 1344x768 = 1.032192 MP
            ({"aspect_ratio": "16:9", "resolution": "2K"}, D("0.12386304")),  # 2688x1536
            ({"resolution": "0.5K"}, D("0.00786432")),  # 512x512
            ({"resolution": "512"}, D("0.00786432")),
            ({"size": "1000x500"}, D("0.015")),  # explicit size wins: 0.5 MP
            ({"size": "1000x500", "aspect_ratio": "1:1"}, D("0.015")),
            ({"n": 2, "aspect_ratio": "21:9", "resolution": "4K"}, D("0.99090432")),
        ],
    )
    def test_priced_by_the_real_pixel_size(
        self, request_: dict[str, Any], expected: Decimal
    ) -> None:
        result = estimate_from_pricing(
            "black-forest-labs/flux.2-pro", FLUX, EstimateRequest(**request_)
        )

        assert result.total == expected

    def test_mai_uses_its_own_ratio_table(self) -> None:
        # MAI 16:9 is 1365x768 = 1.04832 MP (the standard table says 1344x768).
        assert total(FLUX, slug="microsoft/mai-image-2.5", aspect_ratio="16:9") == D("0.0314496")
        assert pixel_size("microsoft/mai-image-2.5", aspect_ratio="4:3") == (1024, 768)
        assert pixel_size("google/gemini-2.5-flash-image", aspect_ratio="4:3") == (1184, 864)

    def test_pixel_sizes_follow_the_seed_tables_and_tiers(self) -> None:
        assert pixel_size("a/b", aspect_ratio="9:16") == (768, 1344)
        assert pixel_size("a/b", aspect_ratio="3:2", resolution="2K") == (2496, 1664)
        assert pixel_size("a/b", aspect_ratio="4:5", resolution="4K") == (3584, 4608)
        assert pixel_size("a/b", aspect_ratio="auto") == (1024, 1024)
        # Not in a table: the tier's area, sides rounded to 16 px.
        assert pixel_size("a/b", aspect_ratio="2:1") == (1456, 720)

    def test_reference_images_priced_per_megapixel_are_assumed_1_mp(self) -> None:
        result = estimate_from_pricing("a/b", FLUX, EstimateRequest(input_images=2))

        assert result.total == D("0.03145728") + D("0.03")
        assert any("1 MP" in note for note in result.assumptions)


class TestPerToken:
    def test_1290_tokens_for_a_1k_square_image(self) -> None:
        result = estimate_from_pricing("google/gemini-2.5-flash-image", GEMINI, EstimateRequest())

        assert result.total == D("0.0387")
        assert result.lines[0].quantity == 1290
        assert any("1290" in note for note in result.assumptions)

    def test_tokens_scale_with_pixels(self) -> None:
        # 1290 * 1344*768 / 1024^2 = 1269.84 -> 1270 tokens
        assert total(GEMINI, aspect_ratio="16:9") == D("0.0381")
        # 2K square is 4x the pixels: 5160 tokens
        assert total(GEMINI, resolution="2K") == D("0.1548")

    def test_prompt_and_input_images_add_their_tokens(self) -> None:
        result = estimate_from_pricing(
            "google/gemini-2.5-flash-image",
            GEMINI,
            EstimateRequest(prompt_chars=101, input_images=2),
        )

        # 1290 * 3e-5 + ceil(101/4)=26 * 3e-7 + 2*258 * 3e-7
        assert result.total == D("0.0387") + D("0.0000078") + D("0.0001548")
        assert [line.quantity for line in result.lines] == [1290, 26, 516]

    def test_quality_uses_openai_published_token_counts(self) -> None:
        gpt = [PricingLine("output_image", "token", D("4E-5"))]
        slug = "openai/gpt-image-1"

        assert total(gpt, slug, quality="high") == D("0.1664")  # 4160 tokens
        assert total(gpt, slug, quality="low") == D("0.01088")  # 272 tokens
        assert total(gpt, slug, quality="medium", aspect_ratio="3:2") == D("0.06336")  # 1584


class TestImageTokenTable:
    """The per-model, per-tier counts of catalog/data/image_tokens.json (issue 10, item 5)."""

    GPT = [PricingLine("output_image", "token", D("4E-5"))]
    PRO = [PricingLine("output_image", "token", D("0.00012"))]
    FLASH = [PricingLine("output_image", "token", D("0.00006"))]
    MAI = [PricingLine("output_image", "token", D("0.000033"))]

    def test_gpt_image_without_a_quality_is_estimated_as_high(self) -> None:
        # OpenAI bills "no quality" (and "auto") as high: 4160 tokens, 6240 when not square.
        assert total(self.GPT, "openai/gpt-image-1") == D("0.1664")
        assert total(self.GPT, "openai/gpt-image-1", quality="auto") == D("0.1664")
        assert total(self.GPT, "openai/gpt-5-image", aspect_ratio="2:3") == D("0.2496")
        assert pixel_size("openai/gpt-image-1", aspect_ratio="3:2") == (1536, 1024)

    def test_gemini_3_pro_counts_1120_at_1k_and_2k_and_2000_at_4k(self) -> None:
        slug = "google/gemini-3-pro-image-preview"
        assert total(self.PRO, slug, resolution="1K") == D("0.1344")
        assert total(self.PRO, slug, resolution="2K") == D("0.1344")
        assert total(self.PRO, slug, resolution="4K") == D("0.24")
        # A dated slug finds the same entry.
        assert total(self.PRO, f"{slug}-20251120", resolution="4K") == D("0.24")

    def test_gemini_3_1_flash_counts_each_tier(self) -> None:
        slug = "google/gemini-3.1-flash-image-preview"
        tiers = {"0.5K": "0.04482", "1K": "0.0672", "2K": "0.1008", "4K": "0.1512"}
        for tier, expected in tiers.items():
            assert total(self.FLASH, slug, resolution=tier) == D(expected), tier

    def test_mai_counts_1024_tokens_per_image(self) -> None:
        result = estimate_from_pricing("microsoft/mai-image-2.5", self.MAI, EstimateRequest())

        assert result.lines[0].quantity == 1024
        assert result.total == D("0.033792")

    def test_openai_reference_images_count_765_tokens(self) -> None:
        gpt = [*self.GPT, PricingLine("input_image", "token", D("1E-5"))]
        result = estimate_from_pricing(
            "openai/gpt-image-1", gpt, EstimateRequest(quality="low", input_images=2)
        )

        assert [line.quantity for line in result.lines] == [272, 1530]

    def test_every_figure_has_a_source_and_every_emulated_token_model_an_entry(self) -> None:
        from catalog import image_tokens
        from emulator import catalog_data

        document = image_tokens.table()
        for slug, entry in document["models"].items():
            assert entry["source"].strip(), slug
            assert entry["input_image"]["source"].strip(), slug
            assert ("by_tier" in entry) != ("by_quality" in entry), slug
        token_priced = {
            model["id"]
            for model in catalog_data.IMAGE_MODELS
            for endpoint in model["endpoints"]
            for line in endpoint["pricing"]
            if line["billable"] == "output_image" and line["unit"] == "token"
        }
        assert token_priced
        assert {slug for slug in token_priced if image_tokens.entry(slug) is None} == set()


class TestAdditions:
    def test_input_images_fonts_and_super_resolution_references(self) -> None:
        result = estimate_from_pricing(
            "sourceful/riverflow-v2-fast",
            RIVERFLOW,
            EstimateRequest(input_images=1, font_inputs=2, super_resolution_references=3),
        )

        # 0.02 image + 0.005 input + 2 * 0.03 fonts + 3 * 0.20 references
        assert result.total == D("0.685")
        assert [line.amount for line in result.lines] == [
            D("0.02"),
            D("0.005"),
            D("0.6"),
            D("0.06"),
        ]
        assert result.assumptions == []

    def test_documented_prices_when_the_endpoint_lists_none(self) -> None:
        result = estimate_from_pricing(
            "a/b",
            [PricingLine("output_image", "image", D("0.02"))],
            EstimateRequest(font_inputs=1, super_resolution_references=1),
        )

        assert result.total == D("0.25")
        assert len(result.assumptions) == 2

    def test_no_output_price_says_so(self) -> None:
        result = estimate_from_pricing("a/b", [], EstimateRequest())

        assert result.total == 0
        assert "no output-image price" in result.assumptions[0]

    def test_the_tool_style_notes_the_text_model_cost(self) -> None:
        result = estimate_from_pricing("a/b", SEEDREAM, EstimateRequest(style="tool_chat"))

        assert any("text model" in note for note in result.assumptions)


class TestHeadline:
    def test_one_1k_square_image_without_inputs(self) -> None:
        assert headline_price("a/b", RIVERFLOW) == D("0.02")
        assert headline_price("a/b", FLUX) == D("0.03145728")
        assert headline_price("a/b", GEMINI) == D("0.0387")
        assert headline_price("a/b", [PricingLine("input_text", "token", D("1"))]) is None

    def test_a_model_takes_its_cheapest_endpoint(self) -> None:
        together = [PricingLine("output_image", "image", D("0.04"))]

        assert model_headline_price("a/b", [together, FLUX]) == D("0.03145728")

    def test_chat_only_models_fall_back_to_the_models_image_output_price(self) -> None:
        models = [
            PricingLine("image_output", "token", D("0.00003")),
            PricingLine("prompt", "token", D("0.0000003")),
        ]

        assert model_headline_price("a/b", [], models) == D("0.0387")
        zero = [PricingLine("prompt", "token", D("0")), PricingLine("completion", "token", D(0))]
        assert model_headline_price("a/b", [], zero) is None


class TestFromParams:
    def test_chat_options_nested_or_dotted(self) -> None:
        nested = EstimateRequest.from_params(
            style="chat",
            params={
                "image_config": {
                    "image_size": "0.5K",
                    "aspect_ratio": "16:9",
                    "font_inputs": [{"font_url": "https://f", "text": "a"}] * 2,
                    "super_resolution_references": ["https://a", "https://b"],
                }
            },
            references=1,
            prompt_chars=40,
        )
        dotted = EstimateRequest.from_params(
            style="chat",
            params={
                "image_config.image_size": "0.5K",
                "image_config.aspect_ratio": "16:9",
                "image_config.font_inputs": '[{"font_url": "https://f", "text": "a"}, {}]',
                "image_config.super_resolution_references": "https://a\nhttps://b\n",
            },
            references=1,
            prompt_chars=40,
        )

        assert nested == dotted
        assert (nested.resolution, nested.font_inputs, nested.super_resolution_references) == (
            "0.5K",
            2,
            2,
        )
        assert nested.n == 1

    def test_image_api_values_as_submitted(self) -> None:
        request = EstimateRequest.from_params(
            style="images", params={"n": "3", "size": "2K", "quality": "high"}
        )

        assert (request.n, request.resolution, request.size, request.quality) == (
            3,
            "2K",
            None,
            "high",
        )
        assert EstimateRequest.from_params(style="images", params={"n": "lots"}).n == 1
        assert EstimateRequest.from_params(style="images", params={"n": 40}).n == 10


class TestInWords:
    def test_each_line(self) -> None:
        assert describe_price(PricingLine("output_image", "megapixel", D("0.03"))) == (
            "$0.03 per megapixel"
        )
        assert describe_price(PricingLine("input_text", "token", D("3E-5"))) == (
            "$0.00003 per token of input text"
        )
        assert describe_price(PricingLine("input_font", "image", D("0.03"))) == (
            "+$0.03 per font input"
        )
        assert describe_price(PricingLine("output_image", "image", D("0.08"), "4k")) == (
            "$0.08 per image at 4K"
        )

    def test_variants_fold_into_their_base_line(self) -> None:
        lines = [
            PricingLine("input_reference", "image", D("0.2")),
            PricingLine("output_image", "image", D("0.08"), "4k"),
            PricingLine("output_image", "image", D("0.05")),
        ]

        assert describe_prices(lines) == [
            "$0.05 per image, $0.08 at 4K",
            "+$0.20 per reference image",
        ]

    def test_models_prices(self) -> None:
        assert describe_models_price("completion", D("0.0000025")) == (
            "$0.0000025 per token of output"
        )
        assert describe_models_price("request", D("0.001")) == "$0.001 per request"

    @pytest.mark.parametrize(
        ("value", "places", "shown"),
        [
            (D("3E-5"), None, "$0.00003"),
            (D("0.2"), None, "$0.20"),
            (D("12"), None, "$12.00"),
            (D("0.030000000000"), None, "$0.03"),
            (D("0.03145728"), 4, "$0.0315"),
            (D("0.0000078"), 4, "$0.0000078"),
            (D("0"), 4, "$0.00"),
        ],
    )
    def test_money_is_never_in_exponent_notation(
        self, value: Decimal, places: int | None, shown: str
    ) -> None:
        assert format_usd(value, places=places) == shown
