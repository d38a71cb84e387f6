"""Chat Completions ``image_config``: which keys apply to which model family, and their checks.

``image_config_options_for(model_id)`` reads a small declarative table (by id
prefix, general to specific); the catalog, the form builder and the emulator
read the same table, and ``validate_image_config`` checks a request against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from generation.openrouter.errors import RequestInvalid
from generation.openrouter.validation import (
    _HEX_COLOR_RE,
    EXTENDED_ASPECT_RATIOS,
    EXTENDED_IMAGE_SIZES,
    MAI_ASPECT_RATIOS,
    STANDARD_ASPECT_RATIOS,
    STANDARD_IMAGE_SIZES,
    _choices,
    _is_int,
    _is_number,
    check_image_url,
)

OptionKind = Literal[
    "choice",
    "number",
    "text",
    "rgb",
    "rgb_list",
    "hex_color",
    "text_layout",
    "font_inputs",
    "url_list",
    "rubric",
]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One ``image_config`` key a model accepts, described for a form builder.

    ``kind`` says what value it takes: ``choice`` (one of ``choices``),
    ``number`` (between ``minimum`` and ``maximum``), ``text``, ``rgb``
    (``[r, g, b]``, 0-255), ``rgb_list``, ``hex_color`` (``#RRGGBB``),
    ``url_list`` (up to ``max_items``), or a structured list (``text_layout``,
    ``font_inputs``, ``rubric``). ``requires_input_image`` options only apply
    to image-to-image requests.
    """

    key: str
    kind: OptionKind
    label: str
    help: str = ""
    choices: tuple[str, ...] = ()
    default: str | float | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_items: int | None = None
    requires_input_image: bool = False


_ASPECT_HELP = "Shape of the image."
_SIZE_HELP = "Resolution tier; higher costs more."

ASPECT_RATIO = OptionSpec(
    "aspect_ratio", "choice", "Aspect ratio", _ASPECT_HELP, STANDARD_ASPECT_RATIOS, "1:1"
)
IMAGE_SIZE = OptionSpec(
    "image_size", "choice", "Image size", _SIZE_HELP, STANDARD_IMAGE_SIZES, "1K"
)

# Which image_config keys apply to which models, from general to specific: a
# model gets every entry whose prefix its id starts with, later entries
# replacing earlier ones key by key. Prefixes rather than exact ids so that
# variants (":free") and successors in a family keep working.
IMAGE_CONFIG_FAMILIES: tuple[tuple[str, tuple[OptionSpec, ...]], ...] = (
    ("", (ASPECT_RATIO, IMAGE_SIZE)),
    (
        "microsoft/mai-image-2.5",
        (
            OptionSpec(
                "aspect_ratio", "choice", "Aspect ratio", _ASPECT_HELP, MAI_ASPECT_RATIOS, "1:1"
            ),
        ),
    ),
    (
        "google/gemini-3.1-flash-image",
        (
            OptionSpec(
                "aspect_ratio",
                "choice",
                "Aspect ratio",
                _ASPECT_HELP,
                EXTENDED_ASPECT_RATIOS,
                "1:1",
            ),
            OptionSpec(
                "image_size", "choice", "Image size", _SIZE_HELP, EXTENDED_IMAGE_SIZES, "1K"
            ),
        ),
    ),
    (
        "recraft/",
        (
            OptionSpec(
                "strength",
                "number",
                "Strength",
                "How far the result may move away from the input image.",
                default=0.2,
                minimum=0.0,
                maximum=1.0,
                requires_input_image=True,
            ),
            OptionSpec("rgb_colors", "rgb_list", "Colour palette", "Colours to favour."),
            OptionSpec("background_rgb_color", "rgb", "Background colour"),
        ),
    ),
    (
        "recraft/recraft-v3",
        (
            OptionSpec(
                "text_layout",
                "text_layout",
                "Text layout",
                "Text placed in boxes given by four corners in 0-1 coordinates.",
            ),
            OptionSpec("style", "text", "Style", "A Recraft style name (not a vector style)."),
        ),
    ),
    (
        # v2 only (fast, pro, standard-preview): the seeds exclude v2.5.
        "sourceful/riverflow-v2-",
        (
            OptionSpec(
                "font_inputs",
                "font_inputs",
                "Fonts",
                "Text to render in a given font; repeat the text in the prompt.",
                max_items=2,
            ),
            OptionSpec(
                "super_resolution_references",
                "url_list",
                "Super-resolution references",
                "High-quality references to sharpen parts of the input image.",
                max_items=4,
                requires_input_image=True,
            ),
        ),
    ),
    (
        "sourceful/riverflow-v2.5",
        (
            OptionSpec("scoring_prompt", "text", "Scoring prompt", "Guidance to judge the result."),
            OptionSpec("scoring_rubric", "rubric", "Scoring rubric", "Weighted criteria."),
            OptionSpec(
                "background_mode",
                "choice",
                "Background",
                "Keep, remove, or fill the background.",
                ("original", "transparent", "solid"),
                "original",
            ),
            OptionSpec(
                "background_hex_color",
                "hex_color",
                "Background colour",
                "Fill colour for a solid background, #RRGGBB.",
            ),
        ),
    ),
)


