"""The model's option fields, adjusted for people rather than for the API.

``catalog.capabilities.option_fields`` builds one field per option the endpoint
takes; passthrough options there are free text, since OpenRouter's endpoint
record lists only their names. Here the documented ones get typed, bounded
controls (so ``steps: "lots"`` is a message on the field, never an upstream
failure), colours get a colour picker next to their text box, and help texts
say what an option does instead of naming API paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from catalog.capabilities import IMAGE_CONFIG_PREFIX, PASSTHROUGH_PREFIX, RGBField

# Black Forest Labs documents these for FLUX.2 (steps 1-50, guidance 1.5-10).
KNOWN_PASSTHROUGH: dict[str, tuple[str, str, Decimal, Decimal, bool]] = {
    "steps": (
        "Steps",
        "How many refinement passes: more can add detail and takes longer.",
        Decimal(1),
        Decimal(50),
        True,
    ),
    "guidance": (
        "Guidance",
        "How strictly the image follows the prompt: higher is more literal.",
        Decimal("1.5"),
        Decimal(10),
        False,
    ),
}
# Documented on/off provider options: a checkbox that sends true.
KNOWN_SWITCHES: dict[str, tuple[str, str]] = {
    "prompt_upsampling": (
        "Improve my prompt",
        "Let the provider expand the prompt before drawing.",
    ),
    "watermark": ("Watermark", "Add the provider's watermark to the image."),
}
_HEX = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Give a colour like #FF8000.")
_API_PATH = re.compile(r"\b(?:provider\.options\.[\w.-]+?\.|provider_options\.|image_config\.)")
ADVANCED_ONLY = frozenset({"seed", "output_compression", "moderation", "background"})


def submitted_value(field: forms.Field, name: str, raw: Any) -> Any:
    """The raw value to validate as the catalog reads option ``name``: a ticked
    provider-option checkbox is the JSON ``true`` its text field expects, an
    ``r, g, b`` colour the JSON list."""
    if not name.startswith(PASSTHROUGH_PREFIX) or raw in (None, ""):
        return raw
    if isinstance(field, forms.BooleanField):
        return "true" if raw not in ("", "off", "false") else ""
    if isinstance(field, RGBField):
        try:
            return json.dumps(field.to_python(raw))
        except forms.ValidationError:
            return raw
    return raw


def plain(text: str) -> str:
    """``text`` without API paths such as ``provider.options.<slug>.`` or ``image_config.``."""
    return _API_PATH.sub("", text)


def adjust(name: str, field: forms.Field, provider: str) -> forms.Field:
    """The field to show for option ``name`` (its catalog name, dotted for nested ones)."""
    if name.startswith(PASSTHROUGH_PREFIX):
        key = name.removeprefix(PASSTHROUGH_PREFIX)
        known = KNOWN_PASSTHROUGH.get(key)
        if known is not None:
            label, help_text, low, high, whole = known
            bounds = f" From {low} to {high}."
            if whole:
                return forms.IntegerField(
                    required=False,
                    label=label,
                    help_text=help_text + bounds,
                    min_value=int(low),
                    max_value=int(high),
                )
            return forms.DecimalField(
                required=False,
                label=label,
                help_text=help_text + bounds,
                min_value=low,
                max_value=high,
                max_digits=4,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.1"}),
            )
        if key in KNOWN_SWITCHES:
            label, help_text = KNOWN_SWITCHES[key]
            return forms.BooleanField(required=False, label=label, help_text=help_text)
        if key.endswith("rgb_color"):
            rgb = RGBField(
                required=False,
                label=key.replace("_rgb_color", " colour").replace("_", " ").capitalize(),
                help_text="Three numbers 0-255 like 255, 128, 0, or pick a colour.",
            )
            rgb.color_kind = "rgb"  # type: ignore[attr-defined]
            return rgb
        if key.endswith("hex_color"):
            hex_field = forms.CharField(
                required=False,
                max_length=7,
                validators=[_HEX],
                label=key.replace("_hex_color", " colour").replace("_", " ").capitalize(),
                help_text="A colour like #FF8000, or pick one.",
            )
            hex_field.color_kind = "hex"  # type: ignore[attr-defined]
            return hex_field
        field.label = key.replace("_", " ").capitalize()
        field.help_text = (
            f"A setting only {provider or 'this provider'} understands; "
            "numbers and true/false are read as such."
        )
        return field
    # The text box stays (it also takes typed values and blank means "not set");
    # the page puts a colour picker next to it that fills it in.
    if isinstance(field, RGBField):
        field.color_kind = "rgb"  # type: ignore[attr-defined]
    elif name.startswith(IMAGE_CONFIG_PREFIX) and name.endswith("hex_color"):
        field.color_kind = "hex"  # type: ignore[attr-defined]
    field.help_text = plain(str(field.help_text or ""))
    return field


def option_values(style: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A job's stored parameters as option field values, named as
    ``catalog.capabilities.option_fields`` names them (the inverse of clean_options)."""
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key == "image_config" and isinstance(value, Mapping):
            for inner, item in value.items():
                values[f"image_config.{inner}"] = _field_value(item)
        elif key == "provider_options" and isinstance(value, Mapping):
            for options in value.values():
                if isinstance(options, Mapping):
                    for inner, item in options.items():
                        values[f"provider_options.{inner}"] = _field_value(item)
        else:
            values[key] = _field_value(value)
    return values


def _field_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value
