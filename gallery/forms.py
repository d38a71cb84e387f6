"""The gallery's and the history's filter forms: plain GET forms whose values
live in the URL, so a filtered view can be shared as a link.

Values are readable names (``author=alice``, ``model=openai/gpt-image-1``),
checked against the menus ``gallery.filter_options`` loaded, so validating
costs no query of its own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from gallery.models import Board
from gallery.paging import FilterOptions, Filters
from gallery.selectors import MEDIA_TYPE_LABELS
from generation.models import Status, Style
from webapp import inputs

ANY = [("", "Any")]


class _FilterForm(inputs.CleanInputMixin, forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search prompts",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": 'Words, "a phrase", -not'}),
    )
    author = forms.ChoiceField(required=False, label="Author")
    model = forms.ChoiceField(required=False, label="Model")
    provider = forms.ChoiceField(required=False, label="Provider")
    style = forms.ChoiceField(required=False, label="Generation style", choices=ANY + Style.choices)
    date_from = inputs.BoundedDateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = inputs.BoundedDateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: Any, *, options: FilterOptions) -> None:
        super().__init__(data)
        self.options = options
        self._author_ids = {name: pk for pk, name in options.authors}
        self._model_ids = {slug: pk for pk, slug, _ in options.models}
        self.fields["author"].choices = ANY + [(name, name) for _, name in options.authors]  # type: ignore[attr-defined]
        self.fields["model"].choices = ANY + [  # type: ignore[attr-defined]
            (slug, f"{name} ({slug})" if name != slug else slug) for _, slug, name in options.models
        ]
        self.fields["provider"].choices = ANY + [(name, name) for name in options.providers]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self, user: User) -> Filters:
        """The filters of a valid form."""
        data = self.cleaned_data
        return Filters(
            q=(data.get("q") or "").strip(),
            author_id=self._author_ids.get(data.get("author") or ""),
            model_id=self._model_ids.get(data.get("model") or ""),
            provider=data.get("provider") or "",
            style=data.get("style") or "",
            since=_start_of(data.get("date_from")),
            until=_start_of(data["date_to"] + timedelta(days=1)) if data.get("date_to") else None,
            **self._extra_filters(user),
        )

    def _extra_filters(self, user: User) -> dict[str, Any]:
        return {}

    def querystring(self) -> str:
        """The valid form's values, empty ones left out: the canonical, shareable query."""
        pairs = []
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if value in (None, "", False):
                continue
            if value is True:
                value = "1"
            elif isinstance(value, date):
                value = value.isoformat()
            pairs.append((name, str(value)))
        return urlencode(pairs)

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def error_messages(self) -> list[str]:
        messages: list[str] = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            messages.extend(f"{label}: {error}" if label else str(error) for error in errors)
        return messages


def _start_of(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class GalleryFilterForm(_FilterForm):
    media_type = forms.ChoiceField(
        required=False, label="Media type", choices=ANY + list(MEDIA_TYPE_LABELS.items())
    )
    favourites = forms.BooleanField(required=False, label="Only my favourites")
    board = forms.ChoiceField(required=False, label="Board")

    def __init__(self, data: Any, *, options: FilterOptions, board: Board | None = None) -> None:
        super().__init__(data, options=options)
        self.fixed_board = board
        if board is not None:
            # A board's own page is the gallery filtered by that board.
            del self.fields["board"]
        else:
            self.fields["board"].choices = ANY + [  # type: ignore[attr-defined]
                (str(pk), name) for pk, name in options.boards
            ]

    def image_querystring(self) -> str:
        """The query an image opened from this listing carries, so that next and
        previous stay within it (on a board's page: within the board)."""
        query = self.querystring()
        if self.fixed_board is None:
            return query
        return "&".join(filter(None, [urlencode({"board": self.fixed_board.pk}), query]))

    def _extra_filters(self, user: User) -> dict[str, Any]:
        data = self.cleaned_data
        board_id = self.fixed_board.pk if self.fixed_board else data.get("board")
        return {
            "media_type": data.get("media_type") or "",
            "favourites_of": user.pk if data.get("favourites") else None,
            "board_id": int(board_id) if board_id else None,
        }


class HistoryFilterForm(_FilterForm):
    status = forms.ChoiceField(required=False, label="Outcome", choices=ANY + Status.choices)

    def _extra_filters(self, user: User) -> dict[str, Any]:
        return {"status": self.cleaned_data.get("status") or ""}
