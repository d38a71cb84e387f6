"""Strict request validation, and the plan of what to draw.

Endpoint choice: the endpoints of the model, narrowed by ``provider.only`` /
``provider.ignore`` and reordered by ``provider.order`` (slug, tag or name,
case-insensitive); the first endpoint that accepts the whole request serves
it. When none does, the first candidate's 400 is answered, with
``metadata.provider_name`` naming that provider.

Image API rules (per endpoint descriptors): a parameter absent from the
descriptors is a 400, except ``quality`` (ignored, as the seeds say) and
``n: 1``; enum values must be listed; ranges are integers within bounds;
``size`` is a tier or ``WxH`` (sides 64-8192, at most ~17 MP) and must agree
with ``aspect_ratio`` (2 % tolerance) and ``resolution``, and its ratio and tier
must be ones the endpoint lists; ``background: transparent`` needs png or
webp; ``output_compression`` is ignored for png; ``provider.options`` keys for
the serving endpoint's slug must be in ``allowed_passthrough_parameters``
(options for other slugs are ignored).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generation.openrouter.validation import RESOLUTION_TIERS

from . import drawing
from .drawing import RGB, Size
from .errors import ApiError, bad_request, no_endpoints

TIERS = tuple(RESOLUTION_TIERS)
IMAGE_API_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "n",
        "resolution",
        "aspect_ratio",
        "size",
        "quality",
        "output_format",
        "background",
        "output_compression",
        "seed",
        "stream",
        "input_references",
        "provider",
        "user",
    }
)
DESCRIBED = (
    "n",
    "resolution",
    "aspect_ratio",
    "quality",
    "output_format",
    "background",
    "output_compression",
    "seed",
    "input_references",
)
PROVIDER_FIELDS = frozenset(
    {
        "options",
        "order",
        "only",
        "ignore",
        "allow_fallbacks",
        "require_parameters",
        "sort",
        "data_collection",
        "zdr",
        "quantizations",
        "max_price",
    }
)
RECRAFT_STYLES = ("any", "realistic_image", "digital_illustration")
MAX_SEED = 2**32 - 1
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
RUBRIC_FIELDS = frozenset(
    {"key", "label", "description", "weight", "passing_score", "score_guidance"}
)


@dataclass
class Plan:
    """What to draw and bill, on which endpoint."""

    model: dict[str, Any]
    endpoint: dict[str, Any]
    prompt: str
    sizes: list[Size]
    fmt: str
    compression: int | None = None
    transparent: bool = False
    seed: int | None = None
    quality: str | None = None
    input_images: list[Size | None] = field(default_factory=list)
    input_references: list[Size | None] = field(default_factory=list)
    fonts: int = 0
    palette: list[RGB] = field(default_factory=list)
    background: RGB | None = None
    stream: bool = False

    @property
    def provider_name(self) -> str:
        return str(self.endpoint.get("provider_name", ""))

    @property
    def media_type(self) -> str:
        return drawing.MEDIA_TYPES[self.fmt]


def _int(value: Any) -> bool:
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
        if not _int(value):
            raise bad_request(f"'{key}' must be an integer", provider, param=key)
        if not low <= value <= high:
            what = (
                f"'{key}' must be at most {high}"
                if value > high
                else f"'{key}' must be at least {low}"
            )
            raise bad_request(f"{what} on {provider} (got {value})", provider, param=key)
    elif key == "seed" and (not _int(value) or not 0 <= value <= MAX_SEED):
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
        or not all(_int(c) and 0 <= c <= 255 for c in value)
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


def candidates(model: dict[str, Any], provider_prefs: Any) -> list[dict[str, Any]]:
    """The model's endpoints, narrowed and ordered by ``provider`` preferences."""
    endpoints = list(model.get("endpoints", []))
    if not isinstance(provider_prefs, dict):
        return endpoints

    def names(endpoint: dict[str, Any]) -> set[str]:
        return {
            str(endpoint.get(k, "")).lower()
            for k in ("provider_slug", "provider_tag", "provider_name")
            if endpoint.get(k)
        }

    def wanted(key: str) -> list[str]:
        value = provider_prefs.get(key)
        return [str(v).lower() for v in value] if isinstance(value, list) else []

    only, ignore, order = wanted("only"), wanted("ignore"), wanted("order")
    if only:
        endpoints = [e for e in endpoints if names(e) & set(only)]
    endpoints = [e for e in endpoints if not names(e) & set(ignore)]
    if order:
        ranked = [e for name in order for e in endpoints if name in names(e)]
        rest = [e for e in endpoints if e not in ranked]
        endpoints = ranked + ([] if provider_prefs.get("allow_fallbacks") is False else rest)
    return endpoints


