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

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

app = Celery("darkroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {}
