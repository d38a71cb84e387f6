"""Scenario "jobs": N jobs submitted at once through the API, upstream latency L.

What it measures (issue 5's first benchmark):

* wall time from the first submit to the last job done, and as a multiple of L;
* jobs in flight at the peak: the most jobs running or streaming at once,
  sampled from the database every 50 ms, and, exactly, the most OpenRouter
  calls overlapping (from each job's recorded upstream start and duration);
* per-job overhead: submit-to-done minus the upstream time the worker recorded
  on the job, p50/p95, split into its parts;
* successes and failures; CPU seconds each process used during the run, so a
  miss can be traced to what was busy, split into the product (web, worker,
  PostgreSQL, Redis) and the harness (emulator, S3 server, this process; see
  ``bench.measure``).

Goals (printed against the figures, never enforced): 200 jobs with L = 5 s
done within 1.5 x L by one worker process; the product's CPU per job at most
30 ms; POST /api/v1/jobs answered within 100 ms (p95) with all 200 sent at once.
With ``--submit batch`` the same jobs go as batches of at most ``MAX_BATCH``
(``POST /api/v1/jobs/batch``, all sent at once), and a job's submit time is its
batch's.

Every job of a run has the same prompt, so the emulator draws and encodes the
image once (it caches what it encoded) and the harness's CPU stays small beside
the product's, which still verifies, thumbnails and stores every image.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import measure, profiling
from bench import stack as bench_stack

WARMUP_JOBS = 4
GOAL_CPU_MS_PER_JOB = 30
GOAL_SUBMIT_P95_MS = 100
SAMPLE_SECONDS = 0.05
MAX_BATCH = 50  # generation.api.schemas.MAX_BATCH, the batch endpoint's limit


@dataclass
class Submitted:
    index: int
    sent_at: float  # epoch seconds, comparable with the rows' timestamps
    answered_at: float
    status: int
    job_id: uuid.UUID | None
    error: str = ""


def _user_and_token() -> str:
    from django.contrib.auth.models import User

    from webapp import tokens

    user = User.objects.create_user("bench", password=None)
    return tokens.create(user, "benchmark")[1]


def _configure_emulator(url: str, latency: float) -> None:
    response = httpx.post(f"{url}/__emulator__/config", json={"latency": latency}, timeout=10)
    response.raise_for_status()


async def _submit_all(
    web_url: str, token: str, bodies: list[dict[str, Any]], *, batch: bool = False
) -> tuple[float, list[Submitted]]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=web_url, headers=headers, limits=limits, timeout=120
    ) as client:
        if batch:
            return await _submit_batches(client, bodies)

        async def one(index: int, body: dict[str, Any]) -> Submitted:
            sent = time.time()
            try:
                response = await client.post("/api/v1/jobs", json=body)
            except httpx.HTTPError as exc:
                return Submitted(index, sent, time.time(), 0, None, f"{type(exc).__name__}: {exc}")
            answered = time.time()
            if response.status_code != 201:
                return Submitted(
                    index, sent, answered, response.status_code, None, response.text[:300]
                )
            return Submitted(index, sent, answered, 201, uuid.UUID(response.json()["id"]))

        started = time.time()
        results = await asyncio.gather(*(one(i, body) for i, body in enumerate(bodies)))
    return started, list(results)


async def _submit_batches(
    client: httpx.AsyncClient, bodies: list[dict[str, Any]]
) -> tuple[float, list[Submitted]]:
    """``bodies`` as batches of at most MAX_BATCH, all sent at once; each job is
    "submitted" when its batch is answered."""

    async def one(first: int, part: list[dict[str, Any]]) -> list[Submitted]:
        sent = time.time()
        try:
            response = await client.post("/api/v1/jobs/batch", json={"jobs": part})
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            return [
                Submitted(first + i, sent, time.time(), 0, None, error) for i in range(len(part))
            ]
        answered = time.time()
        if response.status_code != 201:
            return [
                Submitted(
                    first + i, sent, answered, response.status_code, None, response.text[:300]
                )
                for i in range(len(part))
            ]
        created = response.json()["jobs"]
        return [
            Submitted(first + i, sent, answered, 201, uuid.UUID(job["id"]))
            for i, job in enumerate(created)
        ]

    started = time.time()
    parts = [
        (first, bodies[first : first + MAX_BATCH]) for first in range(0, len(bodies), MAX_BATCH)
    ]
    answers = await asyncio.gather(*(one(first, part) for first, part in parts))
    return started, [item for answer in answers for item in answer]


class InFlightSampler(threading.Thread):
    """Counts running/streaming jobs every SAMPLE_SECONDS; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(name="in-flight-sampler", daemon=True)
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from generation.models import Job, Status

        try:
            while not self._stop.is_set():
                count = Job.objects.filter(status__in=[Status.RUNNING, Status.STREAMING]).count()
                self.peak = max(self.peak, count)
                self.samples += 1
                self._stop.wait(SAMPLE_SECONDS)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self.join(timeout=5)


