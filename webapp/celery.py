"""The Celery app. Configuration lives in settings (CELERY_*); the beat schedule lives here.

Two queues, two kinds of worker (see README, "Running"):
- ``generation``: long I/O-bound OpenRouter calls. Served by the threads pool
  with hundreds of threads per process; every network call carries its own
  timeout because the threads pool enforces no time limits.
- ``default``: everything else (catalog sync, sweeps, reconciliation), prefork.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("darkroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every 30 s: ends (or restarts) jobs whose worker died, which their stopped
    # heartbeat shows within 45 s, ends jobs that overstayed the generation time
    # limit (the threads pool enforces none) and resends queued jobs the broker
    # lost, so nothing stays "running" or "queued" for long.
    "sweep-jobs": {
        "task": "generation.tasks.sweep",
        "schedule": 30.0,
    },
    # Every 5 minutes: confirm the final cost of finished chat and tool jobs with
    # GET /generation (it answers 404 for a short while after a generation, so a
    # job is retried on later runs) and release what is still reserved for them,
    # so budgets and the Costs page use OpenRouter's own figures within minutes.
    "reconcile-costs": {
        "task": "generation.tasks.reconcile_costs",
        "schedule": 300.0,
    },
    # Nightly at 03:17 UTC (off the hour, away from other jobs): refresh the image
    # models, endpoints and prices from OpenRouter so forms and estimates stay current.
    "sync-catalog-nightly": {
        "task": "catalog.tasks.sync_catalog",
        "schedule": crontab(hour=3, minute=17),
        "kwargs": {"trigger": "nightly"},
    },
}