def first_fit(model: dict[str, Any], provider_prefs: Any, attempt: Any) -> Plan:
    """The plan of the first candidate endpoint ``attempt`` accepts, or the first one's error."""
    errors: list[ApiError] = []
    for endpoint in candidates(model, provider_prefs):
        try:
            plan: Plan = attempt(endpoint)
            return plan
        except ApiError as error:
            errors.append(error)
    if errors:
        raise errors[0]
    raise ApiError(404, f"No allowed providers are available for the selected model {model['id']}.")


def _check_provider_field(body: dict[str, Any]) -> Any:
    prefs = body.get("provider")
    if prefs is None:
        return None
    if not isinstance(prefs, dict):
        raise ApiError(400, "'provider' must be an object")
    unknown = set(prefs) - PROVIDER_FIELDS
    if unknown:
        raise ApiError(400, f"Unrecognized provider preference(s): {sorted(unknown)}")
    if "options" in prefs and not (
        isinstance(prefs["options"], dict)
        and all(isinstance(v, dict) for v in prefs["options"].values())
    ):
        raise ApiError(400, "'provider.options' must map provider slugs to objects")
    return prefs


def _resolve_size(
    model: dict[str, Any], params: dict[str, Any], body: dict[str, Any], provider: str
) -> Size:
    family = model.get("_emulator", {}).get("family", "standard")
    ratio = body.get("aspect_ratio")
    tier = body.get("resolution")
    size = body.get("size")
    if size is not None:
        if not isinstance(size, str):
            raise bad_request("'size' must be a tier or WxH text", provider, param="size")
        if size in TIERS:
            if tier is not None and tier != size:
                raise bad_request(
                    f"'size' {size} conflicts with 'resolution' {tier}", provider, param="size"
                )
            tier = size
            _check_tier(tier, params, provider, "size")
        else:
            return _explicit_size(size, ratio, tier, params, provider)
    ratio_name = ratio if isinstance(ratio, str) and ratio != "auto" else "1:1"
    return drawing.pixel_size(family, ratio_name, tier or "1K")


def _check_tier(tier: str, params: dict[str, Any], provider: str, param: str) -> None:
    allowed = params.get("resolution", {}).get("values", ["1K"])
    if tier not in allowed:
        raise bad_request(
            f"Resolution {tier} is not supported by {provider} (accepts {allowed})",
            provider,
            param=param,
        )


def _explicit_size(size: str, ratio: Any, tier: Any, params: dict[str, Any], provider: str) -> Size:
    match = re.fullmatch(r"(\d{1,5})x(\d{1,5})", size)
    if match is None:
        raise bad_request(
            f"'size' must be a tier {list(TIERS)} or WxH pixels (got {size!r})",
            provider,
            param="size",
        )
    width, height = int(match.group(1)), int(match.group(2))
    if not (64 <= width <= 8192 and 64 <= height <= 8192 and width * height <= 17_000_000):
        raise bad_request(
            f"'size' {size} is out of bounds (sides 64-8192, at most 17 MP)", provider, param="size"
        )
    actual = width / height
    if isinstance(ratio, str) and ratio != "auto":
        wanted = drawing.parse_ratio(ratio)
        if wanted is None or abs(actual - wanted) / wanted > 0.02:
            raise bad_request(
                f"'size' {size} conflicts with 'aspect_ratio' {ratio}", provider, param="size"
            )
    derived_tier = drawing.tier_of((width, height))
    if tier is not None and tier != derived_tier:
        raise bad_request(
            f"'size' {size} conflicts with 'resolution' {tier}", provider, param="size"
        )
    listed = [r for r in params.get("aspect_ratio", {}).get("values", []) if r != "auto"]
    if listed and not any(
        (value := drawing.parse_ratio(r)) and abs(actual - value) / value <= 0.02 for r in listed
    ):
        raise bad_request(
            f"'size' {size}: {provider} supports aspect ratios {listed}", provider, param="size"
        )
    if "resolution" in params:
        _check_tier(derived_tier, params, provider, "size")
    return (width, height)