def _wait_until_final(job_ids: list[uuid.UUID], timeout: float) -> int:
    """Wait for every job to end; returns how many had not when time ran out."""
    from generation.models import FINAL_STATUSES, Job

    deadline = time.monotonic() + timeout
    left = len(job_ids)
    while time.monotonic() < deadline:
        left = Job.objects.filter(pk__in=job_ids).exclude(status__in=FINAL_STATUSES).count()
        if not left:
            return 0
        time.sleep(0.1)
    return left


def _failures(job_ids: list[uuid.UUID]) -> list[str]:
    from generation.models import Job, Status

    return [
        f"{row['status']}: {row['error_code']} {row['error_message']}"
        for row in Job.objects.filter(pk__in=job_ids)
        .exclude(status=Status.SUCCEEDED)
        .values("status", "error_code", "error_message")
    ]


def _percentile(values: list[float], fraction: float) -> float:
    return measure.percentile(values, fraction)


def _peak_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def _bodies(args: argparse.Namespace, count: int) -> list[dict[str, Any]]:
    return [
        {
            # One prompt for all: the emulator draws it once (see the module's doc).
            "prompt": "bench: a lighthouse at dusk, film grain",
            "model": args.model,
            "options": args.options,
        }
        for index in range(count)
    ]


def run(args: argparse.Namespace) -> int:
    keep_logs = Path("var/bench-logs").resolve() if args.keep_logs else None
    print(
        f"Starting the stack (PostgreSQL, Redis, S3, emulator, uvicorn, one Celery worker "
        f"with {args.concurrency} threads)…",
        flush=True,
    )
    with bench_stack.running(worker_concurrency=args.concurrency, keep_logs=keep_logs) as stack:
        return _measure(args, stack)


def _measure(args: argparse.Namespace, stack: bench_stack.Stack) -> int:
    token = _user_and_token()

    # Warm-up, not measured: the first requests import code and open connections.
    _configure_emulator(stack.emulator_url, 0)
    _, warm = asyncio.run(_submit_all(stack.web_url, token, _bodies(args, WARMUP_JOBS)))
    refused = [item for item in warm if item.job_id is None]
    if refused:
        print(f"Warm-up submit failed: HTTP {refused[0].status} {refused[0].error}")
        return 1
    warm_ids = [item.job_id for item in warm if item.job_id]
    _wait_until_final(warm_ids, timeout=60)
    broken = _failures(warm_ids)
    if broken:
        print(f"Warm-up jobs did not succeed, so nothing was measured: {broken[0]}")
        return 1

    _configure_emulator(stack.emulator_url, args.latency)
    ok = True
    for number in range(1, args.rounds + 1):
        ok = _round(args, stack, token, number) and ok
    return 0 if ok else 1


