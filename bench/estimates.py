"""Scenario "estimates": Darkroom's estimate against the emulator's charge for every cell.

Starts the services from ``tests.services`` and an emulator on a free
loopback port (latency 0, as the tests run it), migrates a fresh database
with production settings, syncs the catalog from the emulator over HTTP, then
runs ``python manage.py estimate_report`` against that emulator: one line per
model x endpoint x tier x quality (x style where it differs) with estimate,
charge and ratio, and a final line saying whether every cell is within 10%.
The exit code is 1 when one is not.
"""

from __future__ import annotations

import argparse
import os

from tests import services as test_services


def run(args: argparse.Namespace) -> int:
    from emulator import EmulatorServer

    services = test_services.start_all()
    emulator = EmulatorServer(host="127.0.0.1", port=0, latency=0)
    emulator.start()
    try:
        from bench.stack import _create_database, _setup_django, app_env

        _create_database(services.env["DATABASE_URL"])
        os.environ.update(app_env(services, emulator.url))
        _setup_django()  # migrates and syncs the catalog from the emulator
        from django.core.management import call_command
        from django.core.management.base import CommandError

        try:
            call_command("estimate_report", emulator_url=emulator.url)
        except CommandError as error:
            print(error)
            return 1
        return 0
    finally:
        emulator.stop()
        services.stop()
