"""``python manage.py sync_catalog [--if-empty]``: sync the image-model catalog now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import ImageModel, SyncStatus, SyncTrigger
from catalog.sync import SyncAlreadyRunning, sync_catalog


class Command(BaseCommand):
    help = (
        "Sync OpenRouter's image models, endpoints and prices into the catalog and print "
        "what was added, changed and retired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help=(
                "Only when the catalog has no model yet (first start). A failure is "
                "reported but exits 0, so the app still starts."
            ),
        )

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        if if_empty:
            count = ImageModel.objects.count()
            if count:
                self.stdout.write(f"The catalog has {count} models already; not syncing.")
                return
        try:
            run = sync_catalog(SyncTrigger.FIRST_RUN if if_empty else SyncTrigger.COMMAND)
        except SyncAlreadyRunning as exc:
            if if_empty:
                self.stdout.write(str(exc))
                return
            raise CommandError(str(exc)) from None
        except Exception as exc:
            if not if_empty:
                raise
            # First start: an unreachable OpenRouter must not stop the app from starting.
            self.stderr.write(f"Catalog sync failed: {type(exc).__name__}: {exc}")
            return

        duration = run.duration_seconds or 0.0
        line = f"Catalog sync {run.status}: {run.summary()} ({duration:.1f} s)."
        style = {
            SyncStatus.SUCCEEDED: self.style.SUCCESS,
            SyncStatus.PARTIAL: self.style.WARNING,
        }.get(SyncStatus(run.status), self.style.ERROR)
        self.stdout.write(style(line))
        for error in run.errors:
            self.stdout.write(f"  {error.get('model') or 'catalog'}: {error.get('message')}")
        if run.status == SyncStatus.FAILED:
            if if_empty:
                self.stderr.write("The app starts with an empty catalog; use Sync now later.")
                return
            raise CommandError("The catalog sync failed; nothing was changed.")