def _round(args: argparse.Namespace, stack: bench_stack.Stack, token: str, number: int) -> bool:
    """One burst of N jobs, measured and reported; True when all succeeded."""
    from generation.models import Job, Status

    roots = stack.processes()
    cpu_before = measure.cpu_seconds(roots)
    sampler = InFlightSampler()
    profiles: dict[str, Path] = {}
    with contextlib.ExitStack() as cleanup:
        if args.profile:
            profiles = cleanup.enter_context(
                profiling.sampling(
                    profiling.targets(stack),
                    Path(f"var/bench-profile/round-{number}").resolve(),
                    native=args.profile == "native",
                )
            )
        sampler.start()
        how = f"in batches of {MAX_BATCH}" if args.submit == "batch" else "one POST each"
        print(
            f"Round {number}: submitting {args.jobs} jobs at once, {how} "
            f"(latency {args.latency:g} s)…",
            flush=True,
        )
        started, submitted = asyncio.run(
            _submit_all(
                stack.web_url, token, _bodies(args, args.jobs), batch=args.submit == "batch"
            )
        )
        job_ids = [item.job_id for item in submitted if item.job_id]
        unfinished = _wait_until_final(job_ids, timeout=args.latency * 4 + 120)
        sampler.stop()
        cpu_after = measure.cpu_seconds(roots)

    rows: dict[uuid.UUID, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in Job.objects.filter(pk__in=job_ids).values(
            "id",
            "status",
            "error_code",
            "error_message",
            "started_at",
            "upstream_started_at",
            "upstream_seconds",
            "finished_at",
        )
    }
    succeeded = [row for row in rows.values() if row["status"] == Status.SUCCEEDED]
    failed = [row for row in rows.values() if row["status"] != Status.SUCCEEDED]
    finished = [row["finished_at"].timestamp() for row in rows.values() if row["finished_at"]]
    wall = (max(finished) - started) if finished else float("nan")

    overheads: list[float] = []
    waits: list[float] = []
    after_upstream: list[float] = []
    intervals: list[tuple[float, float]] = []
    by_id = {item.job_id: item for item in submitted if item.job_id}
    for row in succeeded:
        item = by_id[row["id"]]
        done = row["finished_at"].timestamp()
        upstream = row["upstream_seconds"] or 0.0
        overheads.append(done - item.sent_at - upstream)
        if row["started_at"]:
            waits.append(row["started_at"].timestamp() - item.answered_at)
        if row["upstream_started_at"]:
            upstream_start = row["upstream_started_at"].timestamp()
            intervals.append((upstream_start, upstream_start + upstream))
            after_upstream.append(done - upstream_start - upstream)

    _print_report(
        args,
        number=number,
        submitted=submitted,
        succeeded=len(succeeded),
        failed=failed,
        unfinished=unfinished,
        wall=wall,
        post_seconds=[item.answered_at - item.sent_at for item in submitted],
        waits=waits,
        after_upstream=after_upstream,
        overheads=overheads,
        upstream=[row["upstream_seconds"] or 0.0 for row in succeeded],
        sampled_peak=sampler.peak,
        samples=sampler.samples,
        overlap_peak=_peak_overlap(intervals),
        cpu=measure.difference(cpu_after, cpu_before),
    )
    for name, path in profiles.items():
        view = "where its CPU went" if name.endswith("(cpu)") else "where its threads were"
        print(f"\n  {name}: {view} (py-spy, {path})")
        print("\n".join(profiling.summary(path)))
    return len(succeeded) == args.jobs and not unfinished


