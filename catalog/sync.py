"""The catalog sync: read OpenRouter's discovery endpoints, write only what changed.

``sync_catalog(trigger)`` is the one service behind the nightly beat entry, the
``sync_catalog`` command, the "Sync now" button and the first ``make run``.

1. Claim the run: insert a ``SyncRun`` with status ``running``. A partial
   unique index allows one running row, so a second sync started meanwhile
   (another worker, the button pressed twice, the command while beat runs)
   fails to insert and raises ``SyncAlreadyRunning``. A run older than
   ``STALE_AFTER`` still marked running was abandoned by a dead process and is
   closed as failed first; the Celery task's hard time limit is below it.
2. Fetch, with no transaction open: ``/images/models``, then every model's
   endpoints on a bounded pool of threads (``DARKROOM_CATALOG_SYNC_THREADS``,
   default 24: 300 models at 200 ms a call take 2.6 s; each thread has its
   own client: the client is not shared across threads), and
   ``/models?output_modalities=image``. One model's endpoints failing is an
   error recorded against that model (its endpoints and prices stay as they
   were); ``/models`` failing is recorded and nothing is retired that night.
   ``/images/models`` failing (or answering no model at all) fails the run
   with nothing written.
3. Write everything in one transaction, comparing with what is stored: rows
   are inserted or updated only when a value differs, so a run on unchanged
   data writes nothing but its own ``SyncRun`` row. A changed price closes its
   row (``valid_until``) and opens a new one. Models in neither listing are
   retired (never deleted) and come back if they reappear.

Fetching lives in ``catalog.fetching``, writing in ``catalog.writing``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.fetching import ENDPOINT_WORKERS, ClientFactory, DiscoveryFailed, fetch_catalog
from catalog.models import SyncRun, SyncStatus, SyncTrigger
from catalog.writing import Counts, apply_catalog
from generation.openrouter import client_from_settings

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=20)


class SyncAlreadyRunning(Exception):
    """Another sync holds the run; this one did nothing."""


def sync_catalog(
    trigger: str = SyncTrigger.COMMAND,
    *,
    client_factory: ClientFactory = client_from_settings,
    workers: int | None = None,
) -> SyncRun:
    """Sync the catalog now and return the finished ``SyncRun``.

    Status ``succeeded``, ``partial`` (some models' endpoints or ``/models``
    could not be read: see ``errors``; the rest was synced) or ``failed``
    (discovery failed; nothing was written). Raises ``SyncAlreadyRunning``
    when another sync is running; any unexpected error is recorded on the run
    (status ``failed``) and re-raised. ``workers``: endpoint fetch threads
    (default ``DARKROOM_CATALOG_SYNC_THREADS``).
    """
    if workers is None:
        workers = getattr(settings, "DARKROOM_CATALOG_SYNC_THREADS", ENDPOINT_WORKERS)
    run = _claim_run(trigger)
    try:
        try:
            fetched = fetch_catalog(client_factory, workers=workers)
        except DiscoveryFailed as exc:
            return _finish(run, SyncStatus.FAILED, Counts(), [{"model": "", "message": str(exc)}])
        counts = apply_catalog(fetched, run)
        status = SyncStatus.PARTIAL if fetched.errors else SyncStatus.SUCCEEDED
        return _finish(run, status, counts, fetched.errors)
    except BaseException as exc:
        # Also on a Celery soft time limit or Ctrl-C: the run must not stay "running".
        if run.status == SyncStatus.RUNNING:
            message = f"{type(exc).__name__}: {exc}"
            _finish(run, SyncStatus.FAILED, Counts(), [{"model": "", "message": message}])
        raise


def _claim_run(trigger: str) -> SyncRun:
    now = timezone.now()
    SyncRun.objects.filter(status=SyncStatus.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=SyncStatus.FAILED,
        finished_at=now,
        errors=[{"model": "", "message": "Abandoned: the process running it stopped."}],
    )
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                started_at=now, trigger=trigger, status=SyncStatus.RUNNING
            )
    except IntegrityError:
        raise SyncAlreadyRunning("A catalog sync is already running.") from None


def _finish(run: SyncRun, status: str, counts: Counts, errors: list[dict[str, str]]) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.added = len(counts.added)
    run.changed = len(counts.changed - counts.added)
    run.retired = len(counts.retired)
    run.errors = errors
    run.save(update_fields=["status", "finished_at", "added", "changed", "retired", "errors"])
    logger.info("Catalog sync %s: %s", run.status, run.summary())
    return run


def request_sync(trigger: str = SyncTrigger.BUTTON) -> None:
    """Queue a sync on the ``default`` queue once the current transaction commits.

    Outside a transaction the task is sent at once, and a broker that does not
    answer raises ``kombu.exceptions.OperationalError`` here.
    """
    from catalog.tasks import sync_catalog as sync_task

    transaction.on_commit(lambda: sync_task.delay(trigger=trigger))
