"""The Models page's filter form: a GET form whose values live in the URL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from catalog.selectors import SORTS, FilterChoices, ModelFilters

SORT_CHOICES = [
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("price", "Price, lowest first"),
    ("-price", "Price, highest first"),
]
assert {value for value, _ in SORT_CHOICES} == set(SORTS)


class ModelFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or slug"}),
    )
    input = forms.ChoiceField(required=False, label="Input")
    output = forms.ChoiceField(required=False, label="Output")
    streaming = forms.ChoiceField(
        required=False,
        label="Streaming",
        choices=[("", "Any"), ("yes", "Streams previews"), ("no", "Does not stream")],
    )
    param = forms.ChoiceField(required=False, label="Supports parameter")
    min_price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=6,
        label="Min $ per image",
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "0"}),
    )
    max_price = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=6,
        label="Max $ per image",
        widget=forms.NumberInput(attrs={"step": "0.01", "placeholder": "any"}),
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, label="Sort by")
    retired = forms.BooleanField(required=False, label="Show retired models")

    def __init__(self, data: Any = None, *, choices: FilterChoices) -> None:
        super().__init__(data)
        any_choice = [("", "Any")]
        self.fields["input"].choices = any_choice + [(m, m) for m in choices.input_modalities]  # type: ignore[attr-defined]
        self.fields["output"].choices = any_choice + [(m, m) for m in choices.output_modalities]  # type: ignore[attr-defined]
        self.fields["param"].choices = any_choice + [(p, p) for p in choices.parameters]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The maximum is below the minimum.")
        return cleaned

    def filters(self) -> ModelFilters:
        """The filters to apply; a field with a bad value is ignored (its error is shown)."""
        if not self.is_bound:
            return ModelFilters()
        self.is_valid()
        data = self.cleaned_data
        streaming = {"yes": True, "no": False}.get(data.get("streaming") or "")
        return ModelFilters(
            q=(data.get("q") or "").strip(),
            input_modality=data.get("input") or "",
            output_modality=data.get("output") or "",
            streaming=streaming,
            min_price=data.get("min_price"),
            max_price=data.get("max_price") if "max_price" not in self.errors else None,
            parameter=data.get("param") or "",
            sort=data.get("sort") or "name",
            show_retired=bool(data.get("retired")),
        )