def _print_report(
    args: argparse.Namespace,
    *,
    number: int,
    submitted: list[Submitted],
    succeeded: int,
    failed: list[dict[str, Any]],
    unfinished: int,
    wall: float,
    post_seconds: list[float],
    waits: list[float],
    after_upstream: list[float],
    overheads: list[float],
    upstream: list[float],
    sampled_peak: int,
    samples: int,
    overlap_peak: int,
    cpu: dict[str, float],
) -> None:
    latency = args.latency
    n = args.jobs
    refused = [item for item in submitted if item.job_id is None]

    def seconds(values: list[float]) -> str:
        return f"p50 {_percentile(values, 0.5):.2f} s, p95 {_percentile(values, 0.95):.2f} s"

    ratio = wall / latency if latency else float("inf")
    met = succeeded == n and ratio <= args.goal
    lines = [
        "",
        f"Darkroom benchmark: jobs, round {number} of {args.rounds}"
        + (" (worker threads fresh)" if number == 1 else " (worker threads warm)"),
        f"  N (jobs submitted at once)       {n}"
        + (f", in batches of at most {MAX_BATCH}" if args.submit == "batch" else ", one POST each"),
        f"  L (emulator upstream latency)    {latency:g} s",
        f"  model, options                   {args.model} {args.options or '{}'}",
        f"  worker                           1 Celery process, threads pool, {args.concurrency} threads; "
        f"{os.cpu_count()} CPU cores",
        f"  wall (first submit -> last done) {wall:.2f} s",
        f"  wall / L                         {ratio:.2f}   (goal <= {args.goal:g}: "
        f"{'met' if met else 'NOT met'})",
        f"  peak jobs in flight              {sampled_peak} running/streaming "
        f"(DB sampled every {SAMPLE_SECONDS * 1000:.0f} ms, {samples} samples); "
        f"{overlap_peak} OpenRouter calls overlapping at most",
        f"  per-job overhead                 {seconds(overheads)}  (submit-to-done minus upstream time)",
        f"    POST answered                  {seconds(post_seconds)}"
        + ("  (its batch's answer)" if args.submit == "batch" else ""),
        f"    answered -> worker started     {seconds(waits)}",
        f"    upstream done -> job done      {seconds(after_upstream)}  (decode, verify, thumbnail, store)",
        f"    upstream time itself           {seconds(upstream)}",
        f"  succeeded                        {succeeded}/{n}",
        f"  failed                           {len(failed) + len(refused)}"
        + (f" ({unfinished} still unfinished at the timeout)" if unfinished else ""),
    ]
    for row in failed[:5]:
        lines.append(f"    {row['status']}: {row['error_code']} {row['error_message'][:120]}")
    for item in refused[:5]:
        lines.append(f"    submit refused: HTTP {item.status} {item.error[:160]}")
    total_cpu = sum(cpu.values())
    product, harness = measure.split(cpu)
    lines.append(
        f"  CPU seconds during the run       {total_cpu:.1f} of {wall * (os.cpu_count() or 1):.1f} "
        "available (wall x cores)"
    )
    lines += measure.cpu_lines(cpu, per=succeeded)
    if succeeded:
        per_job = product / succeeded
        cores = os.cpu_count() or 1
        lines.append(
            f"  product CPU per job              {per_job * 1000:.1f} ms (goal <= "
            f"{GOAL_CPU_MS_PER_JOB} ms: {measure.verdict(per_job * 1000 <= GOAL_CPU_MS_PER_JOB)}); "
            f"harness {harness / succeeded * 1000:.1f} ms beside it"
        )
        lines.append(
            f"  so {cores} cores finish at most {cores / per_job:.0f} jobs/s of product work: "
            f"{n} jobs need >= {n * per_job / cores:.1f} s of CPU "
            f"({n * per_job / cores / latency if latency else 0:.2f} x L) however they overlap"
        )
    submit_p95 = _percentile(post_seconds, 0.95) * 1000
    lines.append(
        f"  submit p95 ({n} at once)          {submit_p95:.0f} ms (goal <= {GOAL_SUBMIT_P95_MS} ms: "
        f"{measure.verdict(submit_p95 <= GOAL_SUBMIT_P95_MS)})"
    )
    print("\n".join(lines), flush=True)
    if not met:
        print(
            "  Goal missed: the CPU split shows what was busy; --profile shows where.", flush=True
        )
