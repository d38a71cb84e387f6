"""Reconciliation: confirm chat and tool jobs' final cost with ``GET /generation``.

The cost that arrives with an answer (``usage.cost``) is what the job records
as ``actual_cost``; OpenRouter's own accounting of the generation, available
a little later, is the final word. Image API answers carry no generation id,
so only chat-style jobs (``gen-…`` ids) can be confirmed.

A job qualifies when it has finished, has an ``upstream_id`` and no
``cost_confirmed_at``. Confirming sets ``confirmed_cost`` and
``cost_confirmed_at`` and releases whatever is still reserved for it (the
charge is now known). OpenRouter answers 404 for a short while after a
generation; the client retries that briefly, and a job still unknown is left
for the next run, until ``GIVE_UP_AFTER``: then ``cost_confirmed_at`` is set
with ``confirmed_cost`` left empty, which is how a job records that
reconciliation gave up on it (its reservation, if any, stays: the charge is
still unknown, and budgets keep counting it).

Every call is made with no database transaction open; each job is settled
with one conditional UPDATE, so two overlapping runs cannot confirm a job twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from generation.models import FINAL_STATUSES, Job
from generation.openrouter import ErrorKind, OpenRouterError, client_from_settings
from generation.spending import RECONCILED_STYLES

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
# Beat runs this every 5 minutes: stop starting calls well before the next run.
TIME_BUDGET_SECONDS = 120.0
# The client's retries of an early 404, kept short: the next run comes soon.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.5)
GIVE_UP_AFTER = timedelta(hours=24)
LOCK_KEY = "reconcile-costs:running"
# Errors that would fail every other call of this run too: stop and try next run.
_STOP_KINDS = frozenset(
    {ErrorKind.AUTH, ErrorKind.RATE_LIMITED, ErrorKind.NETWORK, ErrorKind.UNAVAILABLE}
)


@dataclass
class Report:
    confirmed: int = 0
    differing: int = 0  # confirmed at a cost other than the one the answer reported
    pending: int = 0  # not known to OpenRouter yet (or an error): left for the next run
    gave_up: int = 0
    stopped: str = ""  # why the run ended before its batch did, if it did
    skipped: bool = False  # another run holds the lock


def candidates(
    limit: int = BATCH_SIZE,
) -> list[tuple[uuid.UUID, str, datetime | None, Decimal | None]]:
    """Jobs to confirm, oldest finished first (the nearest to being given up on)."""
    return list(
        Job.objects.filter(
            style__in=RECONCILED_STYLES,
            status__in=FINAL_STATUSES,
            cost_confirmed_at__isnull=True,
        )
        .exclude(upstream_id="")
        .order_by(F("finished_at").asc(nulls_first=True), "created_at")
        .values_list("pk", "upstream_id", "finished_at", "actual_cost")[:limit]
    )


def confirm(job_id: uuid.UUID, cost: Decimal) -> bool:
    """Record the confirmed cost and release the job's reservation; False when the
    job was confirmed (or given up on) meanwhile."""
    return bool(
        Job.objects.filter(pk=job_id, cost_confirmed_at__isnull=True).update(
            confirmed_cost=cost, cost_confirmed_at=timezone.now(), reserved_cost=Decimal(0)
        )
    )


def settle(job_id: uuid.UUID, cost: Decimal, by: User) -> bool:
    """Record a charge an administrator read off OpenRouter's activity page.

    For finished jobs whose charge is unknown (an Image API answer that was cut
    off has no generation id to confirm it with; reconciliation may also have
    given up). Releases the reservation; False when the job's charge was
    settled meanwhile or it holds no reservation.
    """
    return bool(
        Job.objects.filter(pk=job_id, status__in=FINAL_STATUSES, reserved_cost__gt=0).update(
            confirmed_cost=cost,
            cost_confirmed_at=timezone.now(),
            reserved_cost=Decimal(0),
            cost_settled_by=by,
        )
    )


def give_up(job_id: uuid.UUID) -> bool:
    return bool(
        Job.objects.filter(pk=job_id, cost_confirmed_at__isnull=True).update(
            cost_confirmed_at=timezone.now()
        )
    )


def reconcile(
    *,
    batch_size: int = BATCH_SIZE,
    delays: Sequence[float] = RETRY_DELAYS,
    time_budget: float = TIME_BUDGET_SECONDS,
    now: datetime | None = None,
) -> Report:
    """Confirm up to ``batch_size`` jobs' costs; see the module docstring.

    Runs one at a time (a cache lock); a run that finds the lock taken does
    nothing (``skipped``). Never raises for OpenRouter's errors: they are counted
    and the jobs left for the next run.
    """
    report = Report()
    if not cache.add(LOCK_KEY, "1", timeout=int(time_budget) + 120):
        report.skipped = True
        return report
    try:
        _run(report, batch_size, tuple(delays), time_budget, now or timezone.now())
    finally:
        cache.delete(LOCK_KEY)
    logger.info(
        "Reconciliation: %d confirmed (%d differing), %d pending, %d given up%s",
        report.confirmed,
        report.differing,
        report.pending,
        report.gave_up,
        f"; stopped: {report.stopped}" if report.stopped else "",
    )
    return report


def _run(
    report: Report, batch_size: int, delays: tuple[float, ...], time_budget: float, now: datetime
) -> None:
    jobs = candidates(batch_size)
    if not jobs:
        return
    deadline = time.monotonic() + time_budget
    give_up_before = now - GIVE_UP_AFTER
    with client_from_settings() as client:
        for job_id, generation_id, finished_at, reported in jobs:
            if time.monotonic() > deadline:
                report.stopped = "out of time; the rest waits for the next run"
                break
            try:
                stats = client.get_generation(generation_id, delays=delays)
            except OpenRouterError as exc:
                if exc.kind in _STOP_KINDS:
                    report.stopped = exc.user_message
                    logger.warning("Reconciliation stopped: %s", exc)
                    break
                if exc.kind is not ErrorKind.NOT_FOUND:
                    logger.warning("GET /generation for job %s failed: %s", job_id, exc)
                cost = None
            else:
                cost = stats.total_cost
            if cost is not None:
                if confirm(job_id, cost):
                    report.confirmed += 1
                    if cost != reported:
                        report.differing += 1
                        logger.info(
                            "Job %s: OpenRouter confirmed $%s, the answer reported $%s",
                            job_id,
                            cost,
                            reported,
                        )
            elif finished_at is not None and finished_at < give_up_before:
                report.gave_up += give_up(job_id)
                logger.warning(
                    "Gave up confirming the cost of job %s (%s): unknown to OpenRouter for over %s",
                    job_id,
                    generation_id,
                    GIVE_UP_AFTER,
                )
            else:
                report.pending += 1
