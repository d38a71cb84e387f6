"""Capabilities to form fields, and back to clean request parameters.

``option_fields(endpoint, style)`` builds the Django form fields for what a
request in that style may set; ``catalog.cleaning.clean_options(endpoint, style, data)``
validates submitted values with those same fields, then with the OpenRouter
client's own checks (``generation.openrouter.validation``), and returns only
the parameters that were set. Three styles:

``images`` (``POST /images``)
    One field per capability descriptor of the endpoint, named after the
    parameter: ``enum`` -> a choice with a blank "model default", ``range`` ->
    a bounded whole number, ``boolean`` -> "supported, any value of the
    parameter's own type": ``seed`` is an optional whole number (a checkbox
    would send ``true``, which is not a seed), so are ``n`` and
    ``output_compression``; known string parameters get their documented
    values; any other boolean parameter is a checkbox that sends ``true``.
    ``input_references`` is the number of reference images, not an option
    (see ``max_input_references``). The endpoint's passthrough keys are text
    fields named ``provider_options.<key>`` (JSON-ish: ``40``, ``true``,
    ``[1, 2]`` are read as such); they come back as
    ``{"provider_options": {slug: {key: value}}}``.
``chat`` (Chat Completions ``image_config``)
    Fields named ``image_config.<key>`` from the model family's options in the
    client's table (``image_config_options_for``): aspect ratios (standard,
    extended for Gemini 3.1, MAI's), ``image_size`` (with ``0.5K`` where
    documented), Recraft's and Sourceful's extras. Structured options are JSON
    text areas checked by the client's checkers. Returned as
    ``{"image_config": {...}}``.
``tool`` (also ``tool_chat``/``tool_responses``: the server tool)
    The tool's documented parameters, with the image endpoint's own value
    sets where it has them.

Errors are ``ValidationError({name: [messages]})`` keyed by the field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms

from catalog.fields import JSONOptionField, LinesField, LooseValueField, RGBField
from catalog.models import Endpoint, ImageModel
from generation.openrouter.image_config import (
    OptionSpec,
    image_config_options_for,
)
from generation.openrouter.types import Descriptor
from generation.openrouter.validation import (
    BACKGROUNDS,
    IMAGE_FORMATS,
    MAX_IMAGES,
    MAX_SEED,
    QUALITIES,
    STANDARD_ASPECT_RATIOS,
)

IMAGES, CHAT, TOOL = "images", "chat", "tool"
DEFAULT_CHOICE = ("", "Model default")
PASSTHROUGH_PREFIX = "provider_options."
IMAGE_CONFIG_PREFIX = "image_config."
# Not options: set by the client or by the form around these fields.
_NOT_OPTIONS = frozenset({"input_references", "stream", "prompt", "model", "provider"})
# The aspect ratios the Image API documents, for an endpoint that says only "supported".
DOCUMENTED_ASPECT_RATIOS = (
    "auto",
    *STANDARD_ASPECT_RATIOS,
    "1:2",
    "2:1",
    "1:4",
    "4:1",
    "1:8",
    "8:1",
    "9:21",
)
MODERATION_LEVELS = ("auto", "low")

LABELS: dict[str, tuple[str, str]] = {
    "n": ("Number of images", "An upper bound: a provider may return (and bill) fewer."),
    "resolution": ("Resolution", "Resolution tier; higher tiers can cost more."),
    "aspect_ratio": ("Aspect ratio", "Shape of the image."),
    "size": (
        "Size",
        "Explicit pixels like 1024x1024, or a tier; must agree with aspect ratio and resolution.",
    ),
    "quality": ("Quality", "Higher quality takes longer and can cost more."),
    "output_format": ("Output format", "File format of the image."),
    "background": ("Background", "Transparent needs PNG or WebP."),
    "output_compression": ("Output compression", "0-100, for JPEG and WebP only."),
    "seed": ("Seed", "The same seed and prompt give the same image, where supported."),
    "input_references": ("Input references", "Reference images for image-to-image."),
    "moderation": ("Moderation", "Content moderation level."),
    "model": ("Image model", "The model the tool draws with."),
}
_DOCUMENTED_VALUES: dict[str, tuple[str, ...]] = {
    "quality": QUALITIES,
    "output_format": IMAGE_FORMATS,
    "background": BACKGROUNDS,
    "resolution": ("512", "1K", "2K", "4K"),
    "aspect_ratio": DOCUMENTED_ASPECT_RATIOS,
}
_VALUE_LABELS = {"512": "512 px (0.5K)", "jpeg": "JPEG", "png": "PNG", "webp": "WebP"}


def _label(name: str) -> str:
    return LABELS.get(name, (name.replace("_", " ").capitalize(), ""))[0]


def _help(name: str) -> str:
    return LABELS.get(name, ("", ""))[1]


def normalize_style(style: str) -> str:
    """``tool_chat``/``tool_responses`` are the tool style; unknown styles are refused."""
    if style.startswith(TOOL):
        return TOOL
    if style in (IMAGES, CHAT):
        return style
    raise ValueError(f"unknown generation style {style!r}")


def model_of(target: Endpoint | ImageModel) -> ImageModel:
    return target.model if isinstance(target, Endpoint) else target


def describe_capability(name: str, raw: Mapping[str, Any]) -> str:
    """``Aspect ratio: one of 1:1, 16:9``, ``Input references: up to 4``, ``Seed: supported``."""
    descriptor = Descriptor.from_api(dict(raw))
    label = _label(name)
    if descriptor.type == "enum":
        values = ", ".join(_VALUE_LABELS.get(v, v) for v in descriptor.values)
        return f"{label}: one of {values}" if values else f"{label}: supported"
    if descriptor.type == "range":
        low, high = descriptor.min, descriptor.max
        if name == "input_references" and high is not None:
            return f"{label}: up to {_plain(high)}"
        if low is not None and high is not None:
            return f"{label}: {_plain(low)} to {_plain(high)}"
        if high is not None:
            return f"{label}: up to {_plain(high)}"
        if low is not None:
            return f"{label}: at least {_plain(low)}"
        return f"{label}: any whole number"
    if descriptor.type == "boolean":
        return f"{label}: supported"
    return f"{label}: supported ({descriptor.type})"


def describe_capabilities(supported_parameters: Mapping[str, Any]) -> list[str]:
    order = list(LABELS)
    names = sorted(
        supported_parameters,
        key=lambda name: (order.index(name) if name in order else len(order), name),
    )
    return [
        describe_capability(name, supported_parameters[name])
        for name in names
        if isinstance(supported_parameters[name], Mapping)
    ]


def max_input_references(endpoint: Endpoint) -> int:
    """How many reference images the endpoint takes (0 if none)."""
    raw = (endpoint.supported_parameters or {}).get("input_references")
    if not isinstance(raw, Mapping):
        return 0
    descriptor = Descriptor.from_api(dict(raw))
    if descriptor.type == "range" and descriptor.max is not None:
        return int(descriptor.max)
    return 1 if descriptor.type == "boolean" else 0


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _choice(
    name: str, values: tuple[str, ...] | list[str], *, default: object = None, help_text: str = ""
) -> forms.ChoiceField:
    blank = f"Model default ({default})" if default else DEFAULT_CHOICE[1]
    return forms.ChoiceField(
        required=False,
        label=_label(name),
        help_text=help_text or _help(name),
        choices=[("", blank), *((v, _VALUE_LABELS.get(v, v)) for v in values)],
    )


def _integer(name: str, low: float | None, high: float | None) -> forms.IntegerField:
    help_text = _help(name)
    if low is not None and high is not None:
        help_text = f"{help_text} From {_plain(low)} to {_plain(high)}.".strip()
    return forms.IntegerField(
        required=False,
        label=_label(name),
        help_text=help_text,
        min_value=int(low) if low is not None else None,
        max_value=int(high) if high is not None else None,
    )


def _typed_field(name: str) -> forms.Field:
    """The field for a parameter whose descriptor only says "supported"."""
    if name == "seed":
        return _integer("seed", 0, MAX_SEED)
    if name == "n":
        return _integer("n", 1, MAX_IMAGES)
    if name == "output_compression":
        return _integer("output_compression", 0, 100)
    if name in _DOCUMENTED_VALUES:
        return _choice(name, _DOCUMENTED_VALUES[name])
    if name == "size":
        return forms.CharField(
            required=False, label=_label(name), help_text=_help(name), max_length=20
        )
    return forms.BooleanField(
        required=False,
        label=_label(name),
        help_text=_help(name) or "Turn on to send this parameter as true.",
    )


def _image_fields(endpoint: Endpoint) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for name, raw in (endpoint.supported_parameters or {}).items():
        if name in _NOT_OPTIONS or not isinstance(raw, Mapping):
            continue
        descriptor = Descriptor.from_api(dict(raw))
        if descriptor.type == "enum":
            fields[name] = _choice(name, descriptor.values)
        elif descriptor.type == "range":
            fields[name] = _integer(name, descriptor.min, descriptor.max)
        elif descriptor.type == "boolean":
            fields[name] = _typed_field(name)
        # Unknown descriptor types are left out: we cannot say what they accept.
    order = list(LABELS)
    fields = dict(
        sorted(fields.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))
    )
    for key in endpoint.allowed_passthrough_parameters or ():
        fields[PASSTHROUGH_PREFIX + key] = LooseValueField(
            required=False,
            label=f"{key.replace('_', ' ').capitalize()} ({endpoint.provider_name} option)",
            help_text=(
                f"Sent to {endpoint.provider_name} as provider.options.{endpoint.provider_slug}"
                f".{key}; numbers, true/false and JSON are read as such."
            ),
        )
    return fields


_JSON_EXAMPLES = {
    "text_layout": '[{"text": "SALE", "bbox": [[0.1, 0.1], [0.9, 0.1], [0.9, 0.3], [0.1, 0.3]]}]',
    "font_inputs": '[{"font_url": "https://example.com/font.ttf", "text": "Hello"}]',
    "rubric": '[{"key": "clarity", "label": "Clarity", "description": "…", "weight": 1}]',
    "rgb_list": "[[255, 128, 0], [20, 20, 20]]",
}


def _chat_field(spec: OptionSpec) -> forms.Field:
    help_text = spec.help
    if spec.requires_input_image:
        help_text = f"{help_text} Image-to-image only.".strip()
    if spec.max_items:
        help_text = f"{help_text} At most {spec.max_items}.".strip()
    common: dict[str, Any] = {"required": False, "label": spec.label, "help_text": help_text}
    if spec.kind == "choice":
        return _choice(spec.key, spec.choices, default=spec.default, help_text=help_text)
    if spec.kind == "number":
        return forms.DecimalField(
            **common,
            min_value=Decimal(str(spec.minimum)) if spec.minimum is not None else None,
            max_value=Decimal(str(spec.maximum)) if spec.maximum is not None else None,
            max_digits=6,
            decimal_places=3,
        )
    if spec.kind == "text":
        widget = forms.Textarea(attrs={"rows": 2}) if "prompt" in spec.key else None
        return forms.CharField(**common, widget=widget, max_length=2000)
    if spec.kind == "rgb":
        return RGBField(**common, widget=forms.TextInput(attrs={"placeholder": "255, 255, 255"}))
    if spec.kind == "hex_color":
        return forms.CharField(
            **common, max_length=7, widget=forms.TextInput(attrs={"placeholder": "#RRGGBB"})
        )
    if spec.kind == "url_list":
        return LinesField(
            **{**common, "help_text": f"{help_text} One URL per line.".strip()},
        )
    example = _JSON_EXAMPLES.get(spec.kind, "")
    return JSONOptionField(
        **{**common, "help_text": f"{help_text} JSON, e.g. {example}".strip()},
    )


def _chat_fields(model: ImageModel) -> dict[str, forms.Field]:
    return {
        IMAGE_CONFIG_PREFIX + key: _chat_field(spec)
        for key, spec in image_config_options_for(model.slug).items()
    }


def _tool_fields(target: Endpoint | ImageModel) -> dict[str, forms.Field]:
    from catalog.selectors import generatable_models

    supported = (target.supported_parameters or {}) if isinstance(target, Endpoint) else {}

    def values(name: str, documented: tuple[str, ...]) -> tuple[str, ...]:
        raw = supported.get(name)
        if isinstance(raw, Mapping) and raw.get("type") == "enum":
            offered = Descriptor.from_api(dict(raw)).values
            allowed = tuple(v for v in offered if v in documented or name == "aspect_ratio")
            return allowed or documented
        return documented

    models = [(model.slug, f"{model.name} ({model.slug})") for model in generatable_models()]
    return {
        "model": forms.ChoiceField(
            required=False,
            label=_label("model"),
            help_text="Blank: the model chosen above (the tool's own default is openai/gpt-5-image).",
            choices=[("", "The chosen model"), *models],
        ),
        "quality": _choice("quality", values("quality", QUALITIES)),
        "size": forms.CharField(
            required=False,
            label="Size",
            max_length=20,
            help_text="Pixels like 1024x1024, or auto.",
        ),
        "aspect_ratio": _choice(
            "aspect_ratio", values("aspect_ratio", ("auto", *STANDARD_ASPECT_RATIOS))
        ),
        "background": _choice("background", values("background", BACKGROUNDS)),
        "output_format": _choice("output_format", values("output_format", IMAGE_FORMATS)),
        "output_compression": _integer("output_compression", 0, 100),
        "moderation": _choice("moderation", MODERATION_LEVELS),
    }


def option_fields(endpoint: Endpoint | ImageModel, style: str) -> dict[str, forms.Field]:
    """Fresh form fields, in display order, for the options ``style`` can set.

    ``endpoint`` is the catalog endpoint the request will use (for ``chat`` and
    the tool styles a model will do: their options depend on the model family,
    and a model served only through Chat Completions has no endpoint). Field
    names are parameter names, dotted for nested ones (``image_config.aspect_ratio``,
    ``provider_options.steps``). Every field is optional: blank means "send nothing".
    """
    kind = normalize_style(style)
    if kind == IMAGES:
        if not isinstance(endpoint, Endpoint):
            return {}
        return _image_fields(endpoint)
    if kind == CHAT:
        return _chat_fields(model_of(endpoint))
    return _tool_fields(endpoint)
