"""A job's moves between states: each a conditional UPDATE on the current status.

Zero rows updated means "someone else has moved this job on" (a redelivered
task, a concurrent cancel, the sweep), so no two of them overwrite each other.
Every move is published to the job's watchers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from generation import progress
from generation.models import ACTIVE_STATUSES, Job, Status


def update_job(job_id: uuid.UUID, statuses: Iterable[str], **fields: Any) -> bool:
    changed = Job.objects.filter(pk=job_id, status__in=list(statuses)).update(**fields)
    if changed and "status" in fields:
        progress.publish(job_id, fields["status"])
    elif changed:
        progress.publish(job_id, "progress")
    return bool(changed)


def sentence(text: str) -> str:
    """``text`` ending with a full stop, so that sentences never run together."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def fail_job(job: Job, code: str, message: str) -> None:
    """End the job as failed. Its reservation is left as the caller set it: released
    once the charge is known, kept where the call may have been charged unknowingly."""
    update_job(
        job.pk,
        ACTIVE_STATUSES,
        status=Status.FAILED,
        stage="Failed",
        error_code=code,
        error_message=message,
        finished_at=timezone.now(),
    )
