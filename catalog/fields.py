"""Form fields for option kinds Django has no field for: JSON values, loose values, RGB triples, lists of lines."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class JSONOptionField(forms.CharField):
    """A JSON value typed into a text area."""

    widget = forms.Textarea(attrs={"rows": 3, "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return json.loads(str(text), parse_float=Decimal)
        except ValueError as exc:
            raise ValidationError(f"Not valid JSON: {exc}", code="invalid") from None


class LooseValueField(forms.CharField):
    """A passthrough value: JSON when it parses (``40``, ``true``, ``[1, 2]``), else text."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return json.loads(str(text), parse_float=Decimal)
        except ValueError:
            return text


class RGBField(forms.CharField):
    """``r, g, b`` (or ``[r, g, b]``) as a list of three whole numbers."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        parts = [part.strip() for part in str(text).strip("[] ").split(",")]
        try:
            return [int(part) for part in parts]
        except ValueError:
            raise ValidationError(
                "Give three whole numbers 0-255 like 255, 128, 0.", code="invalid"
            ) from None


class LinesField(forms.CharField):
    """One entry per line, as a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        return [line.strip() for line in str(text).splitlines() if line.strip()]
