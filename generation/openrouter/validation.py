"""Request checks made before anything is sent (and before anything is paid).

OpenRouter validates strictly and answers 400 for an option an endpoint does
not list, so Darkroom checks first and tells the user which field to change.
Three request shapes are covered:

* ``POST /images``: ``validate_image_request`` checks parameters against an
  endpoint's capability descriptors plus the rules the seeds state for every
  endpoint (``n`` 1-10, transparent needs png/webp, ``size`` must agree with
  ``aspect_ratio``/``resolution``…).
* Chat ``image_config``: see ``generation.openrouter.image_config``.
* The ``openrouter:image_generation`` server tool: ``validate_tool_parameters``.

Every failure is a ``RequestInvalid`` whose ``field`` is the request path at
fault and whose message says what to do instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
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


def check_prompt(prompt: object) -> None:
    """A prompt must hold some text."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise RequestInvalid("prompt", "is empty; describe the image to generate")


def check_max_tokens(max_tokens: object) -> None:
    """``max_tokens`` must be a positive whole number."""
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise RequestInvalid("max_tokens", "must be a positive whole number")
