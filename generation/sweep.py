"""The sweep (every 30 s from beat): end or restart jobs whose worker died, end jobs
that overstayed their time limit, send again queued jobs the broker lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from generation import heartbeat, services
from generation.models import Job, Status
from generation.transitions import update_job

logger = logging.getLogger(__name__)


# A queued job nobody claimed for this long was lost by the broker: send it again.
LOST_AFTER = timedelta(minutes=2)
# A queued job never sent (the broker was down at submit) is sent by the next sweep.
UNSENT_AFTER = timedelta(seconds=10)
# A worker that died before calling OpenRouter: its job runs again, this many times at most.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class SweepReport:
    timed_out: int
    resent: int
    interrupted: int = 0
    restarted: int = 0


_WORKING = (Status.RUNNING, Status.STREAMING, Status.STORING)
INTERRUPTED_MESSAGE = (
    "The worker running this job stopped before it finished. OpenRouter may have "
    "charged for it: the charge is confirmed with OpenRouter automatically where it "
    "can be, so check the job's cost before you retry."
)


def sweep() -> SweepReport:
    """End or restart jobs whose worker died, end jobs that overstayed their time
    limit, and resend queued jobs the broker lost.

    A job whose heartbeat stopped (``heartbeat.STALE_AFTER``) lost its worker:
    if it never reached OpenRouter it is queued again (up to ``MAX_ATTEMPTS``
    claims); otherwise it may have been charged, so it fails as
    ``interrupted`` and keeps its reservation until reconciliation (or an
    administrator) settles the charge.
    """
    now = timezone.now()
    stale_before = now - heartbeat.STALE_AFTER
    orphaned = Job.objects.filter(status__in=_WORKING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    interrupted = restarted = 0
    for job_id, upstream_started_at, attempts in orphaned.values_list(
        "pk", "upstream_started_at", "attempts"
    ):
        if upstream_started_at is None and attempts < MAX_ATTEMPTS:
            if update_job(
                job_id,
                _WORKING,
                status=Status.QUEUED,
                stage="Waiting for a worker (the previous one stopped)",
                progress=0,
                previews=0,
            ):
                services.enqueue(job_id)
                restarted += 1
            continue
        fields: dict[str, Any] = {}
        if upstream_started_at is None:
            # Never sent: nothing can have been charged.
            fields["reserved_cost"] = Decimal(0)
            message = "The job's worker stopped before it could start, several times. Retry it."
        else:
            message = INTERRUPTED_MESSAGE
        interrupted += update_job(
            job_id,
            _WORKING,
            status=Status.FAILED,
            stage="Failed",
            error_code="interrupted",
            error_message=message,
            finished_at=now,
            **fields,
        )

    # A live worker whose call outlived every bound (the client enforces its own,
    # so this is a last resort). Storing is exempt while its heartbeat is fresh:
    # storage retries may take longer than a generation.
    deadline = now - timedelta(seconds=settings.GENERATION_OVERSTAY_SECONDS)
    timed_out = 0
    stuck = Job.objects.filter(
        status__in=[Status.RUNNING, Status.STREAMING], started_at__lt=deadline
    ).values_list("pk", flat=True)
    for job_id in stuck:
        timed_out += update_job(
            job_id,
            (Status.RUNNING, Status.STREAMING),
            status=Status.FAILED,
            stage="Failed",
            error_code="timeout",
            error_message=(
                f"The generation did not finish within {settings.GENERATION_TIME_LIMIT} s "
                "and was stopped. OpenRouter may have charged for it: check the job's cost "
                "before you retry."
            ),
            finished_at=now,
        )
    # Lost by the broker (sent, never claimed), or never sent: the broker was
    # down at submit (a job not sent yet is seconds old: its submit commits first).
    lost = Job.objects.filter(
        Q(status=Status.QUEUED)
        & (
            Q(enqueued_at__lt=now - LOST_AFTER)
            | Q(enqueued_at__isnull=True, created_at__lt=now - UNSENT_AFTER)
        )
    ).values_list("pk", flat=True)
    resent = 0
    for job_id in lost:
        services.enqueue(job_id)
        resent += 1
    return SweepReport(
        timed_out=timed_out, resent=resent, interrupted=interrupted, restarted=restarted
    )
