"""Scenario "sse": live-progress streams (``/events``) on ONE uvicorn process.

Two parts, against the real stack with a single web process (``--workers 1``):

* ``--streams`` (default 2,000) streams held open at once, half by the jobs'
  author (cards with actions) and half by another user (watch-only cards),
  each watching two of 20 running jobs. Printed: the web process's RSS before
  and with them open (KB per stream; goal: at most 250 MB in all), its open
  files and threads, and the database connections open meanwhile (an open
  stream holds none). Then every job changes at once (a broadcast), three
  times: the time from the change being published until each stream has
  received both of its changes, p50/p95/p99 (goal: p99 at most 250 ms).
* ``--watchers`` (default 1,000) streams watching ONE job, which changes five
  times: the time until each stream has the change, p95 (goal: at most 250 ms).

A change is made as the worker makes one: the row is updated, then
``generation.progress.publish``. The streams are raw HTTP/1.1 connections in
this process's event loop (light enough that the client is not what is
measured); its CPU is reported apart as the harness. Each stream needs one
file descriptor in the web process and one here: the limit is raised to the
hard limit first (see README, "File descriptors").
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench import measure
from bench import stack as bench_stack

JOBS = 20
BROADCASTS = 3
WATCHER_CHANGES = 5
CONNECTING_AT_ONCE = 100
GOAL_TOTAL_MB = 250
GOAL_MS = 250
# Long enough to hold a job's card-changing token split across two reads.
TAIL_CHARS = 400


@dataclass(eq=False)
class Stream:
    """One open /events stream and the tokens it has seen (token -> time)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    jobs: tuple[uuid.UUID, ...]
    seen: dict[str, float] = field(default_factory=dict)
    initial: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


class Client:
    """Opens streams and watches them for the tokens the scenario sets."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.expected: set[str] = set()
        self.streams: list[Stream] = []
        self._readers: list[asyncio.Task[None]] = []

    async def open(self, count: int, watch: list[tuple[uuid.UUID, ...]], cookies: list[str]) -> int:
        """Open ``count`` streams (stream i watches ``watch[i % len]`` as
        ``cookies[i % len]``), waiting until each has its first cards; returns how
        many failed to open."""
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def one(index: int) -> bool:
            async with gate:
                jobs = watch[index % len(watch)]
                try:
                    stream = await self._connect(jobs, cookies[index % len(cookies)])
                    await asyncio.wait_for(stream.initial.wait(), 60)
                except (OSError, TimeoutError, ConnectionError):
                    return False
                return True

        results = await asyncio.gather(*(one(index) for index in range(count)))
        return results.count(False)

    async def _connect(self, jobs: tuple[uuid.UUID, ...], cookie: str) -> Stream:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        query = ",".join(str(job) for job in jobs)
        writer.write(
            f"GET /events?jobs={query} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Cookie: sessionid={cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        stream = Stream(reader, writer, jobs)
        self.streams.append(stream)
        self._readers.append(asyncio.get_running_loop().create_task(self._read(stream)))
        return stream

    async def _read(self, stream: Stream) -> None:
        tail = ""
        while True:
            try:
                chunk = await stream.reader.read(65536)
            except OSError:
                chunk = b""
            now = time.perf_counter()
            if not chunk:
                stream.closed = True
                stream.initial.set()
                return
            text = tail + chunk.decode(errors="replace")
            if "event: job-" in text:
                stream.initial.set()
            for token in self.expected:
                if token not in stream.seen and token in text:
                    stream.seen[token] = now
            tail = text[-TAIL_CHARS:]

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        for stream in self.streams:
            stream.writer.close()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self.streams, self._readers = [], []


def _setup() -> tuple[list[uuid.UUID], dict[str, str]]:
    """Two users with sessions, and ``JOBS`` running jobs by the first."""
    from django.contrib.auth.models import User
    from django.test import Client as DjangoClient

    from catalog.models import ImageModel
    from generation.models import Job, Status

    author = User.objects.create_user("sse-author", password=None)
    other = User.objects.create_user("sse-viewer", password=None)
    cookies = {}
    for name, user in (("actor", author), ("watcher", other)):
        client = DjangoClient()
        client.force_login(user)
        cookies[name] = client.cookies["sessionid"].value
    model = ImageModel.objects.filter(retired_at__isnull=True).order_by("slug").first()
    if model is None:
        raise SystemExit("The catalog is empty: the emulator's catalog did not sync.")
    jobs = [
        Job.objects.create(
            author=author,
            model=model,
            model_slug=model.slug,
            prompt=f"sse bench {index}: a lighthouse at dusk",
            status=Status.RUNNING,
            stage="Waiting for OpenRouter",
            progress=10,
        ).pk
        for index in range(JOBS)
    ]
    return jobs, cookies


def _change(job_ids: list[uuid.UUID], token: str) -> dict[uuid.UUID, str]:
    """Update each job's stage to its own token and publish it, as a worker does;
    returns job -> token."""
    from django import db

    from generation.models import Job

    tokens = {job_id: f"{token}-{index}" for index, job_id in enumerate(job_ids)}
    for job_id, value in tokens.items():
        Job.objects.filter(pk=job_id).update(stage=value)
    db.connection.close()
    return tokens


def _publish(job_ids: list[uuid.UUID]) -> None:
    from generation import progress

    for job_id in job_ids:
        progress.publish(job_id, "progress")


def _database_connections() -> int:
    """Connections to the app's database other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    connection.close()
    return int(row[0]) if row else -1


