"""Scenario "latency": jobs one after another at low load, upstream latency L.

``--jobs`` (default 20) jobs are submitted through the API one at a time, each
after the previous one ended, with the emulator answering after L (default
2 s). A job's overhead is what Darkroom adds to the upstream call: submit to
done (the job row's ``finished_at``) minus the upstream time the worker
recorded. Goal: p95 at most 100 ms (printed, never enforced).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import jobs, measure
from bench import stack as bench_stack

DEFAULT_JOBS = 20
DEFAULT_LATENCY = 2.0
GOAL_MS = 100


def run(args: argparse.Namespace) -> int:
    keep_logs = Path("var/bench-logs").resolve() if args.keep_logs else None
    print(f"Starting the stack (one Celery worker with {args.concurrency} threads)…", flush=True)
    with bench_stack.running(worker_concurrency=args.concurrency, keep_logs=keep_logs) as stack:
        return _measure(args, stack)


def _submit(client: httpx.Client, body: dict[str, Any]) -> jobs.Submitted:
    sent = time.time()
    try:
        response = client.post("/api/v1/jobs", json=body)
    except httpx.HTTPError as exc:
        return jobs.Submitted(0, sent, time.time(), 0, None, f"{type(exc).__name__}: {exc}")
    answered = time.time()
    if response.status_code != 201:
        return jobs.Submitted(0, sent, answered, response.status_code, None, response.text[:300])
    return jobs.Submitted(0, sent, answered, 201, uuid.UUID(response.json()["id"]))


def _measure(args: argparse.Namespace, stack: bench_stack.Stack) -> int:
    from generation.models import Job, Status

    token = jobs._user_and_token()
    jobs._configure_emulator(stack.emulator_url, 0)
    for _ in range(3):  # warm-up, not measured
        _, warm = asyncio.run(jobs._submit_all(stack.web_url, token, jobs._bodies(args, 1)))
        if warm[0].job_id is None:
            print(f"Warm-up submit failed: HTTP {warm[0].status} {warm[0].error}")
            return 1
        jobs._wait_until_final([warm[0].job_id], timeout=60)
    jobs._configure_emulator(stack.emulator_url, args.latency)
    roots = stack.processes()
    cpu_before = measure.cpu_seconds(roots)
    print(
        f"Submitting {args.jobs} jobs one after another (latency {args.latency:g} s)…", flush=True
    )
    overheads: list[float] = []
    posts: list[float] = []
    after_upstream: list[float] = []
    failures: list[str] = []
    # One client for the whole run: a new one per job costs the harness more
    # CPU (an SSL context each) than the product spends on the job.
    client = httpx.Client(
        base_url=stack.web_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    for _ in range(args.jobs):
        item = _submit(client, jobs._bodies(args, 1)[0])
        if item.job_id is None:
            failures.append(f"submit refused: HTTP {item.status} {item.error[:160]}")
            continue
        posts.append(item.answered_at - item.sent_at)
        jobs._wait_until_final([item.job_id], timeout=args.latency * 4 + 60)
        row = Job.objects.filter(pk=item.job_id).values(
            "status", "error_code", "finished_at", "upstream_started_at", "upstream_seconds"
        )[0]
        if row["status"] != Status.SUCCEEDED or row["finished_at"] is None:
            failures.append(f"{row['status']}: {row['error_code']}")
            continue
        done = row["finished_at"].timestamp()
        upstream = row["upstream_seconds"] or 0.0
        overheads.append(done - item.sent_at - upstream)
        if row["upstream_started_at"]:
            after_upstream.append(done - row["upstream_started_at"].timestamp() - upstream)
        time.sleep(0.05)
    client.close()
    cpu = measure.difference(measure.cpu_seconds(roots), cpu_before)

    def ms(values: list[float]) -> str:
        return (
            f"p50 {measure.percentile(values, 0.5) * 1000:.0f} ms, "
            f"p95 {measure.percentile(values, 0.95) * 1000:.0f} ms"
        )

    p95 = measure.percentile(overheads, 0.95) * 1000
    met = p95 <= GOAL_MS and not failures
    lines = [
        "",
        "Darkroom benchmark: latency (jobs one after another)",
        f"  jobs, L                          {args.jobs} one at a time, L = {args.latency:g} s",
        f"  per-job overhead                 {ms(overheads)}  (submit-to-done minus upstream time; "
        f"goal p95 <= {GOAL_MS} ms: {measure.verdict(met)})",
        f"    POST answered                  {ms(posts)}",
        f"    upstream done -> job done      {ms(after_upstream)}",
        f"  succeeded                        {len(overheads)}/{args.jobs}",
        *(f"    {failure}" for failure in failures[:5]),
        "  CPU during the run:",
        *measure.cpu_lines(cpu, per=len(overheads)),
    ]
    print("\n".join(lines), flush=True)
    return 0 if not failures else 1