def image_config_options_for(model_id: str) -> dict[str, OptionSpec]:
    """The ``image_config`` keys that apply to ``model_id``, in form order."""
    model = model_id.lower()
    options: dict[str, OptionSpec] = {}
    for prefix, specs in IMAGE_CONFIG_FAMILIES:
        if model.startswith(prefix):
            for spec in specs:
                options[spec.key] = spec
    return options


def chat_modalities(output_modalities: Sequence[str]) -> list[str]:
    """``modalities`` for a chat image request.

    ``["image", "text"]`` sent to an image-only model fails with 404, so text
    is asked for only when the model outputs text too.
    """
    if "image" not in output_modalities:
        raise RequestInvalid("model", "this model does not output images; pick an image model")
    return ["image", "text"] if "text" in output_modalities else ["image"]


def validate_image_config(
    model_id: str, image_config: Mapping[str, Any], *, has_input_images: bool = False
) -> None:
    """Check a chat ``image_config`` for ``model_id``; raise ``RequestInvalid``.

    Keys outside ``image_config_options_for(model_id)`` are rejected, so the
    table must be updated when a model family gains an option.
    """
    options = image_config_options_for(model_id)
    for key, value in image_config.items():
        field = f"image_config.{key}"
        spec = options.get(key)
        if spec is None:
            offered = _choices(options) or "none"
            raise RequestInvalid(field, f"is not supported by {model_id}; it accepts: {offered}")
        if spec.requires_input_image and not has_input_images:
            raise RequestInvalid(
                field, "applies only to image-to-image; add an input image or remove it"
            )
        _OPTION_CHECKS[spec.kind](spec, value, field)
    if (
        image_config.get("background_mode") == "solid"
        and "background_hex_color" not in image_config
    ):
        raise RequestInvalid(
            "image_config.background_hex_color",
            "is required when background_mode is solid; give a colour like #FFFFFF",
        )


def _check_choice(spec: OptionSpec, value: Any, field: str) -> None:
    if value not in spec.choices:
        raise RequestInvalid(
            field, f"{value!r} is not offered; choose one of {_choices(spec.choices)}"
        )


def _check_number(spec: OptionSpec, value: Any, field: str) -> None:
    if not _is_number(value):
        raise RequestInvalid(field, f"must be a number, not {value!r}")
    if (spec.minimum is not None and value < spec.minimum) or (
        spec.maximum is not None and value > spec.maximum
    ):
        raise RequestInvalid(field, f"must be from {spec.minimum} to {spec.maximum}")


def _check_text(spec: OptionSpec, value: Any, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RequestInvalid(field, "must be a non-empty string")
    if spec.key == "style" and value.startswith("vector"):
        raise RequestInvalid(field, f"vector styles such as {value!r} are not supported")


def _check_rgb(spec: OptionSpec, value: Any, field: str) -> None:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 3
        or not all(_is_int(channel) and 0 <= channel <= 255 for channel in value)
    ):
        raise RequestInvalid(field, f"must be [r, g, b] with whole numbers 0-255, not {value!r}")


def _items(spec: OptionSpec, value: Any, field: str) -> list[Any]:
    if not isinstance(value, (list, tuple)) or not value:
        raise RequestInvalid(field, "must be a non-empty list")
    if spec.max_items is not None and len(value) > spec.max_items:
        raise RequestInvalid(field, f"takes at most {spec.max_items} entries; {len(value)} given")
    return list(value)


