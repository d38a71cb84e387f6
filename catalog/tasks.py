"""Celery tasks of the catalog: thin wrappers over ``catalog.sync``."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from catalog import sync
from catalog.models import SyncTrigger

logger = logging.getLogger(__name__)


# A sync makes one call per model, four at a time, each with its own timeout,
# and stops making calls after FETCH_BUDGET_SECONDS: these limits sit above that
# and below sync.STALE_AFTER, after which a run still marked running is closed.
@shared_task(name="catalog.tasks.sync_catalog", soft_time_limit=14 * 60, time_limit=15 * 60)
def sync_catalog(trigger: str = SyncTrigger.NIGHTLY) -> dict[str, Any] | None:
    """Sync the catalog (nightly from beat, or from the "Sync now" button).

    A sync already running makes this one a no-op. The outcome is the
    ``SyncRun`` row; the return value is only for the worker's log.
    """
    if trigger not in SyncTrigger.values:
        trigger = SyncTrigger.NIGHTLY
    try:
        run = sync.sync_catalog(trigger)
    except sync.SyncAlreadyRunning:
        logger.info("Catalog sync (%s) skipped: another sync is running", trigger)
        return None
    return run.as_dict()
