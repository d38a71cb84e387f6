"""``python -m bench [--scenario jobs|latency|sse|memory|gallery|catalog|estimates] [--jobs 200] [--latency 5] …``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from bench import catalog, estimates, gallery, jobs, latency, memory, sse

# A scenario takes the parsed arguments and returns the process's exit code.
# Add new ones here.
SCENARIOS: dict[str, Callable[[argparse.Namespace], int]] = {
    "jobs": jobs.run,
    "gallery": gallery.run,
    "estimates": estimates.run,
    "latency": latency.run,
    "sse": sse.run,
    "memory": memory.run,
    "catalog": catalog.run,
}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Darkroom benchmarks against the real stack and the offline emulator.",
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="jobs")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="jobs submitted at once (default 200; latency scenario: one after another, 20)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=None,
        help="the emulator's upstream latency L in seconds (default 5; latency scenario 2)",
    )
    parser.add_argument(
        "--model",
        default="google/gemini-2.5-flash-image",
        help="model slug from the emulator's catalog",
    )
    parser.add_argument(
        "--options",
        type=json.loads,
        default={},
        help='the model\'s options as JSON, e.g. \'{"aspect_ratio": "16:9"}\'',
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="bursts of N jobs, one after the other: the first meets fresh worker threads, "
        "later ones threads that have run jobs before (default 2)",
    )
    parser.add_argument(
        "--submit",
        choices=["each", "batch"],
        default="each",
        help="jobs scenario: one POST /api/v1/jobs per job (default), or the jobs split into "
        "POST /api/v1/jobs/batch requests of at most 50, all sent at once",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=250,
        help="threads of the one Celery worker process (default 250)",
    )
    parser.add_argument(
        "--goal",
        type=float,
        default=1.5,
        help="the goal, wall time as a multiple of L (default 1.5)",
    )
    parser.add_argument(
        "--images",
        type=int,
        default=1_000_000,
        help="gallery scenario: images in the seeded gallery (default 1,000,000)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=30,
        help="gallery scenario: requests per page measured (default 30)",
    )
    parser.add_argument(
        "--streams",
        type=int,
        default=2000,
        help="sse scenario: streams open at once on one web process (default 2,000)",
    )
    parser.add_argument(
        "--watchers",
        type=int,
        default=1000,
        help="sse scenario: streams watching one job (default 1,000)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="copy the services' logs to var/bench-logs/"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cpu",
        choices=["cpu", "native"],
        help="sample the worker and web processes with py-spy during the run "
        "(var/bench-profile/); 'native' names C functions too, at a cost to the figures",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sequential = args.scenario == "latency"
    if args.latency is None:
        args.latency = latency.DEFAULT_LATENCY if sequential else 5.0
    if args.jobs is None:
        args.jobs = latency.DEFAULT_JOBS if sequential else 200
    if args.jobs < 1 or args.rounds < 1 or args.latency < 0 or args.concurrency < 1:
        parser().error(
            "--jobs, --rounds and --concurrency must be positive, --latency not negative"
        )
    return SCENARIOS[args.scenario](args)


if __name__ == "__main__":
    sys.exit(main())
