"""Prices in words: ``$0.03 per image``, ``$0.0000025 per token of output``.

``format_usd`` is the only place money is rounded, for display; the rest
names what a pricing line (an endpoint's, or a ``/models`` key) is charged
per. ``catalog.estimates`` computes with the same lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

# Line labels and units in words, by billable.
_ADDITIONS = ("input_image", "input_reference", "input_font")
_GROUP_ORDER = ("output_image", "input_text", "input_image", "input_reference", "input_font")
_PHRASES: dict[tuple[str, str], str] = {
    ("output_image", "image"): "per image",
    ("output_image", "megapixel"): "per megapixel",
    ("output_image", "token"): "per token of output image",
    ("input_text", "token"): "per token of input text",
    ("input_image", "image"): "per input image",
    ("input_image", "megapixel"): "per megapixel of input image",
    ("input_image", "token"): "per token of input image",
    ("input_reference", "image"): "per reference image",
    ("input_reference", "megapixel"): "per megapixel of reference image",
    ("input_reference", "token"): "per token of reference image",
}
# /models pricing keys: what each is charged per, in words.
MODELS_PRICE_UNITS: dict[str, str] = {
    "request": "request",
    "web_search": "search",
    "image": "image",
}
_MODELS_PHRASES: dict[str, str] = {
    "prompt": "per token of input",
    "completion": "per token of output",
    "image": "per input image",
    "image_output": "per token of image output",
    "request": "per request",
    "web_search": "per web search",
    "internal_reasoning": "per reasoning token",
    "input_cache_read": "per cached input token read",
    "input_cache_write": "per cached input token written",
    "audio": "per audio token",
}


class PriceLike(Protocol):
    """A ``PricingLine`` or a ``catalog.models.Price``."""

    @property
    def billable(self) -> str: ...

    @property
    def unit(self) -> str: ...

    @property
    def cost_usd(self) -> Decimal: ...

    @property
    def variant(self) -> str | None: ...


def format_usd(value: Decimal, *, places: int | None = None) -> str:
    """``$0.03``, ``$0.00003``, ``$0.20``: never exponent notation.

    Without ``places`` the value is shown exactly (unit prices); with it,
    rounded half-up to that many places, or to two significant digits for
    amounts too small to show at that precision.
    """
    if places is not None and value:
        smallest = Decimal(1).scaleb(-places)
        if abs(value) < smallest:
            places = min(12, -value.adjusted() + 1)
        value = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    text = format(abs(value).normalize(), "f")
    whole, _, decimals = text.partition(".")
    decimals = decimals.ljust(2, "0")
    return f"{sign}${whole}.{decimals}"


def plain_number(value: Decimal) -> str:
    """A decimal in plain digits, never exponent notation."""
    return format(value.normalize(), "f")


def _phrase(billable: str, unit: str) -> str:
    phrase = _PHRASES.get((billable, unit))
    if phrase is not None:
        return phrase
    if billable == "input_font":
        return "per font input"
    noun = billable.replace("_", " ")
    return f"per {unit} of {noun}" if unit != "image" else f"per {noun}"


def describe_price(line: PriceLike) -> str:
    """One pricing line in words: ``$0.03 per megapixel``, ``+$0.03 per font input``,
    ``$0.08 per image at 4K``."""
    if line.cost_usd < 0:
        return f"variable price {_phrase(line.billable, line.unit)}"
    plus = "+" if line.billable in _ADDITIONS else ""
    variant = f" at {str(line.variant).upper()}" if line.variant else ""
    return f"{plus}{format_usd(line.cost_usd)} {_phrase(line.billable, line.unit)}{variant}"


def describe_prices(pricing: Sequence[PriceLike]) -> list[str]:
    """An endpoint's lines in words, a billable's tier variants folded into its base
    line: ``["$0.05 per image, $0.08 at 4K", "+$0.005 per input image"]``."""
    groups: dict[tuple[str, str], list[PriceLike]] = {}
    for line in pricing:
        groups.setdefault((line.billable, line.unit), []).append(line)

    def order(key: tuple[str, str]) -> tuple[int, str, str]:
        rank = _GROUP_ORDER.index(key[0]) if key[0] in _GROUP_ORDER else len(_GROUP_ORDER)
        return (rank, key[0], key[1])

    sentences = []
    for key in sorted(groups, key=order):
        lines = sorted(groups[key], key=lambda line: (bool(line.variant), str(line.variant or "")))
        base = [line for line in lines if not line.variant]
        variants = [line for line in lines if line.variant]
        if base:
            parts = [describe_price(base[0])]
            parts += [
                f"{format_usd(line.cost_usd)} at {str(line.variant).upper()}" for line in variants
            ]
            sentences.append(", ".join(parts))
        else:
            sentences.extend(describe_price(line) for line in variants)
    return sentences


def describe_models_price(key: str, cost: Decimal) -> str:
    """A ``/models`` price in words: ``$0.0000025 per token of output``."""
    phrase = _MODELS_PHRASES.get(key) or f"per {key.replace('_', ' ')} token"
    if cost < 0:
        return f"variable price {phrase}"
    return f"{format_usd(cost)} {phrase}"


def models_price_unit(key: str) -> str:
    """What a ``/models`` pricing key is charged per (stored as the price's unit)."""
    return MODELS_PRICE_UNITS.get(key, "token")
