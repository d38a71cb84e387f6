"""Cost estimates from the catalog's pricing lines (their words: ``catalog.price_words``).

An estimate is what a request *should* cost by the endpoint's published
pricing lines; the real charge is ``usage.cost`` and is recorded beside it.
Money is ``Decimal`` end to end; only ``format_usd`` rounds, for display.

How each unit is counted (see README, "Models catalog"):

* ``image``: per image; a line whose ``variant`` (``2k``/``4k``) matches the
  tier of the output replaces the line without a variant.
* ``megapixel``: per million *real* output pixels. Pixels come from an
  explicit ``WxH`` size when given; otherwise from the aspect ratio at 1K
  (the seeds' table: 1:1 1024x1024, 16:9 1344x768, …; the Azure MAI table for
  ``microsoft/mai-image-*``; OpenAI's 1024x1024, 1536x1024, 1024x1536 for its
  GPT image models) scaled by the tier (``0.5K``/``512`` x0.5,
  ``2K`` x2, ``4K`` x4). The same rule serves the Image API, whose providers
  derive pixels themselves: OpenRouter documents no other table. Ratios not
  in a table keep the tier's area (sides rounded to 16 px).
* ``token``: output images at the model's published tokens per image, from
  ``catalog/data/image_tokens.json`` (see ``catalog.image_tokens``): by tier
  for Gemini and MAI, by quality and shape for OpenAI's GPT image models (no
  quality is billed as high); models the table does not cover at 1290 tokens
  per 1024x1024 image scaled by pixel count. Prompt text at characters / 4;
  input images at the table's tokens per input image (258 on Google, 765 on
  OpenAI).
* Inputs: ``input_image`` per input image (else ``input_reference``, as FLUX
  names it), ``input_font`` per font, super-resolution references at the
  endpoint's ``input_reference`` price or the seeds' $0.20; input images
  priced per megapixel are assumed to be 1 MP each.

The headline price of an endpoint is the estimate for one 1024x1024 (1K,
1:1) output image with no inputs; a model's is the cheapest of its current
endpoints (or, for a model served only through Chat Completions, its
``/models`` ``image_output`` token price times its tokens per 1K image).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from catalog import image_tokens
from catalog.price_words import PriceLike, format_usd, plain_number
from generation.openrouter.sizes import GPT_1K, MAI_1K, STANDARD_1K, TIER_SCALE
from generation.openrouter.types import PricingLine
from generation.openrouter.validation import parse_aspect_ratio, parse_pixel_size, tier_of_pixels

if TYPE_CHECKING:
    from catalog.models import Endpoint, ImageModel

CHARS_PER_TOKEN = 4
ONE_K_PIXELS = 1024 * 1024
MEGAPIXEL = Decimal(1_000_000)
ASSUMED_INPUT_MEGAPIXELS = Decimal(1)
# The seeds' prices for Sourceful's extras, used when the endpoint lists no line.
SUPER_RESOLUTION_REFERENCE_USD = Decimal("0.20")
FONT_INPUT_USD = Decimal("0.03")
MAI_PREFIX = "microsoft/mai-image"
GPT_PREFIXES = ("openai/gpt-image", "openai/gpt-5")
_TIER_NAMES = {"0.5K": "512", "512": "512", "1K": "1K", "2K": "2K", "4K": "4K"}


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    """What is asked for, as far as price goes.

    ``style`` is ``images``, ``chat`` or a tool style (``tool``, ``tool_chat``,
    ``tool_responses``). ``resolution`` is a tier (``512``/``0.5K``, ``1K``,
    ``2K``, ``4K``; chat's ``image_size``); ``size`` explicit pixels
    (``"1024x768"``) or a tier; ``input_images`` counts reference/input images.
    """

    style: str = "images"
    n: int = 1
    resolution: str | None = None
    size: str | None = None
    aspect_ratio: str | None = None
    input_images: int = 0
    font_inputs: int = 0
    super_resolution_references: int = 0
    prompt_chars: int = 0
    quality: str | None = None

    @classmethod
    def from_params(
        cls,
        *,
        style: str,
        params: Mapping[str, Any],
        references: int = 0,
        prompt_chars: int = 0,
    ) -> EstimateRequest:
        """Read a request from option values, cleaned or as submitted.

        Accepts the shapes ``catalog.cleaning.clean_options`` returns
        (chat options under ``image_config``) as well as flat or dotted keys
        (``image_config.image_size``) holding strings; anything unreadable is
        left at its default so a half-filled form still gets an estimate.
        """
        flat: dict[str, Any] = {}
        for key, value in params.items():
            if key == "image_config" and isinstance(value, Mapping):
                flat.update(value)
            else:
                flat[key.removeprefix("image_config.")] = value
        n = _as_count(flat.get("n"), default=1) if style == "images" else 1
        size = _as_text(flat.get("size"))
        resolution = _as_text(flat.get("resolution")) or _as_text(flat.get("image_size"))
        if size and size.upper() in _TIER_NAMES:
            resolution, size = resolution or size.upper(), None
        if size == "auto":
            size = None
        return cls(
            style=style,
            n=max(1, min(n, 10)),
            resolution=resolution,
            size=size,
            aspect_ratio=_as_text(flat.get("aspect_ratio")),
            input_images=max(0, references),
            font_inputs=_count_items(flat.get("font_inputs")),
            super_resolution_references=_count_items(flat.get("super_resolution_references")),
            prompt_chars=max(0, prompt_chars),
            quality=_as_text(flat.get("quality")),
        )


@dataclass(frozen=True, slots=True)
class EstimateLine:
    """``quantity`` of ``unit`` at ``unit_price`` USD each makes ``amount`` USD."""

    label: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Estimate:
    total: Decimal
    lines: list[EstimateLine] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    @property
    def display_total(self) -> str:
        return format_usd(self.total, places=4)


def normalize_tier(value: str | None) -> str | None:
    """``"0.5K"``/``"512"`` -> ``"512"``, ``"2k"`` -> ``"2K"``; ``None`` if not a tier."""
    if not value:
        return None
    return _TIER_NAMES.get(value.strip().upper())


def pixel_size(
    model_slug: str,
    *,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    size: str | None = None,
) -> tuple[int, int]:
    """The output size in pixels by the rule in the module docstring."""
    if size:
        pixels = parse_pixel_size(size.strip())
        if pixels is not None:
            return pixels
    tier = normalize_tier(resolution) or normalize_tier(size) or "1K"
    ratio = aspect_ratio if aspect_ratio and aspect_ratio != "auto" else "1:1"
    slug = model_slug.lower()
    table = (
        MAI_1K
        if slug.startswith(MAI_PREFIX)
        else GPT_1K
        if slug.startswith(GPT_PREFIXES)
        else STANDARD_1K
    )
    base = table.get(ratio) or STANDARD_1K.get(ratio)
    if base is None:
        parsed = parse_aspect_ratio(ratio) or (1, 1)
        value = parsed[0] / parsed[1]
        base = (
            max(16, round(math.sqrt(ONE_K_PIXELS * value) / 16) * 16),
            max(16, round(math.sqrt(ONE_K_PIXELS / value) / 16) * 16),
        )
    scale = TIER_SCALE[tier]
    width = int((base[0] * scale).to_integral_value(ROUND_HALF_UP))
    height = int((base[1] * scale).to_integral_value(ROUND_HALF_UP))
    return max(1, width), max(1, height)


def output_tier(request: EstimateRequest, pixels: tuple[int, int]) -> str:
    """The tier that picks a variant price: the explicit size's, else the one asked for."""
    if request.size and parse_pixel_size(request.size.strip()) is not None:
        return tier_of_pixels(*pixels)
    return normalize_tier(request.resolution) or "1K"


def _pick(
    pricing: Sequence[PriceLike], billable: str, variant: str | None = None
) -> PriceLike | None:
    # Negative prices are OpenRouter's "variable" marker, not a price.
    lines = [line for line in pricing if line.billable == billable and line.cost_usd >= 0]
    if variant:
        for line in lines:
            if (line.variant or "").lower() == variant:
                return line
    for line in lines:
        if not line.variant:
            return line
    return None


def _line(label: str, quantity: Decimal, unit: str, price: Decimal) -> EstimateLine:
    return EstimateLine(label, quantity, unit, price, quantity * price)


def estimate_from_pricing(
    model_slug: str, pricing: Sequence[PriceLike], request: EstimateRequest
) -> Estimate:
    """The estimate for ``request`` from these pricing lines (pure arithmetic)."""
    lines: list[EstimateLine] = []
    notes: list[str] = []
    pixels = pixel_size(
        model_slug,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        size=request.size,
    )
    megapixels = Decimal(pixels[0] * pixels[1]) / MEGAPIXEL
    tier = output_tier(request, pixels)
    variant = tier.lower() if tier in ("2K", "4K") else None
    n = Decimal(request.n)
    plural = "s" if request.n != 1 else ""

    output = _pick(pricing, "output_image", variant)
    if output is None:
        notes.append("This endpoint lists no output-image price; only inputs are counted.")
    else:
        at = f" at {tier}" if output.variant else ""
        if output.unit == "megapixel":
            lines.append(
                _line(
                    f"{request.n} image{plural} of {pixels[0]}×{pixels[1]} "
                    f"({plain_number(megapixels)} MP each)",
                    n * megapixels,
                    "megapixel",
                    output.cost_usd,
                )
            )
        elif output.unit == "token":
            counted = image_tokens.output_tokens(model_slug, pixels, tier, request.quality)
            lines.append(
                _line(
                    f"{request.n} image{plural} of {pixels[0]}×{pixels[1]}, "
                    f"{counted.tokens} tokens each",
                    n * counted.tokens,
                    "token",
                    output.cost_usd,
                )
            )
            if counted.exact:
                notes.append(f"Image tokens per image: {counted.source}.")
            else:
                notes.append(
                    f"Image tokens are scaled by pixel count from {counted.source}; "
                    "the provider may count differently, so this estimate is rough."
                )
        else:
            lines.append(_line(f"{request.n} image{plural}{at}", n, "image", output.cost_usd))
            if output.unit != "image":
                notes.append(f"Output priced per {output.unit}; counted once per image.")
    if request.style == "images" and request.n > 1:
        notes.append("n is an upper bound: a provider may return (and charge for) fewer images.")

    text = _pick(pricing, "input_text")
    if text is not None and request.prompt_chars > 0:
        if text.unit == "token":
            tokens = math.ceil(request.prompt_chars / CHARS_PER_TOKEN)
            lines.append(
                _line(f"Prompt, about {tokens} tokens", Decimal(tokens), "token", text.cost_usd)
            )
            notes.append("Prompt tokens are estimated as characters / 4.")
        else:
            lines.append(_line("Prompt", Decimal(1), text.unit, text.cost_usd))

    image_line = _pick(pricing, "input_image")
    reference_line = _pick(pricing, "input_reference")
    if request.input_images:
        count = Decimal(request.input_images)
        source = image_line or reference_line
        if source is None:
            notes.append("Input images have no price line on this endpoint; counted as free.")
        elif source.unit == "megapixel":
            lines.append(
                _line(
                    f"{request.input_images} input image(s), assumed 1 MP each",
                    count * ASSUMED_INPUT_MEGAPIXELS,
                    "megapixel",
                    source.cost_usd,
                )
            )
            notes.append("Input images priced per megapixel are assumed to be 1 MP each.")
        elif source.unit == "token":
            per_image = image_tokens.input_image_tokens(model_slug)
            lines.append(
                _line(
                    f"{request.input_images} input image(s), {per_image} tokens each",
                    count * per_image,
                    "token",
                    source.cost_usd,
                )
            )
            notes.append(f"Input images count {per_image} tokens each.")
        else:
            lines.append(
                _line(f"{request.input_images} input image(s)", count, "image", source.cost_usd)
            )

    if request.super_resolution_references:
        count = Decimal(request.super_resolution_references)
        label = f"{request.super_resolution_references} super-resolution reference(s)"
        if reference_line is not None:
            lines.append(_line(label, count, "reference", reference_line.cost_usd))
        else:
            lines.append(_line(label, count, "reference", SUPER_RESOLUTION_REFERENCE_USD))
            notes.append("Super-resolution references use the documented $0.20 each.")

    if request.font_inputs:
        count = Decimal(request.font_inputs)
        label = f"{request.font_inputs} font input(s)"
        font = _pick(pricing, "input_font")
        if font is not None:
            lines.append(_line(label, count, "font", font.cost_usd))
        else:
            lines.append(_line(label, count, "font", FONT_INPUT_USD))
            notes.append("Font inputs use the documented $0.03 each.")

    if request.style.startswith("tool"):
        notes.append("The text model that calls the image tool adds its own token costs.")
    total = sum((line.amount for line in lines), Decimal(0))
    return Estimate(total=total, lines=lines, assumptions=notes)


def models_pricing_lines(prices: Iterable[PriceLike]) -> list[PricingLine]:
    """``/models`` prices as pricing lines, for models with no image endpoint."""
    lines: list[PricingLine] = []
    for price in prices:
        if price.billable == "image_output":
            lines.append(PricingLine("output_image", "token", price.cost_usd))
        elif price.billable == "prompt":
            lines.append(PricingLine("input_text", "token", price.cost_usd))
        elif price.billable == "image":
            lines.append(PricingLine("input_image", "image", price.cost_usd))
    return lines


def estimate(endpoint: Endpoint | ImageModel, request: EstimateRequest) -> Estimate:
    """The estimate for ``request`` on ``endpoint``'s current prices.

    Given a model instead, its default endpoint is used, or its ``/models``
    prices when no image endpoint serves it. A ``quality`` is only counted
    when the endpoint has a ``quality`` knob (others ignore it).
    """
    from catalog import selectors
    from catalog.models import Endpoint as EndpointRow

    if isinstance(endpoint, EndpointRow):
        return _estimate_endpoint(endpoint, request)
    chosen = selectors.default_endpoint(endpoint)
    if chosen is not None:
        return _estimate_endpoint(chosen, request)
    result = estimate_from_pricing(
        endpoint.slug, models_pricing_lines(selectors.models_prices(endpoint)), request
    )
    result.assumptions.append("From the /models token prices: no image endpoint lists prices.")
    return result


def _estimate_endpoint(endpoint: Endpoint, request: EstimateRequest) -> Estimate:
    if request.quality and "quality" not in (endpoint.supported_parameters or {}):
        request = replace(request, quality=None)
    return estimate_from_pricing(endpoint.model.slug, endpoint.current_prices(), request)


def headline_price(model_slug: str, pricing: Sequence[PriceLike]) -> Decimal | None:
    """One 1K square output image, no inputs; ``None`` without an output-image price."""
    if _pick(pricing, "output_image") is None:
        return None
    return estimate_from_pricing(model_slug, pricing, EstimateRequest()).total


def model_headline_price(
    model_slug: str,
    endpoint_pricing: Iterable[Sequence[PriceLike]],
    models_prices: Sequence[PriceLike] = (),
) -> Decimal | None:
    """The cheapest endpoint headline, else one from the ``/models`` image-output price."""
    prices = [
        price
        for price in (headline_price(model_slug, lines) for lines in endpoint_pricing)
        if price is not None
    ]
    if prices:
        return min(prices)
    fallback = models_pricing_lines(models_prices)
    output = _pick(fallback, "output_image")
    if output is None or output.cost_usd <= 0:
        return None
    return headline_price(model_slug, fallback)


# Tolerant readers for option values that may still be form strings.


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _as_count(value: object, *, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    if isinstance(value, Decimal | float):
        try:
            return int(value)
        except (ValueError, OverflowError, InvalidOperation):
            return default
    return default


def _count_items(value: object) -> int:
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            # One URL per line, as the super-resolution field takes them.
            return len([line for line in value.splitlines() if line.strip()])
        return len(parsed) if isinstance(parsed, list) else 0
    return 0