async def _broadcast(
    client: Client, job_ids: list[uuid.UUID], label: str, settle: float = 10.0
) -> tuple[list[float], int]:
    """Change every job at once; (each stream's latency in s, streams that missed it)."""
    tokens = await asyncio.to_thread(_change, job_ids, label)
    client.expected = set(tokens.values())
    started = time.perf_counter()
    await asyncio.to_thread(_publish, job_ids)
    deadline = started + settle
    while time.perf_counter() < deadline:
        if all(all(tokens[job] in stream.seen for job in stream.jobs) for stream in client.streams):
            break
        await asyncio.sleep(0.01)
    latencies, missed = [], 0
    for stream in client.streams:
        times = [stream.seen.get(tokens[job]) for job in stream.jobs]
        if any(moment is None for moment in times):
            missed += 1
            continue
        latencies.append(max(t for t in times if t is not None) - started)
    client.expected = set()
    return latencies, missed


def run(args: argparse.Namespace) -> int:
    soft, _ = measure.raise_open_file_limit()
    needed = args.streams * 2 + 200
    if soft < needed:
        print(
            f"Open-file limit {soft} is below the {needed} this scenario needs "
            "(a descriptor per stream here and in the web server): raise `ulimit -n`."
        )
        return 1
    print(
        f"Starting the stack with ONE uvicorn process (open-file limit {soft})…",
        flush=True,
    )
    keep_logs = Path("var/bench-logs").resolve() if args.keep_logs else None
    with bench_stack.running(worker_concurrency=4, web_workers=1, keep_logs=keep_logs) as stack:
        return asyncio.run(_measure(args, stack))


