"""The audit log as admins read it: the audit events merged with every member's
generations, newest first, a page at a time.

Generations are not written to the audit log: a submit must stay a handful of
queries, and the job table already says who asked for what, when. Each job
becomes one derived line here instead. Pages are keyset pages over the merged
order (time, then source, then id), so a page costs two indexed reads however
far back it is, and nothing is skipped or shown twice when rows share a moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.template.defaultfilters import pluralize

from generation.models import Job
from team.models import AuditEvent

PAGE_SIZE = 50
GENERATED = "generated"
# Where two lines share a moment, audit events sort above generations.
_JOB, _EVENT = 0, 1


class BadCursor(ValueError):
    """The ``before`` of a page link that this log never made."""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    rank: int
    key: int | uuid.UUID

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()}~{self.rank}~{self.key}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        try:
            moment, rank_text, key = text.split("~")
            created_at = datetime.fromisoformat(moment)
            rank = int(rank_text)
            if created_at.tzinfo is None or rank not in (_JOB, _EVENT):
                raise ValueError(text)
            return cls(created_at, rank, uuid.UUID(key) if rank == _JOB else int(key))
        except ValueError as error:
            raise BadCursor(text) from error


@dataclass(frozen=True)
class Line:
    """One line of the log, whichever source it came from."""

    created_at: datetime
    action: str
    label: str
    actor_name: str
    subject_name: str
    detail: str
    cursor: Cursor


@dataclass(frozen=True)
class Page:
    lines: list[Line]
    older: Cursor | None  # the link to the next page back, if there is one


def _after(queryset: QuerySet[Any], rank: int, before: Cursor | None) -> QuerySet[Any]:
    """The rows of one source that come after ``before`` in the merged order."""
    if before is None:
        return queryset
    if rank < before.rank:
        return queryset.filter(created_at__lte=before.created_at)
    if rank > before.rank:
        return queryset.filter(created_at__lt=before.created_at)
    return queryset.filter(
        Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, pk__lt=before.key)
    )


def _event_line(event: AuditEvent) -> Line:
    return Line(
        created_at=event.created_at,
        action=event.action,
        label=event.get_action_display(),
        actor_name=event.actor_name,
        subject_name=event.subject_name,
        detail=event.detail,
        cursor=Cursor(event.created_at, _EVENT, event.pk),
    )


def _job_line(job: Job) -> Line:
    return Line(
        created_at=job.created_at,
        action=GENERATED,
        label="Generated",
        actor_name=job.author.get_username(),
        subject_name="",
        detail=(
            f"{job.n} image{pluralize(job.n)} with {job.model_slug}: "
            f"{job.get_status_display().lower()}"
        ),
        cursor=Cursor(job.created_at, _JOB, job.pk),
    )


def page(before: Cursor | None = None, *, generations: bool = True) -> Page:
    """The ``PAGE_SIZE`` lines that come after ``before`` (the newest when None);
    ``generations=False`` leaves out the members' jobs."""
    events = _after(AuditEvent.objects.order_by("-created_at", "-pk"), _EVENT, before)
    lines = [_event_line(event) for event in events[: PAGE_SIZE + 1]]
    if generations:
        jobs = _after(
            Job.objects.select_related("author")
            .only("created_at", "n", "model_slug", "status", "author__username")
            .order_by("-created_at", "-pk"),
            _JOB,
            before,
        )
        lines += [_job_line(job) for job in jobs[: PAGE_SIZE + 1]]
    lines.sort(
        key=lambda line: (line.cursor.created_at, line.cursor.rank, line.cursor.key), reverse=True
    )
    shown = lines[:PAGE_SIZE]
    older = shown[-1].cursor if len(lines) > PAGE_SIZE else None
    return Page(lines=shown, older=older)
