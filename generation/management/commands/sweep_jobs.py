"""`python manage.py sweep_jobs`: what the every-minute sweep does, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from generation import sweep


class Command(BaseCommand):
    help = (
        "End or restart jobs whose worker died, end jobs that overstayed "
        "DARKROOM_GENERATION_TIME_LIMIT and resend queued jobs the broker lost, "
        "as the periodic sweep does every 30 s."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = sweep.sweep()
        self.stdout.write(
            f"{report.timed_out} timed out, {report.interrupted} interrupted, "
            f"{report.restarted} restarted, {report.resent} resent."
        )