async def _measure(args: argparse.Namespace, stack: bench_stack.Stack) -> int:
    host, port = "127.0.0.1", int(stack.web_url.rsplit(":", 1)[1])
    web = stack.web.pid
    job_ids, cookies = await asyncio.to_thread(_setup)
    cookie_list = [cookies["actor"], cookies["watcher"]]
    roots = {name: pid for name, pid in stack.processes().items()}

    # Warm-up: the first streams import code and open the subscription.
    warm = Client(host, port)
    await warm.open(10, [(job_ids[0],)], cookie_list)
    await warm.close()
    await asyncio.sleep(1)
    rss_before = measure.rss_kb(web)
    files_before = measure.open_files(web)
    threads_before = measure.threads(web)

    # Part 1: N streams, each watching two jobs; broadcasts.
    pairs: list[tuple[uuid.UUID, ...]] = [
        (job_ids[i % JOBS], job_ids[(i * 7 + 3) % JOBS]) for i in range(JOBS * 2)
    ]
    client = Client(host, port)
    cpu_before = measure.cpu_seconds(roots)
    opening = time.perf_counter()
    failed = await client.open(args.streams, pairs, cookie_list)
    opened_in = time.perf_counter() - opening
    await asyncio.sleep(1)
    open_count = sum(1 for stream in client.streams if not stream.closed)
    rss_open = measure.rss_kb(web)
    files_open = measure.open_files(web)
    threads_open = measure.threads(web)
    connections = await asyncio.to_thread(_database_connections)
    latencies: list[float] = []
    missed = 0
    for number in range(BROADCASTS):
        got, lost = await _broadcast(
            client, job_ids, f"bench-broadcast-{number}-{uuid.uuid4().hex[:8]}"
        )
        latencies += got
        missed += lost
        await asyncio.sleep(0.5)
    cpu_streams = measure.difference(measure.cpu_seconds(roots), cpu_before)
    await client.close()
    await asyncio.sleep(2)

    # Part 2: M watchers of one job.
    watchers = Client(host, port)
    failed_watchers = await watchers.open(args.watchers, [(job_ids[0],)], cookie_list)
    watch_latencies: list[float] = []
    watch_missed = 0
    for number in range(WATCHER_CHANGES):
        got, lost = await _broadcast(
            watchers, job_ids[:1], f"bench-watch-{number}-{uuid.uuid4().hex[:8]}"
        )
        watch_latencies += got
        watch_missed += lost
        await asyncio.sleep(0.5)
    await watchers.close()

    per_stream_kb = (rss_open - rss_before) / max(1, open_count)
    total_mb = rss_open / 1024
    p99 = measure.percentile(latencies, 0.99) * 1000
    watch_p95 = measure.percentile(watch_latencies, 0.95) * 1000
    memory_met = total_mb <= GOAL_TOTAL_MB and open_count == args.streams
    broadcast_met = p99 <= GOAL_MS and not missed and open_count == args.streams
    watch_met = watch_p95 <= GOAL_MS and not watch_missed and not failed_watchers

    def ms(values: list[float]) -> str:
        return (
            " / ".join(
                f"p{int(q * 100)} {measure.percentile(values, q) * 1000:.0f} ms"
                for q in (0.5, 0.95, 0.99)
            )
            + f", max {max(values, default=float('nan')) * 1000:.0f} ms"
        )

    lines = [
        "",
        "Darkroom benchmark: sse (live-progress streams on one uvicorn process)",
        f"  streams open at once             {open_count}/{args.streams} "
        f"({failed} failed to open; opened in {opened_in:.1f} s), each watching 2 of {JOBS} jobs, "
        "half as the author, half as another user",
        f"  web process RSS                  {rss_before / 1024:.0f} MB before, "
        f"{total_mb:.0f} MB with them open: {per_stream_kb:.1f} KB per stream "
        f"(goal <= {GOAL_TOTAL_MB} MB in all: {measure.verdict(memory_met)})",
        f"  web process open files, threads  {files_before} -> {files_open} "
        f"({(files_open - files_before) / max(1, open_count):.2f} per stream), "
        f"threads {threads_before} -> {threads_open}",
        f"  database connections meanwhile   {connections} (every process of the stack; "
        "an open stream holds none)",
        f"  broadcast, {BROADCASTS} x all {JOBS} jobs      {ms(latencies)}; {missed} stream(s) missed one "
        f"(goal p99 <= {GOAL_MS} ms: {measure.verdict(broadcast_met)})",
        f"  {args.watchers} watchers of one job, "
        f"{WATCHER_CHANGES} changes  {ms(watch_latencies)}; {watch_missed} missed, "
        f"{failed_watchers} failed to open (goal p95 <= {GOAL_MS} ms: "
        f"{measure.verdict(watch_met)})",
        f"  CPU while {open_count} streams opened and took {BROADCASTS} broadcasts:",
        *measure.cpu_lines(cpu_streams),
    ]
    print("\n".join(lines), flush=True)
    # The goals are printed, not enforced: 1 only when the run itself broke.
    return 0 if open_count == args.streams and not failed_watchers else 1
