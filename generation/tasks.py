"""Celery tasks: thin, they pass ids and call a service."""

from __future__ import annotations

import uuid

from celery import shared_task

from generation import services
from generation import sweep as housekeeping


@shared_task(name="generation.tasks.run_job", ignore_result=True)
def run_job(job_id: str) -> None:
    """Generate one job. Redelivery is safe: ``services.run`` claims the job with a
    conditional update and does nothing for a job that is not queued."""
    services.run(uuid.UUID(job_id))


@shared_task(name="generation.tasks.sweep", ignore_result=True)
def sweep() -> None:
    housekeeping.sweep()
