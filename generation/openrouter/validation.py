"""Request checks made before anything is sent (and before anything is paid).

OpenRouter validates strictly and answers 400 for an option an endpoint does
not list, so Darkroom checks first and tells the user which field to change.
Three request shapes are covered:

* ``POST /images``: ``validate_image_request`` checks parameters against an
  endpoint's capability descriptors plus the rules the seeds state for every
  endpoint (``n`` 1-10, transparent needs png/webp, ``size`` must agree with
  ``aspect_ratio``/``resolution``…).
* Chat ``image_config``: ``validate_image_config`` checks against
  ``image_config_options_for(model_id)``, a small declarative table of which
  keys apply to which model family (by id prefix). The catalog and the form
  builder read the same table.
* The ``openrouter:image_generation`` server tool: ``validate_tool_parameters``.

Every failure is a ``RequestInvalid`` whose ``field`` is the request path at
fault and whose message says what to do instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from generation.openrouter.errors import RequestInvalid
from generation.openrouter.types import Descriptor, Endpoint

STANDARD_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
MAI_ASPECT_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")
EXTENDED_ASPECT_RATIOS = (*STANDARD_ASPECT_RATIOS, "1:4", "4:1", "1:8", "8:1")
STANDARD_IMAGE_SIZES = ("1K", "2K", "4K")
EXTENDED_IMAGE_SIZES = ("0.5K", "1K", "2K", "4K")

IMAGE_FORMATS = ("png", "jpeg", "webp")
ALPHA_FORMATS = ("png", "webp")
LOSSY_FORMATS = ("jpeg", "webp")
QUALITIES = ("auto", "low", "medium", "high")
BACKGROUNDS = ("auto", "transparent", "opaque")
MAX_IMAGES = 10
MAX_SEED = 2**32 - 1  # Providers take unsigned 32-bit seeds.

# Resolution tiers and the edge of the square image each stands for; an
# explicit "WxH" size belongs to the tier nearest its geometric mean edge.
RESOLUTION_TIERS: dict[str, int] = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}
# A size and an aspect ratio agree when their ratios differ by at most 3 %:
# providers round pixel sizes to multiples of 16 or 32 (Gemini's 4:3 is
# 1184x864, 2.8 % off). Too strict here would block requests OpenRouter takes;
# too loose only lets OpenRouter's own 400 through.
_RATIO_TOLERANCE = 0.03

# Fields of POST /images that are not image parameters: they have their own
# arguments on the client.
_RESERVED_IMAGE_FIELDS = ("model", "prompt", "stream", "provider", "input_references")
# Value types of the documented /images parameters. Parameters not listed
# here are checked against their descriptor only.
_IMAGE_PARAM_TYPES: dict[str, type] = {
    "n": int,
    "seed": int,
    "output_compression": int,
    "resolution": str,
    "aspect_ratio": str,
    "size": str,
    "quality": str,
    "output_format": str,
    "background": str,
}
# The documented value sets, used when the endpoint gives no enum of its own.
_IMAGE_PARAM_VALUES: dict[str, tuple[str, ...]] = {
    "output_format": IMAGE_FORMATS,
    "quality": QUALITIES,
    "background": BACKGROUNDS,
    "resolution": tuple(RESOLUTION_TIERS),
}

TOOL_PARAMETERS = (
    "model",
    "quality",
    "size",
    "aspect_ratio",
    "background",
    "output_format",
    "output_compression",
    "moderation",
)

_RATIO_RE = re.compile(r"^(\d{1,4}):(\d{1,4})$")
_PIXELS_RE = re.compile(r"^(\d{1,5})[xX](\d{1,5})$")
_HEX_COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
_DATA_URL_RE = re.compile(r"^data:image/[A-Za-z0-9.+-]+(;[^,;]+)*;base64,", re.IGNORECASE)
_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*/[A-Za-z0-9][A-Za-z0-9._\-:]*$")


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, Decimal)):
        return not isinstance(value, Decimal) or value.is_finite()
    return isinstance(value, float) and math.isfinite(value)


def check_model_id(model_id: object, field: str = "model") -> str:
    """``model_id`` if it looks like ``author/slug``, else ``RequestInvalid``."""
    if not isinstance(model_id, str) or not _MODEL_ID_RE.match(model_id):
        raise RequestInvalid(field, f"{model_id!r} is not a model id like 'author/slug'")
    return model_id


def check_image_url(value: object, field: str) -> None:
    """An input image must be an http(s) URL or a ``data:image/…;base64,`` URL."""
    if not isinstance(value, str) or not value:
        raise RequestInvalid(field, "must be an image URL (https://… or data:image/…;base64,…)")
    if value[:5].lower() == "data:":
        # Only the header is matched: the payload may be megabytes.
        comma = value.find(",", 0, 256)
        if comma == -1 or not _DATA_URL_RE.match(value[: comma + 1]):
            raise RequestInvalid(field, "a data URL must look like data:image/png;base64,…")
        if comma + 1 == len(value):
            raise RequestInvalid(field, "the data URL carries no image data")
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestInvalid(field, f"{value[:80]!r} is not an http(s) URL or an image data URL")
    if any(char.isspace() for char in value):
        raise RequestInvalid(field, "URLs must not contain spaces; encode them as %20")


def parse_aspect_ratio(value: str) -> tuple[int, int] | None:
    match = _RATIO_RE.match(value)
    if not match:
        return None
    width, height = int(match.group(1)), int(match.group(2))
    return (width, height) if width and height else None


def parse_pixel_size(value: str) -> tuple[int, int] | None:
    match = _PIXELS_RE.match(value)
    if not match:
        return None
    width, height = int(match.group(1)), int(match.group(2))
    return (width, height) if width and height else None


def tier_of_pixels(width: int, height: int) -> str:
    """The resolution tier (``512``/``1K``/``2K``/``4K``) a pixel size falls in."""
    edge = math.sqrt(width * height)
    return min(RESOLUTION_TIERS, key=lambda tier: abs(math.log(edge / RESOLUTION_TIERS[tier])))


# Checks shared by /images and the server tool.


def _check_format_rules(params: Mapping[str, Any], prefix: str = "") -> None:
    output_format = params.get("output_format")
    if params.get("background") == "transparent" and output_format not in (None, *ALPHA_FORMATS):
        raise RequestInvalid(
            f"{prefix}background",
            f"a transparent background needs output_format png or webp, not {output_format!r}",
        )
    if "output_compression" in params:
        compression = params["output_compression"]
        if not _is_int(compression) or not 0 <= compression <= 100:
            raise RequestInvalid(
                f"{prefix}output_compression", "must be a whole number from 0 to 100"
            )
        if output_format not in LOSSY_FORMATS:
            raise RequestInvalid(
                f"{prefix}output_compression",
                "applies only to lossy formats; set output_format to jpeg or webp, or remove it",
            )


def _check_size(params: Mapping[str, Any], prefix: str = "", *, allow_auto: bool = False) -> None:
    size = params.get("size")
    if size is None:
        return
    field = f"{prefix}size"
    if not isinstance(size, str):
        raise RequestInvalid(field, "must be a string like '1024x1024' or '2K'")
    if allow_auto and size == "auto":
        return
    resolution = params.get("resolution")
    if size in RESOLUTION_TIERS:
        if isinstance(resolution, str) and resolution != size:
            raise RequestInvalid(
                field, f"{size!r} conflicts with resolution {resolution!r}; keep only one of them"
            )
        return
    pixels = parse_pixel_size(size)
    if pixels is None:
        raise RequestInvalid(
            field,
            f"{size!r} is neither a tier ({_choices(RESOLUTION_TIERS)}) "
            "nor explicit pixels like '1024x1024'",
        )
    width, height = pixels
    aspect = params.get("aspect_ratio")
    ratio = parse_aspect_ratio(aspect) if isinstance(aspect, str) else None
    if ratio is not None:
        wanted = ratio[0] / ratio[1]
        if abs(width / height - wanted) / wanted > _RATIO_TOLERANCE:
            raise RequestInvalid(
                field,
                f"{size} does not have the aspect ratio {aspect}; "
                "drop size or aspect_ratio, or make them agree",
            )
    if isinstance(resolution, str) and resolution in RESOLUTION_TIERS:
        tier = tier_of_pixels(width, height)
        if tier != resolution:
            raise RequestInvalid(
                field,
                f"{size} is a {tier} size but resolution is {resolution}; "
                "drop size or resolution, or make them agree",
            )


def _check_aspect_ratio_shape(value: object, field: str) -> None:
    if not isinstance(value, str) or (value != "auto" and parse_aspect_ratio(value) is None):
        raise RequestInvalid(field, f"{value!r} is not a ratio like '16:9' (or 'auto')")


def _check_descriptor(field: str, value: Any, descriptor: Descriptor) -> None:
    if descriptor.type == "enum":
        text = str(value) if _is_int(value) or isinstance(value, str) else None
        if text not in descriptor.values:
            raise RequestInvalid(
                field,
                f"{value!r} is not offered by this endpoint; "
                f"choose one of {_choices(descriptor.values)}",
            )
    elif descriptor.type == "range":
        if not _is_int(value):
            raise RequestInvalid(field, f"must be a whole number, not {value!r}")
        low, high = descriptor.min, descriptor.max
        if (low is not None and value < low) or (high is not None and value > high):
            raise RequestInvalid(
                field,
                f"{value} is outside what this endpoint accepts; "
                f"use a whole number from {low} to {high}",
            )
    # "boolean" means the parameter is supported; its value is checked by type.
    # Unknown descriptor types are left to OpenRouter.


def validate_image_request(
    params: Mapping[str, Any],
    *,
    endpoint: Endpoint | None = None,
    input_references: Sequence[str] = (),
    provider_options: Mapping[str, Any] | None = None,
) -> None:
    """Check a ``POST /images`` request; raise ``RequestInvalid`` on the first fault.

    With ``endpoint``, every parameter must be listed in its
    ``supported_parameters`` and satisfy its descriptor, the number of
    ``input_references`` must fit the descriptor's range, and
    ``provider_options`` may only carry that endpoint's slug and its
    ``allowed_passthrough_parameters``. Without it only the rules that hold for
    every endpoint are checked.
    """
    for key in _RESERVED_IMAGE_FIELDS:
        if key in params:
            raise RequestInvalid(key, "is set by the client; pass it as its own argument")
    for key, value in params.items():
        expected = _IMAGE_PARAM_TYPES.get(key)
        if expected is int and not _is_int(value):
            raise RequestInvalid(key, f"must be a whole number, not {value!r}")
        if expected is str and not isinstance(value, str):
            raise RequestInvalid(key, f"must be a string, not {value!r}")

    supported = endpoint.supported_parameters if endpoint is not None else None
    for key, value in params.items():
        descriptor = supported.get(key) if supported is not None else None
        if supported is not None and descriptor is None:
            if key == "size" and ("resolution" in supported or "aspect_ratio" in supported):
                continue  # size is a shorthand OpenRouter normalizes into these.
            if key == "quality" or (key == "n" and value == 1):
                continue  # Documented as ignored by providers without the knob / the default.
            offered = _choices(sorted(supported)) or "none"
            raise RequestInvalid(
                key, f"is not supported by this endpoint; remove it (it accepts: {offered})"
            )
        if descriptor is not None and descriptor.type in ("enum", "range"):
            _check_descriptor(key, value, descriptor)
        elif key in _IMAGE_PARAM_VALUES and value not in _IMAGE_PARAM_VALUES[key]:
            raise RequestInvalid(
                key, f"{value!r} is not valid; choose one of {_choices(_IMAGE_PARAM_VALUES[key])}"
            )

    if "n" in params and not 1 <= params["n"] <= MAX_IMAGES:
        raise RequestInvalid("n", f"must be from 1 to {MAX_IMAGES}")
    if "seed" in params and not 0 <= params["seed"] <= MAX_SEED:
        raise RequestInvalid("seed", f"must be from 0 to {MAX_SEED}")
    if "aspect_ratio" in params:
        _check_aspect_ratio_shape(params["aspect_ratio"], "aspect_ratio")
    _check_format_rules(params)
    _check_size(params)
    size = params.get("size")
    resolution = supported.get("resolution") if supported is not None else None
    if (
        size in RESOLUTION_TIERS
        and resolution is not None
        and resolution.type == "enum"
        and size not in resolution.values
    ):
        raise RequestInvalid(
            "size",
            f"{size!r} is not offered by this endpoint; "
            f"choose one of {_choices(resolution.values)}",
        )
    _check_references(input_references, supported)
    if provider_options is not None:
        _check_provider_options(provider_options, endpoint)


def _check_references(
    references: Sequence[str], supported: Mapping[str, Descriptor] | None
) -> None:
    if isinstance(references, str):
        raise RequestInvalid("input_references", "must be a list of URLs, not one string")
    if not references:
        return
    if supported is not None:
        descriptor = supported.get("input_references")
        if descriptor is None:
            raise RequestInvalid(
                "input_references",
                "this endpoint does not accept reference images; remove them or pick another model",
            )
        if (
            descriptor.type == "range"
            and descriptor.max is not None
            and len(references) > descriptor.max
        ):
            raise RequestInvalid(
                "input_references",
                f"this endpoint takes at most {descriptor.max} reference image(s); "
                f"{len(references)} given",
            )
    for index, url in enumerate(references):
        check_image_url(url, f"input_references[{index}]")


def _check_provider_options(options: Mapping[str, Any], endpoint: Endpoint | None) -> None:
    if not isinstance(options, Mapping):
        raise RequestInvalid("provider.options", "must map a provider slug to its options")
    for slug, values in options.items():
        field = f"provider.options.{slug}"
        if not isinstance(values, Mapping):
            raise RequestInvalid(field, "must be an object of provider-specific options")
        if endpoint is None:
            continue
        if slug != endpoint.provider_slug:
            raise RequestInvalid(
                field,
                f"options are for provider {slug!r} but the endpoint is "
                f"{endpoint.provider_slug!r}; key them by {endpoint.provider_slug!r}",
            )
        allowed = endpoint.allowed_passthrough_parameters
        for key in values:
            if key not in allowed:
                offered = _choices(allowed) if allowed else "none"
                raise RequestInvalid(
                    f"{field}.{key}",
                    f"is not a passthrough option of {endpoint.provider_name}; allowed: {offered}",
                )


def validate_tool_parameters(params: Mapping[str, Any]) -> None:
    """Check the ``parameters`` of the ``openrouter:image_generation`` tool.

    Only the documented keys are accepted. Values of ``quality``,
    ``background`` and ``moderation`` are model-dependent and only
    type-checked; ``output_format`` must be png, jpeg or webp.
    """
    for key, value in params.items():
        field = f"parameters.{key}"
        if key not in TOOL_PARAMETERS:
            raise RequestInvalid(
                field, f"is not a parameter of the image tool; use {_choices(TOOL_PARAMETERS)}"
            )
        if key == "model":
            check_model_id(value, field)
        elif key == "output_format":
            if value not in IMAGE_FORMATS:
                raise RequestInvalid(
                    field, f"{value!r} is not valid; choose one of {_choices(IMAGE_FORMATS)}"
                )
        elif key == "aspect_ratio":
            _check_aspect_ratio_shape(value, field)
        elif key != "output_compression" and (not isinstance(value, str) or not value):
            raise RequestInvalid(field, f"must be a non-empty string, not {value!r}")
    _check_format_rules(params, "parameters.")
    _check_size(params, "parameters.", allow_auto=True)


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
