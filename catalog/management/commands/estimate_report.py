"""``python manage.py estimate_report``: Darkroom's estimates against the emulator's charges."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog import estimate_report, selectors
from catalog.models import ImageModel


@contextlib.contextmanager
def _emulator(url: str | None) -> Iterator[str]:
    """The given emulator's URL, or a fresh in-process emulator's (latency 0), stopped after."""
    if url:
        yield url
        return
    from emulator import EmulatorServer

    server = EmulatorServer(host="127.0.0.1", port=0, latency=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


class Command(BaseCommand):
    help = (
        "Price every synced model x endpoint x tier x quality (x style where it differs) with "
        "Darkroom's estimate and with a real request to the OpenRouter emulator, print the "
        "ratio per cell, and say whether every cell is within 10%. Exits 1 when one is not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--emulator-url",
            help=(
                "a running emulator's API URL (…/api/v1); by default one is started in this "
                "process on a free loopback port"
            ),
        )
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            default=[],
            help="only this model slug (repeatable)",
        )

    def handle(self, *args: Any, emulator_url: str | None = None, **options: Any) -> None:
        models = list(selectors.generatable_models())
        wanted: list[str] = options.get("models") or []
        if wanted:
            models = [model for model in models if model.slug in wanted]
            missing = sorted(set(wanted) - {model.slug for model in models})
            if missing:
                raise CommandError(
                    f"Not in the synced catalog: {', '.join(missing)}. "
                    "Run `python manage.py sync_catalog` against the emulator first."
                )
        if not models:
            count = ImageModel.objects.count()
            raise CommandError(
                "The catalog has no model to price. Run `python manage.py sync_catalog` "
                f"against the emulator first ({count} models stored)."
            )
        cells = estimate_report.cells(models)
        with _emulator(emulator_url) as url:
            rows = estimate_report.compare(url, cells)
        self.stdout.write(estimate_report.render(rows))
        if not estimate_report.all_within(rows):
            raise CommandError("Some estimates are more than 10% away from the charge.")