def _references(value: list[Any], provider: str) -> list[Size | None]:
    sizes = []
    for item in value:
        if (
            not isinstance(item, dict)
            or item.get("type") != "image_url"
            or not isinstance(item.get("image_url"), dict)
        ):
            raise bad_request(
                "each input_references item must be {type: image_url, image_url: {url}}",
                provider,
                param="input_references",
            )
        sizes.append(decode_image_url(item["image_url"].get("url"), provider, "input_references"))
    return sizes


def plan_image_request(model: dict[str, Any], body: dict[str, Any]) -> Plan:
    """Validate an Image API body (``POST /images``) for ``model``; the plan to draw."""
    unknown = set(body) - IMAGE_API_FIELDS
    if unknown:
        raise ApiError(400, f"Unrecognized request field(s): {sorted(unknown)}")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "'prompt' is required and must be non-empty text")
    prefs = _check_provider_field(body)
    _check_addressed_options(model, prefs)
    return first_fit(model, prefs, lambda endpoint: _plan_on(model, endpoint, body, prompt, prefs))


def _passthrough(endpoint: dict[str, Any], prefs: Any) -> dict[str, Any]:
    """The ``provider.options`` addressed to this endpoint, checked against its allow-list."""
    options: dict[str, Any] = {}
    if prefs and isinstance(prefs.get("options"), dict):
        options = prefs["options"].get(endpoint.get("provider_slug"), {})
    allowed = set(endpoint.get("allowed_passthrough_parameters", []))
    unknown = sorted(set(options) - allowed)
    if unknown:
        provider = str(endpoint.get("provider_name", ""))
        raise bad_request(
            f"Unknown provider option(s) {unknown} for {endpoint.get('provider_slug')}; "
            f"allowed: {sorted(allowed)}",
            provider,
            param="provider.options",
        )
    return options


def _check_addressed_options(model: dict[str, Any], prefs: Any) -> None:
    # Options name their provider: a bad key is that provider's 400, never a silent
    # fallback to another endpoint that was not addressed.
    for endpoint in model.get("endpoints", []):
        _passthrough(endpoint, prefs)


def _plan_on(
    model: dict[str, Any], endpoint: dict[str, Any], body: dict[str, Any], prompt: str, prefs: Any
) -> Plan:
    provider = str(endpoint.get("provider_name", ""))
    params: dict[str, Any] = endpoint.get("supported_parameters", {})
    for key in DESCRIBED:
        value = body.get(key)
        if value is None:
            continue
        if key not in params:
            if key == "quality" or (key == "n" and value == 1):
                continue
            raise bad_request(
                f"'{key}' is not supported by {provider} for {model['id']}", provider, param=key
            )
        check_descriptor(key, value, params[key], provider)
    knobs = model.get("_emulator", {})
    endpoint_knobs = endpoint.get("_emulator", {})
    default_format = "svg" if knobs.get("vector") else endpoint_knobs.get("default_format", "png")
    fmt = body.get("output_format") or default_format
    background = body.get("background")
    if background == "transparent" and fmt not in ("png", "webp"):
        raise bad_request(
            f"background 'transparent' needs png or webp output, not {fmt}",
            provider,
            param="background",
        )
    size = _resolve_size(model, params, body, provider)
    references = _references(body.get("input_references") or [], provider)

    options = _passthrough(endpoint, prefs)
    extras = check_options(options, provider, has_input_image=bool(references))

    n = body.get("n") or 1
    count = min(n, int(endpoint_knobs.get("max_images", n)))
    has_image_line = any(
        line.get("billable") == "input_image" for line in endpoint.get("pricing", [])
    )
    return Plan(
        model=model,
        endpoint=endpoint,
        prompt=prompt,
        sizes=[size] * count,
        fmt=fmt,
        compression=body.get("output_compression") if fmt in ("jpeg", "webp") else None,
        transparent=background == "transparent" or extras.transparent,
        seed=body.get("seed"),
        quality=body.get("quality") if "quality" in params else None,
        input_images=references if has_image_line else [],
        input_references=([] if has_image_line else references) + [None] * extras.super_resolution,
        fonts=extras.fonts,
        palette=extras.palette,
        background=extras.background,
        stream=bool(body.get("stream")) and bool(endpoint.get("supports_streaming")),
    )


