"""Usage and cost from an endpoint's own pricing lines.

The emulator charges exactly what its catalog says, in ``Decimal``, rounded
to 1e-10 USD. Quantities per billable:

``output_image``    each returned image; the line whose ``variant`` matches the
                    image's tier (``2k``/``4k``, from its real pixel size) wins
                    over the line without a variant. ``unit: image`` per image,
                    ``megapixel`` per million real pixels, ``token`` per image
                    token (the model's ``image_tokens`` table by tier, or OpenAI's
                    by quality and shape: low 272/408, medium 1056/1584,
                    high 4160/6240 for square/other; no quality and ``auto``
                    are billed as high, as OpenAI does; 1290 when the model
                    declares nothing)
``input_text``      prompt tokens: ceil(characters / 4)
``input_image``     each input image (chat message images; Image API
                    ``input_references`` when the endpoint has an
                    ``input_image`` line): per image, per megapixel of the
                    image's declared size (1 MP when unknown, e.g. an https URL),
                    or the model's ``input_image_tokens`` per image (258, Google's
                    count, unless the model says otherwise: 765 for OpenAI's)
``input_reference`` Image API ``input_references`` (endpoints without an
                    ``input_image`` line) and Sourceful ``super_resolution_references``
``input_font``      each Sourceful ``font_inputs`` entry

``completion_tokens`` in usage are the image tokens (for every model, priced by
token or not); ``prompt_tokens`` are text tokens plus the input-image tokens.
So for a token-priced endpoint ``usage.cost`` is the reported tokens times the
endpoint's token prices, the way OpenRouter bills.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .drawing import Size, tier_of

INPUT_IMAGE_TOKENS = 258
DEFAULT_IMAGE_TOKENS = 1290
QUANTUM = Decimal("1e-10")
MEGA = Decimal(1_000_000)


@dataclass
class Billables:
    prompt_text: str = ""
    outputs: list[Size] = field(default_factory=list)
    quality: str | None = None
    input_images: list[Size | None] = field(default_factory=list)
    input_references: list[Size | None] = field(default_factory=list)
    fonts: int = 0


@dataclass(frozen=True)
class Charge:
    cost: Decimal
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def image_tokens(model: dict[str, Any], size: Size, quality: str | None) -> int:
    """Output tokens for one image of ``size``, as the model's provider reports them."""
    knobs = model.get("_emulator", {})
    by_quality = knobs.get("image_tokens_by_quality")
    if by_quality:
        # OpenAI bills a request without a quality (or with "auto") as high.
        chosen = quality if quality in by_quality else "high"
        square, other = by_quality.get(chosen, [4160, 6240])
        return int(square if size[0] == size[1] else other)
    by_tier = knobs.get("image_tokens") or {}
    return int(by_tier.get(tier_of(size), DEFAULT_IMAGE_TOKENS))


def _line(
    pricing: Sequence[dict[str, Any]], billable: str, variant: str | None = None
) -> dict[str, Any] | None:
    lines = [line for line in pricing if line.get("billable") == billable]
    if variant:
        for line in lines:
            if line.get("variant") == variant:
                return line
    for line in lines:
        if not line.get("variant"):
            return line
    return None


def _price(line: dict[str, Any]) -> Decimal:
    # repr() keeps what the catalog wrote (3e-05 stays 3E-5, not 3.0000000000000001E-5).
    return (
        Decimal(repr(line["cost_usd"]))
        if isinstance(line["cost_usd"], float)
        else Decimal(str(line["cost_usd"]))
    )


def _megapixels(size: Size | None) -> Decimal:
    return Decimal(1) if size is None else Decimal(size[0] * size[1]) / MEGA


def input_image_tokens(model: dict[str, Any]) -> int:
    """Prompt tokens one input image adds on this model (258, Google's count, by default)."""
    return int(model.get("_emulator", {}).get("input_image_tokens", INPUT_IMAGE_TOKENS))


def _inputs(line: dict[str, Any] | None, sizes: Sequence[Size | None], tokens: int) -> Decimal:
    if line is None or not sizes:
        return Decimal(0)
    unit, price = line.get("unit"), _price(line)
    if unit == "megapixel":
        return sum((price * _megapixels(s) for s in sizes), Decimal(0))
    if unit == "token":
        return price * tokens * len(sizes)
    return price * len(sizes)


def charge(model: dict[str, Any], endpoint: dict[str, Any], billables: Billables) -> Charge:
    """What this request costs on ``endpoint``, and the token counts usage reports."""
    pricing = endpoint.get("pricing", [])
    cost = Decimal(0)
    completion = 0
    for size in billables.outputs:
        tokens = image_tokens(model, size, billables.quality)
        completion += tokens
        tier = tier_of(size)
        line = _line(pricing, "output_image", tier.lower() if tier in ("2K", "4K") else None)
        if line is None:
            continue
        unit, price = line.get("unit"), _price(line)
        if unit == "megapixel":
            cost += price * _megapixels(size)
        elif unit == "token":
            cost += price * tokens
        else:
            cost += price

    prompt = text_tokens(billables.prompt_text)
    text_line = _line(pricing, "input_text")
    if text_line is not None:
        cost += _price(text_line) * (prompt if text_line.get("unit") == "token" else 1)

    image_line = _line(pricing, "input_image")
    reference_line = _line(pricing, "input_reference")
    per_image = input_image_tokens(model)
    cost += _inputs(image_line or reference_line, billables.input_images, per_image)
    cost += _inputs(reference_line, billables.input_references, per_image)
    font_line = _line(pricing, "input_font")
    if font_line is not None:
        cost += _price(font_line) * billables.fonts

    prompt += per_image * len(billables.input_images)
    return Charge(cost.quantize(QUANTUM, rounding=ROUND_HALF_UP), prompt, completion)


def text_charge(
    models_pricing: dict[str, Any], prompt_tokens: int, completion_tokens: int
) -> Decimal:
    """A text model's token cost, from its ``/models`` prices (decimal strings per token)."""
    prompt_price = Decimal(str(models_pricing.get("prompt", "0")))
    completion_price = Decimal(str(models_pricing.get("completion", "0")))
    cost = prompt_price * prompt_tokens + completion_price * completion_tokens
    return cost.quantize(QUANTUM, rounding=ROUND_HALF_UP)


def as_number(cost: Decimal) -> float:
    """``cost`` as the JSON number ``usage.cost`` carries (exact round trip via repr)."""
    return float(cost)


def as_string(cost: Decimal) -> str:
    """``cost`` as a plain decimal string (never exponent notation)."""
    text = format(cost.normalize(), "f")
    return "0" if text in ("-0", "") else text
