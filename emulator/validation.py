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
(options for other slugs are ignored). The values of parameters and options
are checked in ``emulator.options``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from generation.openrouter.validation import RESOLUTION_TIERS

from . import drawing
from .drawing import RGB, Size
from .errors import ApiError, bad_request, no_endpoints
from .options import check_descriptor, check_options, decode_image_url, is_int

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
        seed=body.get("seed") if is_int(body.get("seed")) else None,
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
