"""`python manage.py reconcile_costs`: confirm chat generations' final costs now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from costs import reconcile


class Command(BaseCommand):
    help = (
        "Ask OpenRouter (GET /generation) for the final cost of finished chat and tool "
        "generations not yet confirmed, as the five-minute periodic task does."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile.reconcile()
        if report.skipped:
            self.stdout.write("Another reconciliation is running; nothing done.")
            return
        self.stdout.write(
            f"{report.confirmed} confirmed ({report.differing} differing from the reported "
            f"cost), {report.pending} still pending, {report.gave_up} given up."
        )
        if report.stopped:
            self.stdout.write(self.style.WARNING(f"Stopped early: {report.stopped}"))
