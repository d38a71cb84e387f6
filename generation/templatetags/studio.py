"""Template filters for job cards: where a queued job stands, when it retries, who may act."""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.utils import timezone

from generation import studio
from generation.models import Job, Status
from webapp import permissions

register = template.Library()


@register.filter
def queue_place(job: Job) -> int | None:
    """The job's place in the queue (1: next), or None when it is not waiting."""
    return studio.queue_position(job)


@register.filter
def retry_in(job: Job) -> int | None:
    """Whole seconds until a job held back after a transient failure is tried
    again (from ``enqueued_at``, the time it was requeued for); None otherwise."""
    if job.status != Status.QUEUED or not job.transient_failures or job.enqueued_at is None:
        return None
    # Counted as the page's script counts (from the whole second it is given), so
    # that a re-rendered card and the ticking one agree.
    until = int(job.enqueued_at.timestamp())
    return max(0, math.ceil(until - timezone.now().timestamp()))


@register.filter
def uploads(job: Job) -> list[tuple[int, dict[str, object]]]:
    """The job's uploaded references with their index, for the reference thumbnails."""
    found = [r for r in job.references if r.get("kind") == "upload"]
    return list(enumerate(found))


@register.filter
def may_manage(user: Any, job: Any) -> bool:
    """Whether ``user`` may cancel or retry ``job`` (``webapp.permissions``), as the
    live stream decides for its cards."""
    return bool(getattr(user, "is_authenticated", False)) and permissions.can_manage(user, job)
