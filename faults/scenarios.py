"""The scenarios: each submits a handful of jobs, injects one fault, and
declares by when every job must be final (``Scenario.settle``).

Windows: a job whose worker died must be final within 2 minutes of the death
(issue 15's goal); after any other fault, within 60 s of the fault's end
(submits of jobs without a fault: 60 s after the last submit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from faults.harness import STYLES, Scenario

WORKER_DEATH_WINDOW = 120.0
FAULT_WINDOW = 60.0
# At the bottom of DARKROOM_GENERATION_TIME_LIMIT's range.
LOW_TIME_LIMIT = 30
PAGES = ("/", "/gallery/")


def baseline(sc: Scenario) -> None:
    """No fault: one job per style, to show the stack itself works."""
    for style in STYLES:
        sc.submit(style, "[emulator:latency=1]")
    sc.settle(time.time(), FAULT_WINDOW)


def worker_sigkill(sc: Scenario) -> None:
    """SIGKILL the generation worker while its jobs wait on OpenRouter; it is
    started again at once, as a supervisor would. The paid answers die with it."""
    for style in STYLES:
        sc.submit(style, "[emulator:latency=6]", images_expected=False)
    if not sc.wait_calling():
        sc.notes.append("not every job had called OpenRouter when the worker was killed")
    time.sleep(1.0)
    worker = sc.suite.stack.parts["generation worker"]
    worker.kill()
    died = time.time()
    worker.start()
    sc.settle(died, WORKER_DEATH_WINDOW)


def worker_sigterm(sc: Scenario) -> None:
    """SIGTERM (graceful stop) while jobs are running: they should finish first."""
    for style in STYLES:
        sc.submit(style, "[emulator:latency=4]")
    sc.wait_calling()
    worker = sc.suite.stack.parts["generation worker"]
    begun = time.monotonic()
    worker.stop(timeout=90)
    sc.notes.append(f"the worker took {time.monotonic() - begun:.1f} s to stop")
    worker.start()
    sc.settle(time.time(), FAULT_WINDOW)


def _redis(sc: Scenario, *, hung: bool) -> None:
    redis = sc.suite.stack.parts["redis"]
    for style in STYLES:
        sc.submit(style, "[emulator:latency=5]")
    sc.wait_calling()
    if hung:
        redis.pause()
    else:
        redis.stop()
    try:
        time.sleep(1.0)
        begun = time.monotonic()
        sc.submit("images", "[emulator:latency=1]")
        sc.notes.append(f"a submit during the outage took {time.monotonic() - begun:.1f} s")
        sc.probe("/gallery/", {200, 503})
        time.sleep(max(0.0, 8.0 - (time.monotonic() - begun)))
    finally:
        if hung:
            redis.resume()
        else:
            redis.start()
    sc.settle(time.time(), FAULT_WINDOW)


def redis_refused(sc: Scenario) -> None:
    """Redis stopped for 8 s (no persistence, as in the suite: its queue is gone)
    while 4 jobs run, one job submitted during the outage; then started again."""
    _redis(sc, hung=False)


def redis_hung(sc: Scenario) -> None:
    """Redis paused (SIGSTOP) for 8 s while 4 jobs run, one submitted meanwhile."""
    _redis(sc, hung=True)


def postgres_down(sc: Scenario) -> None:
    """PostgreSQL stopped for 8 s while answers arrive (at 3 s and 10 s); pages
    must answer 503 during the outage and 200 right after."""
    postgres = sc.suite.stack.parts["postgres"]
    for index, style in enumerate(STYLES):
        sc.submit(style, f"[emulator:latency={3 if index % 2 else 10}]")
    sc.wait_calling()
    postgres.stop()
    try:
        time.sleep(1.5)
        for page in PAGES:
            sc.probe(page, {503}, f"GET {page} during the outage")
        time.sleep(6.5)
    finally:
        postgres.start()
    back = time.time()
    time.sleep(1.0)
    for page in PAGES:
        sc.probe(page, {200}, f"GET {page} 1 s after PostgreSQL was back")
    sc.settle(back, FAULT_WINDOW)


def _storage(sc: Scenario, *, hung: bool, seconds: float) -> None:
    stack = sc.suite.stack
    image = sc.suite.any_image_id()
    for style in STYLES:
        sc.submit(style, "[emulator:latency=2]")
    sc.wait_calling()
    if hung:
        stack.parts["s3 (moto)"].pause()
    else:
        assert stack.s3_proxy is not None
        stack.s3_proxy.refuse()
    try:
        time.sleep(3.0)
        if image:
            sc.probe(f"/media/{image}/original", {503}, "GET /media/… during the outage")
        else:
            sc.notes.append("no stored image to probe /media with")
        time.sleep(max(0.0, seconds - 3.0))
    finally:
        if hung:
            stack.parts["s3 (moto)"].resume()
        else:
            assert stack.s3_proxy is not None
            stack.s3_proxy.restore()
    sc.settle(time.time(), FAULT_WINDOW)


def s3_refused(sc: Scenario) -> None:
    """Storage refuses connections for 15 s while 4 paid answers arrive: the jobs
    should finish once storage is back; /media answers 503 meanwhile."""
    _storage(sc, hung=False, seconds=15.0)


def s3_hung(sc: Scenario) -> None:
    """The S3 server paused (SIGSTOP) for 10 s while 4 paid answers arrive."""
    _storage(sc, hung=True, seconds=10.0)


def upstream_errors(sc: Scenario) -> None:
    """429 and 503 once then success, and a slow answer, in each style; a 429
    and a 503 that never stop, and a 408 (never charged: they must fail free)."""
    for style in STYLES:
        sc.submit(style, "[emulator:fail_times=1,fail=429,retry_after=1]")
        sc.submit(style, "[emulator:fail_times=1,fail=503]")
        sc.submit(style, "[emulator:latency=3]")
    sc.submit("images", "[emulator:fail=429,retry_after=1]", images_expected=False)
    sc.submit("chat", "[emulator:fail=503]", images_expected=False)
    sc.submit("tool_chat", "[emulator:fail=408]", images_expected=False)
    sc.settle(time.time(), FAULT_WINDOW)


def upstream_broken(sc: Scenario) -> None:
    """Cut-off, unreadable, not-an-image and stream-error answers in each style:
    all charged by the emulator, none usable; every charge must be recorded or
    its reservation kept."""
    for style in STYLES:
        for directive in ("truncate", "malformed", "bytes=garbage", "stream_error"):
            sc.submit(style, f"[emulator:{directive}]", images_expected=False)
    sc.settle(time.time(), FAULT_WINDOW)


def low_time_limit(sc: Scenario) -> None:
    """The workers restarted with DARKROOM_GENERATION_TIME_LIMIT=30: 1-second
    answers in each style must succeed; 45-second ones (past the limit) must
    end with their charge recorded or their reservation kept."""
    stack = sc.suite.stack
    workers = [stack.parts["generation worker"], stack.parts["default worker"]]
    limit = {"DARKROOM_GENERATION_TIME_LIMIT": str(LOW_TIME_LIMIT)}
    try:
        for worker in workers:
            worker.stop()
            worker.start(env=limit)
        for style in STYLES:
            sc.submit(style, "[emulator:latency=1]")
        sc.submit("images", "[emulator:latency=45]", images_expected=False)
        sc.submit("chat", "[emulator:latency=45]", images_expected=False)
        sc.settle(time.time(), LOW_TIME_LIMIT + FAULT_WINDOW)
    finally:
        default = {
            "DARKROOM_GENERATION_TIME_LIMIT": stack.env.get("DARKROOM_GENERATION_TIME_LIMIT", "300")
        }
        for worker in workers:
            worker.stop()
            worker.start(env=default)


@dataclass(frozen=True)
class Definition:
    name: str
    run: Callable[[Scenario], None]

    @property
    def description(self) -> str:
        return " ".join((self.run.__doc__ or "").split())


SCENARIOS = [
    Definition("baseline", baseline),
    Definition("worker-sigkill", worker_sigkill),
    Definition("worker-sigterm", worker_sigterm),
    Definition("redis-refused", redis_refused),
    Definition("redis-hung", redis_hung),
    Definition("postgres-down", postgres_down),
    Definition("s3-refused", s3_refused),
    Definition("s3-hung", s3_hung),
    Definition("upstream-errors", upstream_errors),
    Definition("upstream-broken", upstream_broken),
    Definition("low-time-limit", low_time_limit),
]