def plan_chat_image(
    model: dict[str, Any],
    body: dict[str, Any],
    prompt: str,
    input_images: list[Size | None],
) -> Plan:
    """Validate ``image_config`` for a chat image request; the plan to draw (one image)."""
    config = body.get("image_config") or {}
    if not isinstance(config, dict):
        raise ApiError(400, "'image_config' must be an object")
    prefs = _check_provider_field(body)
    return first_fit(
        model,
        prefs,
        lambda endpoint: _chat_plan_on(model, endpoint, config, prompt, body, input_images),
    )


def _chat_plan_on(
    model: dict[str, Any],
    endpoint: dict[str, Any],
    config: dict[str, Any],
    prompt: str,
    body: dict[str, Any],
    input_images: list[Size | None],
) -> Plan:
    provider = str(endpoint.get("provider_name", ""))
    params: dict[str, Any] = endpoint.get("supported_parameters", {})
    knobs = model.get("_emulator", {})
    allowed = knobs.get("image_config_keys", ["aspect_ratio", "image_size"])
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise bad_request(
            f"image_config {unknown} not supported by {model['id']} (supports {allowed})",
            provider,
            param="image_config",
        )
    family = knobs.get("family", "standard")
    ratio = config.get("aspect_ratio", "1:1")
    ratios = (
        params.get("aspect_ratio", {}).get("values")
        or list({"mai": drawing.MAI_1K, "gpt": drawing.GPT_1K}.get(family, drawing.STANDARD_1K))[
            :10
        ]
    )
    if not isinstance(ratio, str) or ratio not in ratios:
        raise bad_request(
            f"image_config.aspect_ratio {ratio!r} is not supported by {model['id']} (supports {ratios})",
            provider,
            param="image_config.aspect_ratio",
        )
    image_size = config.get("image_size", "1K")
    tier = "512" if image_size == "0.5K" else image_size
    tiers = params.get("resolution", {}).get("values", ["1K"])
    if not isinstance(image_size, str) or image_size == "512" or tier not in tiers:
        shown = ["0.5K" if t == "512" else t for t in tiers]
        raise bad_request(
            f"image_config.image_size {image_size!r} is not supported by {model['id']} (supports {shown})",
            provider,
            param="image_config.image_size",
        )
    extras = check_options(config, provider, has_input_image=bool(input_images))
    size = drawing.pixel_size(family, "1:1" if ratio == "auto" else ratio, tier)
    if extras.super_resolution and input_images and input_images[0] is not None:
        size = input_images[0]  # Sourceful: the output matches the input image's size.
    return Plan(
        model=model,
        endpoint=endpoint,
        prompt=prompt,
        sizes=[size],
        fmt=knobs.get("chat_format", "png"),
        transparent=extras.transparent,
        seed=body.get("seed") if _int(body.get("seed")) else None,
        input_images=input_images,
        input_references=[None] * extras.super_resolution,
        fonts=extras.fonts,
        palette=extras.palette,
        background=extras.background,
        stream=bool(body.get("stream")),
    )


def require_modalities(
    model: dict[str, Any] | None, requested: Iterable[str], model_id: str
) -> None:
    """404 when the model cannot produce every requested output modality."""
    outputs = set((model or {}).get("architecture", {}).get("output_modalities", []))
    wanted = set(requested)
    if model is None:
        raise no_endpoints(f"No endpoints found for {model_id}.")
    if not wanted <= outputs:
        raise no_endpoints(
            f"No endpoints found that support the requested output modalities: {', '.join(sorted(wanted))}"
        )
