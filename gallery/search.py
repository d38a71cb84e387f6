"""Prompt search: PostgreSQL full-text search on the GIN index, a portable fallback elsewhere."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import (
    Q,
    QuerySet,
)

# queries must use the same one, or PostgreSQL cannot use the index.
# The text search configuration of the GIN index in migration 0002_gallery_search:
# queries must use the same one, or PostgreSQL cannot use the index.
FTS_CONFIG = "english"


def search(queryset: QuerySet[Any], text: str, *, field: str = "prompt") -> QuerySet[Any]:
    """Rows whose ``field`` (a prompt) matches ``text``, over the whole history.

    PostgreSQL: full-text search with web-search syntax (words, "quoted
    phrases", ``-word``, ``or``), stemmed in English, answered by the GIN
    index of migration 0002_gallery_search (same expression, same config).
    Elsewhere (SQLite in development): ``fallback_search``.
    """
    text = text.strip()
    if not text:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        return queryset.alias(prompt_fts=SearchVector(field, config=FTS_CONFIG)).filter(
            prompt_fts=SearchQuery(text, config=FTS_CONFIG, search_type="websearch")
        )
    return queryset.filter(fallback_search(text, field=field))


_TERMS = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
_PUNCTUATION = ".,;:!?()[]{}'\"“”‘’-"


def fallback_search(text: str, *, field: str = "prompt") -> Q:
    """The search without PostgreSQL: every word and "quoted phrase" must appear
    in ``field``, case-insensitively; a ``-word`` must not; ``or`` is ignored
    (no stemming: "bicycles" does not find "bicycle")."""
    condition = Q()
    for match in _TERMS.finditer(text):
        negated = bool(match.group(1) or match.group(3))
        term = (match.group(2) if match.group(2) is not None else match.group(4)).strip(
            _PUNCTUATION + " "
        )
        if not term or term.lower() == "or":
            continue
        contains = Q(**{f"{field}__icontains": term})
        condition &= ~contains if negated else contains
    return condition
