"""Scenario "memory": what a big image costs the generation worker in memory.

Starts the bench stack (one Celery worker process, threads pool) with the
worker's allocator set as ``make run`` and docker-compose set it
(``MALLOC_ARENA_MAX``), warms the worker up with small jobs, then asks the
emulator for 4096x4096 PNGs (``google/gemini-3-pro-image-preview``, 1:1, 4K)
and reads the worker's memory from ``/proc/<pid>/status``:

* one job at a time, ``--rounds`` times: the peak RSS increase (``VmHWM``,
  reset through ``/proc/<pid>/clear_refs`` before each job) over the RSS
  before it. Goal: at most 20 MB;
* ten jobs at once: the same peak increase;
* held afterwards: RSS two seconds after the burst minus RSS before it.

Upstream latency is ``--latency`` capped at 1 s: the ten must overlap, and
waiting longer measures nothing more.
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import stack as bench_stack

GOAL_MB = 20.0
BURST = 10
BIG_MODEL = "google/gemini-3-pro-image-preview"
BIG_OPTIONS = {"aspect_ratio": "1:1", "resolution": "4K"}
SMALL_MODEL = "google/gemini-2.5-flash-image"
# The worker's allocator as a team server runs it (docker-compose.yml, scripts/run.py).
WORKER_ENV = {"MALLOC_ARENA_MAX": "2"}
MB = 1024 * 1024


@dataclass(frozen=True)
class Memory:
    rss: int
    peak: int


def _memory(pid: int) -> Memory:
    """The process's resident set now and its high-water mark since the last reset, in bytes."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return Memory(values["VmRSS"], values["VmHWM"])


def _reset_peak(pid: int) -> None:
    # "5" resets the peak RSS to the current RSS (Linux >= 4.0, proc(5)).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _token() -> str:
    from django.contrib.auth.models import User

    from webapp import tokens

    user = User.objects.create_user("bench-memory", password=None)
    return tokens.create(user, "memory benchmark")[1]


def _submit(
    client: httpx.Client, count: int, model: str, options: dict[str, str]
) -> list[uuid.UUID]:
    ids = []
    for index in range(count):
        response = client.post(
            "/api/v1/jobs",
            json={
                "prompt": f"memory {uuid.uuid4().hex[:8]} {index}: a harbour",
                "model": model,
                "options": options,
            },
        )
        if response.status_code != 201:
            raise RuntimeError(f"submit answered {response.status_code}: {response.text[:300]}")
        ids.append(uuid.UUID(response.json()["id"]))
    return ids


def _wait(job_ids: list[uuid.UUID], timeout: float = 180) -> None:
    """Wait until every job ended; raise unless all succeeded."""
    from generation.models import FINAL_STATUSES, Job, Status

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Job.objects.filter(pk__in=job_ids).values("status", "error_message"))
        if all(row["status"] in FINAL_STATUSES for row in rows):
            failed = [row for row in rows if row["status"] != Status.SUCCEEDED]
            if failed:
                raise RuntimeError(f"a job did not succeed: {failed[0]}")
            return
        time.sleep(0.05)
    raise RuntimeError(f"jobs still running after {timeout:.0f} s")


def _image_size(job_id: uuid.UUID) -> tuple[int, int]:
    from generation.models import Image

    image = Image.objects.filter(job_id=job_id).values("width", "height", "media_type").get()
    assert image["media_type"] == "image/png", image
    return image["width"], image["height"]


def run(args: argparse.Namespace) -> int:
    print("Starting the stack (one Celery worker, threads pool)…", flush=True)
    with bench_stack.running(worker_concurrency=args.concurrency, extra_env=WORKER_ENV) as stack:
        return _measure(args, stack)


def _measure(args: argparse.Namespace, stack: bench_stack.Stack) -> int:
    pid = stack.worker.pid
    latency = min(args.latency, 1.0)
    httpx.post(
        f"{stack.emulator_url}/__emulator__/config", json={"latency": latency}, timeout=10
    ).raise_for_status()
    headers = {"Authorization": f"Bearer {_token()}"}
    with httpx.Client(base_url=stack.web_url, headers=headers, timeout=60) as client:
        _wait(_submit(client, 4, SMALL_MODEL, {}))
        _wait(_submit(client, 1, BIG_MODEL, BIG_OPTIONS))  # first big one: code paths, buffers
        time.sleep(1)

        singles = []
        size = (0, 0)
        for _ in range(max(1, args.rounds)):
            before = _memory(pid)
            _reset_peak(pid)
            job_ids = _submit(client, 1, BIG_MODEL, BIG_OPTIONS)
            _wait(job_ids)
            size = _image_size(job_ids[0])
            singles.append((_memory(pid).peak - before.rss) / MB)

        time.sleep(1)
        before = _memory(pid)
        _reset_peak(pid)
        job_ids = _submit(client, BURST, BIG_MODEL, BIG_OPTIONS)
        _wait(job_ids)
        burst_peak = (_memory(pid).peak - before.rss) / MB
        time.sleep(2)
        held = (_memory(pid).rss - before.rss) / MB
        rss_after = _memory(pid).rss / MB

    worst = max(singles)
    verdict = "met" if worst <= GOAL_MB else "not met"
    print(
        f"Worker memory, {size[0]}×{size[1]} PNG jobs (latency {latency:g} s, "
        f"MALLOC_ARENA_MAX={WORKER_ENV['MALLOC_ARENA_MAX']}):"
    )
    print(
        f"  one job, peak RSS increase     {', '.join(f'{v:+.1f}' for v in singles)} MB "
        f"(worst {worst:+.1f} MB; goal ≤ {GOAL_MB:.0f} MB: {verdict})"
    )
    print(f"  {BURST} jobs at once, peak increase {burst_peak:+.1f} MB")
    print(f"  held 2 s after the burst      {held:+.1f} MB (worker RSS {rss_after:.0f} MB)")
    return 0
