"""Prompt search: PostgreSQL full-text search over the whole history, backed by
the GIN index, and the word-by-word fallback used on SQLite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from gallery import search, selectors
from gallery.paging import Filters
from gallery.search import fallback_search
from generation.models import Job
from tests.gallery.conftest import make_image, make_job

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full-text search"
)


def prompts(images: list[Any]) -> set[str]:
    return {image.job.prompt for image in images}


def test_fallback_requires_every_word_case_insensitively() -> None:
    assert fallback_search("Red  bicycle") == Q(prompt__icontains="Red") & Q(
        prompt__icontains="bicycle"
    )


def test_fallback_understands_phrases_negation_and_ignores_or_and_punctuation() -> None:
    condition = fallback_search('"red bicycle", -night OR rain!', field="job__prompt")

    assert condition == (
        Q(job__prompt__icontains="red bicycle")
        & ~Q(job__prompt__icontains="night")
        & Q(job__prompt__icontains="rain")
    )


def test_fallback_of_nothing_filters_nothing() -> None:
    assert fallback_search('  "" - , ') == Q()


def test_fallback_finds_the_right_jobs(user: User) -> None:
    for prompt in ("A red bicycle at night", "a red bicycle in the rain", "a blue car"):
        make_job(user, prompt)

    found = Job.objects.filter(fallback_search("RED bicycle -night"))

    assert [job.prompt for job in found] == ["a red bicycle in the rain"]


def test_fallback_is_what_search_uses_without_postgresql(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_job(user, "a red bicycle")
    make_job(user, "red bicycles")
    monkeypatch.setattr(connection, "vendor", "sqlite")

    found = search.search(Job.objects.all(), "bicycle")

    assert "icontains" not in str(found.query)  # compiled by PostgreSQL's backend...
    assert "to_tsvector" not in str(found.query)  # ...but with the fallback's condition
    assert sorted(job.prompt for job in found) == ["a red bicycle", "red bicycles"]


@postgres_only
def test_postgres_search_stems_and_spans_the_whole_history(user: User) -> None:
    long_ago = timezone.now() - timedelta(days=3 * 365)
    make_image(user, "Lighthouses in a storm", created_at=long_ago)
    make_image(user, "a lighthouse keeper's cat")
    make_image(user, "a storm over the sea")

    page = selectors.gallery_page(user, Filters(q="lighthouse"))

    assert prompts(page.items) == {"Lighthouses in a storm", "a lighthouse keeper's cat"}


@postgres_only
def test_postgres_search_understands_phrases_and_negation(user: User) -> None:
    make_image(user, "a red bicycle at night")
    make_image(user, "a bicycle, red as fire")
    make_image(user, "a red bicycle in the rain")

    phrase = selectors.gallery_page(user, Filters(q='"red bicycle" -night'))
    either = selectors.gallery_page(user, Filters(q="fire or rain"))

    assert prompts(phrase.items) == {"a red bicycle in the rain"}
    assert prompts(either.items) == {"a bicycle, red as fire", "a red bicycle in the rain"}


def test_search_syntax_never_fails(user: User) -> None:
    make_image(user, "a red bicycle")

    for text in ['"unclosed', "(((", "&|!:*", "the", "-"]:
        selectors.gallery_page(user, Filters(q=text))  # no exception: websearch syntax


@postgres_only
def test_postgres_search_is_answered_by_the_gin_index(user: User) -> None:
    make_image(user, "a red bicycle")
    query = search.search(Job.objects.all(), "bicycle").query
    sql, params = query.sql_with_params()

    with connection.cursor() as cursor:
        # Tiny tables (and statistics left by other tests): leave the planner no
        # way but an index matching the search expression, if there is one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Bitmap Index Scan on job_prompt_fts_idx" in plan
