"""The gallery's and history's shared vocabulary: filters, keyset cursors, pages and refusals.

Pages are keyset pages on ``(created_at, id)``, newest first, never OFFSET:
a page deep in a 100,000-image gallery costs what the first page costs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Q,
)

from generation.models import Image, Job

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class GalleryError(Exception):
    """A request the gallery refuses: ``message`` is for the person, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BadCursor(GalleryError):
    def __init__(self) -> None:
        super().__init__("This page link is broken or out of date. Start again from the newest.")


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first listing: the last row shown, by ``(created_at, id)``.

    Encoded for URLs as ``<microseconds since 1970>-<id hex>``.
    """

    created_at: datetime
    pk: uuid.UUID

    @classmethod
    def of(cls, row: Image | Job) -> Cursor:
        return cls(row.created_at, row.pk)

    def encode(self) -> str:
        micros = (self.created_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.pk.hex}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """Raises ``BadCursor`` for anything this class did not encode."""
        micros, _, hex_id = raw.partition("-")
        if len(raw) > 60 or not micros.isdigit() or len(hex_id) != 32:
            raise BadCursor
        try:
            return cls(EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError):
            raise BadCursor from None

    def older(self) -> Q:
        """Rows after this one in newest-first order. The leading ``created_at <=``
        is an index range condition; the OR only breaks ties within it."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(pk__lt=self.pk)
        )

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (
            Q(created_at__gt=self.created_at) | Q(pk__gt=self.pk)
        )


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class Filters:
    """What a gallery or history listing is narrowed to; empty values do not filter.

    ``since`` is inclusive and ``until`` exclusive. ``media_type``,
    ``favourites_of`` and ``board_id`` apply to images (the gallery), ``status``
    to jobs (the history); the rest to both.
    """

    q: str = ""
    author_id: int | None = None
    model_id: int | None = None
    provider: str = ""
    style: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None
    media_type: str = ""
    favourites_of: int | None = None
    board_id: int | None = None


@dataclass(frozen=True)
class FilterOptions:
    """What the filter menus offer, read with a fixed number of small queries."""

    authors: list[tuple[int, str]]
    models: list[tuple[int, str, str]]  # pk, slug, name
    providers: list[str]
    boards: list[tuple[int, str]]
