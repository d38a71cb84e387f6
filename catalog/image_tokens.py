"""Image token counts for token-priced models, read from ``catalog/data/image_tokens.json``.

The data file is Darkroom's own table (not the emulator's): output tokens per
image by resolution tier or by quality and shape, and the tokens one input
image adds, each with a ``source`` saying where the figure comes from.
Lookups are by model slug: an exact entry, else the longest entry the slug
extends (``google/gemini-3-pro-image-preview-20251120``, ``…:free``), else
the default (1290 per 1024x1024 image, scaled by pixel count).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("data") / "image_tokens.json"
ONE_K_PIXELS = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImageTokens:
    """Tokens for one output image and where that figure comes from."""

    tokens: int
    source: str
    exact: bool  # a published (or recorded) figure rather than the scaled default


@functools.cache
def table() -> dict[str, Any]:
    """The whole data file (read once)."""
    with DATA_FILE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


def entry(model_slug: str) -> dict[str, Any] | None:
    """The table's entry for ``model_slug``, or ``None`` when no entry covers it."""
    models: dict[str, Any] = table()["models"]
    slug = model_slug.strip().lower()
    if slug in models:
        return dict(models[slug])
    base = slug.split(":", 1)[0]
    if base in models:
        return dict(models[base])
    extended = [key for key in models if base.startswith(f"{key}-")]
    if not extended:
        return None
    return dict(models[max(extended, key=len)])


def output_tokens(
    model_slug: str, pixels: tuple[int, int], tier: str, quality: str | None
) -> ImageTokens:
    """Output tokens of one ``pixels``-sized image at ``tier`` (``512``/``1K``/``2K``/``4K``).

    ``quality`` only matters for tables by quality; an unknown or missing one
    counts as the table's ``unspecified_quality`` (OpenAI bills it as high).
    A tier the table does not list scales its 1K figure by pixel count.
    """
    found = entry(model_slug)
    if found is not None and "by_quality" in found:
        by_quality: dict[str, list[int]] = found["by_quality"]
        chosen = quality if quality in by_quality else found.get("unspecified_quality", "high")
        square, other = by_quality[chosen]
        tokens = square if pixels[0] == pixels[1] else other
        return ImageTokens(int(tokens), str(found["source"]), True)
    if found is not None and "by_tier" in found:
        by_tier: dict[str, int] = found["by_tier"]
        if tier in by_tier:
            return ImageTokens(int(by_tier[tier]), str(found["source"]), True)
        if "1K" in by_tier:
            return ImageTokens(_scaled(by_tier["1K"], pixels), str(found["source"]), False)
    default = table()["default"]
    return ImageTokens(
        _scaled(int(default["tokens_per_1k_image"]), pixels), str(default["source"]), False
    )


def input_image_tokens(model_slug: str) -> int:
    """Prompt tokens one input (reference) image adds on this model."""
    found = entry(model_slug)
    source = (found or {}).get("input_image") or table()["default"]["input_image"]
    return int(source["tokens"])


def _scaled(tokens_at_1k: int, pixels: tuple[int, int]) -> int:
    return math.ceil(Decimal(tokens_at_1k) * Decimal(pixels[0] * pixels[1]) / ONE_K_PIXELS)