def _check_rgb_list(spec: OptionSpec, value: Any, field: str) -> None:
    for index, color in enumerate(_items(spec, value, field)):
        _check_rgb(spec, color, f"{field}[{index}]")


def _check_hex_color(spec: OptionSpec, value: Any, field: str) -> None:
    if not isinstance(value, str) or not _HEX_COLOR_RE.match(value):
        raise RequestInvalid(field, f"must be a colour like #1A2B3C, not {value!r}")


def _entry(value: Any, field: str, required: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RequestInvalid(field, f"must be an object with {_choices(required)}")
    for key in required:
        if key not in value:
            raise RequestInvalid(f"{field}.{key}", "is required")
    return value


def _check_text_layout(spec: OptionSpec, value: Any, field: str) -> None:
    for index, item in enumerate(_items(spec, value, field)):
        entry = _entry(item, f"{field}[{index}]", ("text", "bbox"))
        if not isinstance(entry["text"], str) or not entry["text"]:
            raise RequestInvalid(f"{field}[{index}].text", "must be a non-empty string")
        bbox = entry["bbox"]
        points_ok = (
            isinstance(bbox, (list, tuple))
            and len(bbox) == 4
            and all(
                isinstance(point, (list, tuple))
                and len(point) == 2
                and all(_is_number(coord) and 0 <= coord <= 1 for coord in point)
                for point in bbox
            )
        )
        if not points_ok:
            raise RequestInvalid(
                f"{field}[{index}].bbox",
                "must be four [x, y] corners (top-left, top-right, bottom-right, bottom-left) "
                "with coordinates from 0 to 1",
            )


def _check_font_inputs(spec: OptionSpec, value: Any, field: str) -> None:
    for index, item in enumerate(_items(spec, value, field)):
        entry = _entry(item, f"{field}[{index}]", ("font_url", "text"))
        url = entry["font_url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise RequestInvalid(f"{field}[{index}].font_url", "must be an http(s) URL")
        if not isinstance(entry["text"], str) or not entry["text"]:
            raise RequestInvalid(f"{field}[{index}].text", "must be a non-empty string")


def _check_url_list(spec: OptionSpec, value: Any, field: str) -> None:
    for index, url in enumerate(_items(spec, value, field)):
        check_image_url(url, f"{field}[{index}]")


def _check_rubric(spec: OptionSpec, value: Any, field: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(_items(spec, value, field)):
        here = f"{field}[{index}]"
        entry = _entry(item, here, ("key", "label", "description", "weight"))
        for name in ("key", "label", "description"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise RequestInvalid(f"{here}.{name}", "must be a non-empty string")
        if entry["key"] in seen:
            raise RequestInvalid(
                f"{here}.key", f"{entry['key']!r} is used twice; keys must be unique"
            )
        seen.add(entry["key"])
        if not _is_number(entry["weight"]) or entry["weight"] <= 0:
            raise RequestInvalid(f"{here}.weight", "must be a positive number")
        if "passing_score" in entry and not _is_number(entry["passing_score"]):
            raise RequestInvalid(f"{here}.passing_score", "must be a number")
        if "score_guidance" in entry:
            guidance = entry["score_guidance"]
            if not isinstance(guidance, (list, tuple)):
                raise RequestInvalid(f"{here}.score_guidance", "must be a list")
            for number, anchor in enumerate(guidance):
                where = f"{here}.score_guidance[{number}]"
                anchor = _entry(anchor, where, ("score", "description"))
                if not _is_number(anchor["score"]):
                    raise RequestInvalid(f"{where}.score", "must be a number")
                if not isinstance(anchor["description"], str):
                    raise RequestInvalid(f"{where}.description", "must be a string")


_OPTION_CHECKS = {
    "choice": _check_choice,
    "number": _check_number,
    "text": _check_text,
    "rgb": _check_rgb,
    "rgb_list": _check_rgb_list,
    "hex_color": _check_hex_color,
    "text_layout": _check_text_layout,
    "font_inputs": _check_font_inputs,
    "url_list": _check_url_list,
    "rubric": _check_rubric,
}
