"""Worker liveness: each worker process touches the jobs it holds every few seconds.

A generation worker killed outright (SIGKILL, the OOM killer, a lost machine)
leaves its jobs "running" with nothing to end them: Redis redelivers the task
only after the visibility timeout, and the redelivered task finds the job no
longer queued. So every worker process keeps one daemon thread that stamps
``Job.heartbeat_at`` on the jobs its threads are running; the sweep treats a
job whose stamp is older than ``STALE_AFTER`` as orphaned (see
``generation.sweep``). One UPDATE per process per beat, whatever the number of
jobs, and nothing at all while the process holds none.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django import db
from django.utils import timezone

from generation.models import ACTIVE_STATUSES, Job

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 10.0
# Four missed beats: long enough for a process busy decoding a large image, short
# enough that a dead worker's jobs are ended within two minutes with a
# sweep every 30 s.
STALE_AFTER = timedelta(seconds=45)

_lock = threading.Lock()
_jobs: set[uuid.UUID] = set()
_owner_pid: int | None = None
_wake = threading.Event()


@contextmanager
def beating(job_id: uuid.UUID) -> Iterator[None]:
    """Keep ``job_id``'s heartbeat fresh while the block runs in this process."""
    with _lock:
        _jobs.add(job_id)
        _ensure_thread()
    try:
        yield
    finally:
        with _lock:
            _jobs.discard(job_id)


def _ensure_thread() -> None:
    # Called with _lock held. A forked child inherits the set but not the thread.
    global _owner_pid
    if _owner_pid == os.getpid():
        return
    _owner_pid = os.getpid()
    threading.Thread(target=_loop, name="job-heartbeat", daemon=True).start()


def _loop() -> None:
    while not _wake.wait(INTERVAL_SECONDS):
        beat()


def beat() -> int:
    """Stamp every job this process holds now; returns how many rows were touched."""
    with _lock:
        held = list(_jobs)
    if not held:
        return 0
    try:
        return Job.objects.filter(pk__in=held, status__in=ACTIVE_STATUSES).update(
            heartbeat_at=timezone.now()
        )
    except db.Error:
        # The database is down: the sweep cannot run either, and the next beat
        # after it returns refreshes the stamp before anyone judges it stale.
        logger.warning("Could not refresh job heartbeats", exc_info=True)
        return 0
    finally:
        db.connection.close()  # this thread's connection goes back to the pool
