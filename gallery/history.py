"""The shared prompt history: jobs grouped by prompt, newest first, keyset-paged like the gallery."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import MD5, RowNumber

from gallery.paging import Cursor, Filters, Page
from gallery.search import search
from gallery.selectors import in_dates, job_conditions
from generation.models import Image, Job
from generation.selectors import visible_jobs
from generation.spending import charged_expression

HISTORY_PAGE_SIZE = 20
HISTORY_RUNS_SHOWN = 5


@dataclass
class PromptGroup:
    """Every run of one exact prompt (within the filters), newest run first."""

    latest: Job
    runs: int = 0
    total_cost: Decimal = Decimal(0)
    models: list[tuple[str, int]] = field(default_factory=list)  # slug, runs; most runs first
    recent: list[Job] = field(default_factory=list)
    # The latest run's Generate form data for "Run again", filled in by the view.
    run_again: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def earlier(self) -> int:
        return max(0, self.runs - len(self.recent))


def history_jobs(user: User, filters: Filters, *, with_search: bool = True) -> QuerySet[Job]:
    jobs = visible_jobs(user).filter(job_conditions(filters, ""), in_dates(filters))
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if with_search and filters.q:
        jobs = search(jobs, filters.q)
    return jobs


def _same_prompts(jobs: QuerySet[Job], prompts: Sequence[str]) -> QuerySet[Job]:
    # md5 first so PostgreSQL can use job_prompt_md5_idx; the text itself for exactness.
    digests = [hashlib.md5(prompt.encode()).hexdigest() for prompt in prompts]  # noqa: S324 - grouping, not security
    return jobs.alias(prompt_md5=MD5("prompt")).filter(prompt_md5__in=digests, prompt__in=prompts)


def history_page(
    user: User, filters: Filters, after: Cursor | None = None, size: int | None = None
) -> Page[PromptGroup]:
    """Identical prompts grouped, the group with the most recent run first.

    A group is found by its latest run: a job with no newer job of the same
    prompt (within the filters). That keeps the keyset on the jobs'
    ``(created_at, id)`` and the "is there a newer run?" check one probe of
    the md5(prompt) index, so no page ever groups the whole history. Four
    queries: the groups, their counts per model, their latest runs, and those
    runs' images.
    """
    size = size or HISTORY_PAGE_SIZE
    jobs = history_jobs(user, filters)
    # Search is about the prompt, which is the same for every run of a group:
    # no need to evaluate it again for the newer-run probe.
    candidates = history_jobs(user, filters, with_search=False)
    newer_run = (
        candidates.alias(prompt_md5=MD5("prompt"))
        .filter(prompt_md5=MD5(OuterRef("prompt")), prompt=OuterRef("prompt"))
        .filter(created_at__gte=OuterRef("created_at"))
        .filter(Q(created_at__gt=OuterRef("created_at")) | Q(pk__gt=OuterRef("pk")))
    )
    latest = jobs.filter(~Exists(newer_run))
    if after is not None:
        latest = latest.filter(after.older())
    rows = list(latest.select_related("author", "model").order_by("-created_at", "-pk")[: size + 1])
    next_cursor = Cursor.of(rows[size - 1]) if len(rows) > size else None
    rows = rows[:size]
    if not rows:
        return Page([], None)

    groups = {job.prompt: PromptGroup(latest=job) for job in rows}
    same = _same_prompts(candidates, list(groups))
    per_model: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for prompt, slug, runs, cost in (
        same.order_by()
        .values("prompt", "model_slug")
        .annotate(runs=Count("pk"), cost=Sum(charged_expression()))
        .values_list("prompt", "model_slug", "runs", "cost")
    ):
        group = groups[prompt]
        group.runs += runs
        group.total_cost += cost or Decimal(0)
        per_model[prompt].append((slug, runs))
    for prompt, models in per_model.items():
        groups[prompt].models = sorted(models, key=lambda item: (-item[1], item[0]))

    recent = (
        same.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("prompt")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=HISTORY_RUNS_SHOWN)
        .select_related("author", "model")
        .prefetch_related(Prefetch("images", queryset=Image.objects.order_by("index")))
        .order_by("-created_at", "-pk")
    )
    for job in recent:
        groups[job.prompt].recent.append(job)
    return Page([groups[job.prompt] for job in rows], next_cursor)
