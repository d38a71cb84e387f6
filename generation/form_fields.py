"""Form fields of the Generate form: several reference files in one input, and
a model menu read from the process's catalog snapshot rather than a query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import ModelChoiceIterator

from catalog import snapshot as snapshots
from catalog.models import ImageModel


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super().clean(item, initial) for item in files]


class SnapshotChoices(ModelChoiceIterator):
    """The menu's models from the field's snapshot when it has one (no query)."""

    def _models(self) -> list[ImageModel] | None:
        snapshot = getattr(self.field, "snapshot", None)
        return snapshot.models if snapshot is not None else None

    def __iter__(self) -> Iterator[Any]:
        models = self._models()
        if models is None:
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for model in models:
            yield self.choice(model)

    def __len__(self) -> int:
        models = self._models()
        if models is None:
            return super().__len__()
        return len(models) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        models = self._models()
        return super().__bool__() if models is None else bool(models or self.field.empty_label)


class ModelChoiceBySlug(forms.ModelChoiceField):
    """A model by its slug, looked up in the process's catalog snapshot (no query)."""

    iterator = SnapshotChoices
    snapshot: snapshots.Snapshot | None = None

    def label_from_instance(self, obj: ImageModel) -> str:
        return f"{obj.name} ({obj.slug})"

    def to_python(self, value: Any) -> ImageModel | None:
        if self.snapshot is None or value in self.empty_values:
            return super().to_python(value)
        if isinstance(value, ImageModel):
            value = value.slug
        model = self.snapshot.by_slug.get(str(value))
        if model is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return model
