"""Celery tasks of the costs app: thin, they call a service.

The task keeps the name it had when it lived in ``generation.tasks``: beat
schedules and messages already in the broker name it that way.
"""

from __future__ import annotations

from celery import shared_task

from costs import reconcile


@shared_task(name="generation.tasks.reconcile_costs", ignore_result=True)
def reconcile_costs() -> None:
    """Confirm finished chat and tool jobs' costs with GET /generation (default queue)."""
    reconcile.reconcile()
