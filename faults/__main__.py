"""``python -m faults [--scenario NAME ...] [--report-only] [--keep-logs]``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from pathlib import Path

from faults import report, scenarios
from faults.tally import Row, verdict

# Retries after 429/5xx wait DARKROOM_RETRY_BACKOFF_MS, doubling: 0.5 s keeps the
# upstream scenarios short without changing what is retried.
STACK_ENV = {"DARKROOM_RETRY_BACKOFF_MS": "500"}
WORKER_THREADS = 20


def parser() -> argparse.ArgumentParser:
    names = [definition.name for definition in scenarios.SCENARIOS]
    parser = argparse.ArgumentParser(
        prog="python -m faults",
        description="Darkroom's fault suite against the real stack and the offline emulator.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=names,
        help="run only this scenario (repeatable; default: all, in order)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        default=os.environ.get("FAULTS_REPORT_ONLY", "") not in ("", "0"),
        help="exit 0 even when a goal is missed (also FAULTS_REPORT_ONLY=1)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="copy the services' logs to var/faults-logs/"
    )
    parser.add_argument("--list", action="store_true", help="describe the scenarios and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for definition in scenarios.SCENARIOS:
            print(f"{definition.name}: {definition.description}")
        return 0
    chosen = [d for d in scenarios.SCENARIOS if not args.scenario or d.name in args.scenario]
    began = time.monotonic()
    rows = run(chosen, keep_logs=Path("var/faults-logs").resolve() if args.keep_logs else None)
    print(f"\nDarkroom fault suite: {len(rows)} scenarios in {time.monotonic() - began:.0f} s")
    print(report.table(rows))
    missed = [row for row in rows if verdict(row)]
    for row in rows:
        print(f"{row.scenario}:{report.verdict_line(row)[len('  verdict:') :]}")
    print(
        "Reconciliation (GET /generation) was run by the harness itself "
        "(costs.reconcile.reconcile) before each count, as beat does every 5 minutes."
    )
    print(
        f"{len(missed)} of {len(rows)} scenarios miss their goals."
        if missed
        else "Every scenario meets its goals."
    )
    return exit_code(rows, report_only=args.report_only)


def exit_code(rows: list[Row], *, report_only: bool) -> int:
    """0 when every scenario met its goals (or ``report_only``), else 1."""
    if report_only or (rows and not any(verdict(row) for row in rows)):
        return 0
    return 1


def run(chosen: list[scenarios.Definition], keep_logs: Path | None) -> list[Row]:
    from bench import stack as bench_stack
    from faults.harness import Scenario, Suite
    from faults.supervisor import Supervisor

    print(
        "Starting the stack (PostgreSQL, Redis, S3 behind a proxy, emulator, uvicorn x2, "
        "generation worker, default worker, beat; production settings)…",
        flush=True,
    )
    started = time.monotonic()
    rows: list[Row] = []
    with bench_stack.running(
        worker_concurrency=WORKER_THREADS,
        keep_logs=keep_logs,
        layout="team",
        extra_env=STACK_ENV,
        s3_proxy=True,
    ) as stack:
        _no_pool_here()
        suite = Suite(stack)
        supervisor = Supervisor(stack)
        supervisor.start()
        print(f"Stack up in {time.monotonic() - started:.0f} s.\n", flush=True)
        print(report.header(), flush=True)
        try:
            for definition in chosen:
                number = [d.name for d in scenarios.SCENARIOS].index(definition.name) + 1
                scenario = Scenario(suite, number, definition.name)
                try:
                    definition.run(scenario)
                    row = scenario.count()
                    row.crashes = supervisor.take()
                except Exception as exc:  # one broken scenario must not hide the others
                    traceback.print_exc()
                    row = Row(definition.name, error=f"{type(exc).__name__}: {exc}"[:300])
                    row.seconds = time.time() - scenario.started
                    _heal(stack)
                    row.crashes = supervisor.take()
                rows.append(row)
                print(report.line(row), flush=True)
                print("\n".join(report.details(row)), flush=True)
        finally:
            supervisor.stop()
            suite.close()
    return rows


def _no_pool_here() -> None:
    """This process reads rows across outages: plain connections, each request
    its own, instead of the app's pool (whose behaviour is what is measured)."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
        connection.settings_dict.get("OPTIONS", {}).pop("pool", None)


def _heal(stack: object) -> None:
    """After a scenario that failed midway: every process running and answering."""
    from bench.stack import Stack

    assert isinstance(stack, Stack)
    if stack.s3_proxy is not None:
        stack.s3_proxy.restore()
    for part in stack.parts.values():
        if part.alive():
            part.resume()
        else:
            # The supervisor may have started it meanwhile.
            with contextlib.suppress(RuntimeError):
                part.start()


if __name__ == "__main__":
    sys.exit(main())
