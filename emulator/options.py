"""Strict checks of parameter and option values: the 400s a provider answers.

An endpoint's parameter descriptors (enum values, integer ranges, the seed),
image URLs (http(s) or a decodable base64 data URL) and the family-specific
options of Recraft and Sourceful (colours, styles, text layout, rubrics,
background), read by the seeds' rules. ``emulator.validation`` decides which
endpoint serves a request and calls these on its options.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import drawing
from .drawing import RGB, Size
from .errors import bad_request

RECRAFT_STYLES = ("any", "realistic_image", "digital_illustration")
MAX_SEED = 2**32 - 1
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
RUBRIC_FIELDS = frozenset(
    {"key", "label", "description", "weight", "passing_score", "score_guidance"}
)


def is_int(value: Any) -> bool:
    """A JSON integer (``True`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_descriptor(key: str, value: Any, descriptor: dict[str, Any], provider: str) -> None:
    kind = descriptor.get("type")
    if kind == "enum":
        values = descriptor.get("values", [])
        if not isinstance(value, str) or value not in values:
            raise bad_request(
                f"Invalid value {value!r} for '{key}': {provider} accepts {values}",
                provider,
                param=key,
            )
    elif kind == "range":
        low, high = descriptor.get("min", 0), descriptor.get("max", 0)
        if key == "input_references":
            count = len(value) if isinstance(value, list) else None
            if count is None:
                raise bad_request("'input_references' must be an array", provider, param=key)
            if count > high:
                raise bad_request(
                    f"Too many input_references: {count} (at most {high} on {provider})",
                    provider,
                    param=key,
                )
            return
        if not is_int(value):
            raise bad_request(f"'{key}' must be an integer", provider, param=key)
        if not low <= value <= high:
            what = (
                f"'{key}' must be at most {high}"
                if value > high
                else f"'{key}' must be at least {low}"
            )
            raise bad_request(f"{what} on {provider} (got {value})", provider, param=key)
    elif key == "seed" and (not is_int(value) or not 0 <= value <= MAX_SEED):
        raise bad_request(
            f"'seed' must be an integer between 0 and {MAX_SEED}", provider, param=key
        )


def decode_image_url(url: Any, provider: str, param: str) -> Size | None:
    """The declared size of a data-URL image (``None`` for an http(s) URL, not fetched)."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"'{param}' needs an image URL", provider, param=param)
    if url.startswith(("https://", "http://")):
        return None
    match = re.fullmatch(r"data:(image/[\w.+-]+);base64,(.*)", url, re.DOTALL)
    if match is None:
        raise bad_request(
            f"'{param}' must be an http(s) URL or a base64 image data URL", provider, param=param
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"'{param}' holds invalid base64", provider, param=param) from None
    if match.group(1) == "image/svg+xml":
        return None
    size = drawing.probe_size(data)
    if size is None:
        raise bad_request(f"'{param}' is not a decodable image", provider, param=param)
    return size


def _rgb(value: Any, key: str, provider: str) -> RGB:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(is_int(c) and 0 <= c <= 255 for c in value)
    ):
        raise bad_request(
            f"'{key}' must be an [r, g, b] array of integers 0-255 (got {value!r})",
            provider,
            param=key,
        )
    return (value[0], value[1], value[2])


def _url(value: Any, key: str, provider: str) -> None:
    if not isinstance(value, str) or not value.startswith(("https://", "http://", "data:")):
        raise bad_request(f"'{key}' must be a URL (got {value!r})", provider, param=key)


@dataclass
class Extras:
    """The effect of the family-specific options (Recraft, Sourceful)."""

    palette: list[RGB] = field(default_factory=list)
    background: RGB | None = None
    transparent: bool = False
    fonts: int = 0
    super_resolution: int = 0


def check_options(options: dict[str, Any], provider: str, *, has_input_image: bool) -> Extras:
    """Validate Recraft/Sourceful options (``image_config`` or passthrough) by the seeds' rules."""
    extras = Extras()
    if "style" in options:
        style = options["style"]
        base = style.split("/", 1)[0] if isinstance(style, str) else None
        if base in ("vector_illustration", "icon", "logo_raster"):
            raise bad_request(f"Vector style {style!r} is not supported", provider, param="style")
        if base not in RECRAFT_STYLES:
            raise bad_request(
                f"Unknown style {style!r}: use one of {list(RECRAFT_STYLES)} (optionally /substyle)",
                provider,
                param="style",
            )
    if "strength" in options:
        strength = options["strength"]
        if not _number(strength) or not 0.0 <= strength <= 1.0:
            raise bad_request(
                "'strength' must be a number from 0.0 to 1.0", provider, param="strength"
            )
    if "text_layout" in options:
        _check_text_layout(options["text_layout"], provider)
    if "rgb_colors" in options:
        colours = options["rgb_colors"]
        if not isinstance(colours, list) or not 1 <= len(colours) <= 10:
            raise bad_request(
                "'rgb_colors' must be a list of 1 to 10 colours", provider, param="rgb_colors"
            )
        extras.palette = [_rgb(c, "rgb_colors", provider) for c in colours]
    if "background_rgb_color" in options:
        extras.background = _rgb(options["background_rgb_color"], "background_rgb_color", provider)
    if "font_inputs" in options:
        fonts = options["font_inputs"]
        if not isinstance(fonts, list) or not 1 <= len(fonts) <= 2:
            raise bad_request("'font_inputs' takes 1 or 2 entries", provider, param="font_inputs")
        for font in fonts:
            if not isinstance(font, dict) or set(font) != {"font_url", "text"}:
                raise bad_request(
                    "each font_inputs entry needs exactly 'font_url' and 'text'",
                    provider,
                    param="font_inputs",
                )
            _url(font["font_url"], "font_inputs.font_url", provider)
            if not isinstance(font["text"], str) or not font["text"].strip():
                raise bad_request(
                    "font_inputs.text must be non-empty text", provider, param="font_inputs"
                )
        extras.fonts = len(fonts)
    if "super_resolution_references" in options:
        references = options["super_resolution_references"]
        if not isinstance(references, list) or not 1 <= len(references) <= 4:
            raise bad_request(
                "'super_resolution_references' takes 1 to 4 URLs",
                provider,
                param="super_resolution_references",
            )
        for reference in references:
            _url(reference, "super_resolution_references", provider)
        if not has_input_image:
            raise bad_request(
                "'super_resolution_references' needs an input image (image-to-image)",
                provider,
                param="super_resolution_references",
            )
        extras.super_resolution = len(references)
    if "scoring_prompt" in options:
        prompt = options["scoring_prompt"]
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 2000:
            raise bad_request(
                "'scoring_prompt' must be text of 1-2000 characters",
                provider,
                param="scoring_prompt",
            )
    if "scoring_rubric" in options:
        _check_rubric(options["scoring_rubric"], provider)
    _check_background(options, provider, extras)
    return extras


def _check_text_layout(layout: Any, provider: str) -> None:
    if not isinstance(layout, list) or not 1 <= len(layout) <= 10:
        raise bad_request(
            "'text_layout' must be a list of 1 to 10 entries", provider, param="text_layout"
        )
    for entry in layout:
        if not isinstance(entry, dict) or set(entry) != {"text", "bbox"}:
            raise bad_request(
                "each text_layout entry needs exactly 'text' and 'bbox'",
                provider,
                param="text_layout",
            )
        if not isinstance(entry["text"], str) or not entry["text"].strip():
            raise bad_request(
                "text_layout.text must be non-empty text", provider, param="text_layout"
            )
        bbox = entry["bbox"]
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(
                isinstance(p, list) and len(p) == 2 and all(_number(c) and 0 <= c <= 1 for c in p)
                for p in bbox
            )
        ):
            raise bad_request(
                "text_layout.bbox must be 4 [x, y] points with coordinates from 0 to 1",
                provider,
                param="text_layout",
            )


def _check_rubric(rubric: Any, provider: str) -> None:
    if not isinstance(rubric, list) or not 1 <= len(rubric) <= 10:
        raise bad_request(
            "'scoring_rubric' must be a list of 1 to 10 entries", provider, param="scoring_rubric"
        )
    keys: set[str] = set()
    for entry in rubric:
        if not isinstance(entry, dict):
            raise bad_request(
                "scoring_rubric entries must be objects", provider, param="scoring_rubric"
            )
        unknown = set(entry) - RUBRIC_FIELDS
        missing = {"key", "label", "description", "weight"} - set(entry)
        if unknown or missing:
            raise bad_request(
                f"scoring_rubric entry: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}",
                provider,
                param="scoring_rubric",
            )
        for name in ("key", "label", "description"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise bad_request(
                    f"scoring_rubric.{name} must be non-empty text",
                    provider,
                    param="scoring_rubric",
                )
        if entry["key"] in keys:
            raise bad_request(
                f"duplicate scoring_rubric key {entry['key']!r}", provider, param="scoring_rubric"
            )
        keys.add(entry["key"])
        if not _number(entry["weight"]) or entry["weight"] <= 0:
            raise bad_request(
                "scoring_rubric.weight must be a positive number", provider, param="scoring_rubric"
            )
        if "passing_score" in entry and not _number(entry["passing_score"]):
            raise bad_request(
                "scoring_rubric.passing_score must be a number", provider, param="scoring_rubric"
            )
        guidance = entry.get("score_guidance", [])
        if not isinstance(guidance, list) or not all(
            isinstance(g, dict)
            and set(g) == {"score", "description"}
            and _number(g["score"])
            and isinstance(g["description"], str)
            for g in guidance
        ):
            raise bad_request(
                "scoring_rubric.score_guidance must be a list of {score, description}",
                provider,
                param="scoring_rubric",
            )


def _check_background(options: dict[str, Any], provider: str, extras: Extras) -> None:
    mode = options.get("background_mode")
    colour = options.get("background_hex_color")
    if colour is not None and (not isinstance(colour, str) or not HEX_COLOUR.fullmatch(colour)):
        # Validated whatever the mode: a malformed colour is a 400 even when it is discarded.
        raise bad_request(
            f"'background_hex_color' must be #RRGGBB (got {colour!r})",
            provider,
            param="background_hex_color",
        )
    if mode is None and colour is None:
        return
    if mode is None:
        mode = "solid"
    if mode not in ("original", "transparent", "solid"):
        raise bad_request(
            f"'background_mode' must be original, transparent or solid (got {mode!r})",
            provider,
            param="background_mode",
        )
    if mode == "solid":
        if colour is None:
            raise bad_request(
                "'background_hex_color' is required when background_mode is solid",
                provider,
                param="background_hex_color",
            )
        extras.background = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    elif mode == "transparent":
        extras.transparent = True
