"""The real stack for a benchmark or the fault suite, on free loopback ports,
stopped whatever happens.

PostgreSQL, Redis and the S3-compatible server come from ``tests.services``
(the suite's own helpers); the OpenRouter emulator runs in a process of its own;
uvicorn (two processes) and the Celery workers run as subprocesses with
production settings (``DJANGO_DEBUG=0``, static files collected), exactly as a
team server runs them. Two layouts: ``"bench"``, ONE worker process serving
both queues (what the benchmarks measure), and ``"team"``, as docker-compose
runs it: a generation worker (threads), a default-queue worker (prefork) and
celery beat. This process configures Django against the same database to
migrate, sync the catalog, make a user and token, and read job rows.

Every process is a ``Process`` the fault suite can stop, kill, pause, resume
and start again exactly as before (same port, same data, same name).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from bench.proxy import RefusingProxy
from tests import services as test_services

ROOT = Path(__file__).resolve().parent.parent
Layout = Literal["bench", "team"]


@dataclass
class Process:
    """One process of the stack (and its children: it leads its own process group)."""

    name: str
    log_name: str
    services: test_services.Services
    popen: subprocess.Popen[bytes]
    ready: Callable[[], bool]
    # What stops it gracefully: SIGTERM for most; PostgreSQL's "fast" shutdown is
    # SIGINT (its SIGTERM waits for every client to leave).
    stop_signal: signal.Signals = signal.SIGTERM
    start_timeout: float = 60.0
    # Set by stop() and kill(), cleared by start(): a process that is not alive
    # without this was not stopped by the harness (it crashed or exited by itself).
    stopped_on_purpose: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def start(self, env: dict[str, str] | None = None) -> None:
        """Start it again with the arguments it first had (``env`` replacing the
        environment's entries it names) and wait until it answers."""
        with self.lock:
            self._start(env)

    def _start(self, env: dict[str, str] | None) -> None:
        if self.alive():
            raise RuntimeError(f"{self.name} is still running")
        self.stopped_on_purpose = False
        args, kwargs = self.services.commands[self.log_name]
        if env:
            kwargs = {**kwargs, "env": {**kwargs.get("env", os.environ), **env}}
        self.popen = self.services.spawn(args, self.log_name, append=True, **kwargs)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise test_services.ServiceError(
                    f"{self.name} exited with {self.popen.returncode} on start "
                    f"(log: {self.services.log(self.log_name)[-1500:]})"
                )
            with contextlib.suppress(Exception):
                if self.ready():
                    return
            time.sleep(0.1)
        raise test_services.ServiceError(
            f"{self.name} did not come up within {self.start_timeout:.0f} s "
            f"(log: {self.services.log(self.log_name)[-1500:]})"
        )

    def stop(self, timeout: float = 60.0) -> None:
        """Stop it gracefully (``stop_signal`` to the leader); SIGKILL after ``timeout``."""
        with self.lock:
            self.stopped_on_purpose = True
            if not self.alive():
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, self.stop_signal)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL to the whole process group: no clean-up runs, as when the OOM
        killer or a power cut ends it."""
        with self.lock:
            self.stopped_on_purpose = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def pause(self) -> None:
        """SIGSTOP the group: connections stay open and nothing answers (a hung server)."""
        os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.pid, signal.SIGCONT)


@dataclass
class Stack:
    services: test_services.Services
    emulator_url: str
    web_url: str
    env: dict[str, str]
    parts: dict[str, Process]
    # The S3 server's own address (the app may reach it through ``s3_proxy``).
    s3_url: str
    s3_proxy: RefusingProxy | None = None
    worker_names: dict[str, str] = field(default_factory=dict)

    @property
    def web(self) -> subprocess.Popen[bytes]:
        return self.parts["uvicorn"].popen

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        """The worker that runs generations."""
        return self.parts["generation worker"].popen

    def processes(self) -> dict[str, int]:
        """Name -> process group id of every process this stack runs."""
        return {name: part.pid for name, part in self.parts.items() if part.alive()}

    def log(self, name: str) -> str:
        return self.services.log(name)


def _create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def app_env(services: test_services.Services, emulator_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DARKROOM_", "OPENROUTER_", "S3_", "AWS_"))
    }
    env.update(services.env)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            # Production settings, as a team server runs; plain HTTP on loopback.
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Empty, so that a developer's .env cannot bring a real key in.
            "OPENROUTER_API_KEY": "",
            "OPENROUTER_BASE_URL": emulator_url,
        }
    )
    return env


def _python_module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _port(url: str) -> int:
    return int(urlsplit(url).port or 0)


def _redis_answers(url: str) -> bool:
    import redis

    return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())


def _postgres_answers(url: str) -> bool:
    import psycopg

    base = url.rpartition("/")[0]
    with psycopg.connect(f"{base}/postgres", connect_timeout=2):
        return True


def _service_parts(services: test_services.Services) -> dict[str, Process]:
    """The services tests.services started, as Processes."""
    by_args = {tuple(map(str, p.args)): p for p in services.processes}  # type: ignore[arg-type]

    def part(name: str, log_name: str, ready: Callable[[], bool], **extra: Any) -> Process:
        args = tuple(map(str, services.commands[log_name][0]))
        return Process(name, log_name, services, by_args[args], ready, **extra)

    env = services.env
    parts = {
        "redis": part("redis", "redis", lambda: _redis_answers(env["REDIS_URL"])),
        "s3 (moto)": part(
            "s3 (moto)", "s3", lambda: test_services.port_open(_port(env["S3_ENDPOINT_URL"]))
        ),
    }
    if env["DATABASE_URL"].startswith("postgres"):
        # tests.services names its log after the data folder (postgres-<folder>).
        log_name = next(name for name in services.commands if name.startswith("postgres"))
        parts["postgres"] = part(
            "postgres",
            log_name,
            lambda: _postgres_answers(env["DATABASE_URL"]),
            stop_signal=signal.SIGINT,
        )
    return parts


def _celery_worker(queues: str, pool: str, concurrency: int, node: str) -> list[str]:
    return _python_module(
        "celery",
        "-A",
        "webapp",
        "worker",
        "-Q",
        queues,
        "-P",
        pool,
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "warning",
        "-n",
        node,
    )


def _up(part: Process) -> bool:
    return part.alive() and part.ready()


def _pings(node: str) -> bool:
    from webapp.celery import app

    return bool(app.control.ping(destination=[node], timeout=0.5))


@contextlib.contextmanager
def running(
    *,
    worker_concurrency: int,
    keep_logs: Path | None = None,
    layout: Layout = "bench",
    extra_env: dict[str, str] | None = None,
    s3_proxy: bool = False,
    web_workers: int = 2,
) -> Iterator[Stack]:
    """Start everything, yield it, and stop everything (also on Ctrl-C or error).

    ``extra_env`` is added to the app's environment (web, workers, beat and this
    process); with ``s3_proxy`` the app reaches storage through a
    ``RefusingProxy`` (``Stack.s3_proxy``) so that storage can refuse connections
    without losing what it stores. ``web_workers`` is uvicorn's ``--workers``;
    with 1 uvicorn serves in its own process (no supervisor), so
    ``Stack.web.pid`` is the process that serves.
    """
    services: test_services.Services | None = None
    proxy: RefusingProxy | None = None
    try:
        services = test_services.start_all()
        _create_database(services.env["DATABASE_URL"])
        parts = _service_parts(services)
        # Its own process, as OpenRouter is another machine: the emulator's
        # drawing must not share a GIL with the bench's 200 HTTP clients.
        emulator_port = test_services.free_port()
        emulator = services.spawn(
            _python_module("emulator", "--port", str(emulator_port)),
            "emulator",
            cwd=str(ROOT),
        )
        parts["emulator"] = Process(
            "emulator",
            "emulator",
            services,
            emulator,
            lambda: test_services.port_open(emulator_port),
        )
        test_services.wait_for(parts["emulator"].ready, "the emulator")
        emulator_url = f"http://127.0.0.1:{emulator_port}/api/v1"
        s3_url = services.env["S3_ENDPOINT_URL"]
        env = app_env(services, emulator_url)
        if s3_proxy:
            proxy = RefusingProxy(_port(s3_url))
            env["S3_ENDPOINT_URL"] = proxy.url
        env.update(extra_env or {})
        os.environ.update(env)
        _setup_django()

        port = test_services.free_port()
        web_url = f"http://127.0.0.1:{port}"
        uvicorn = services.spawn(
            _python_module(
                "uvicorn",
                "webapp.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "5",
                # As on a team server: one web process per core (docker-compose.yml).
                "--workers",
                str(web_workers),
            ),
            "uvicorn",
            env=env,
            cwd=str(ROOT),
        )
        parts["uvicorn"] = Process(
            "uvicorn",
            "uvicorn",
            services,
            uvicorn,
            lambda: httpx.get(f"{web_url}/healthz", timeout=2).status_code in (200, 503),
        )
        host = socket.gethostname()
        nodes: dict[str, str] = {}
        if layout == "bench":
            workers = [("generation worker", "generation,default", "threads", worker_concurrency)]
        else:
            workers = [
                ("generation worker", "generation", "threads", worker_concurrency),
                ("default worker", "default", "prefork", 1),
            ]
        for name, queues, pool, concurrency in workers:
            node = f"{name.split()[0]}-{os.getpid()}@{host}"
            log_name = "celery" if layout == "bench" else name.replace(" ", "-")
            popen = services.spawn(
                _celery_worker(queues, pool, concurrency, node), log_name, env=env, cwd=str(ROOT)
            )
            nodes[name] = node
            parts[name] = Process(name, log_name, services, popen, functools.partial(_pings, node))
        if layout == "team":
            beat = services.spawn(
                _python_module(
                    "celery",
                    "-A",
                    "webapp",
                    "beat",
                    "-l",
                    "info",
                    "-s",
                    str(services.root / "celerybeat-schedule"),
                    "--pidfile=",
                ),
                "beat",
                env=env,
                cwd=str(ROOT),
            )
            parts["beat"] = Process(
                "beat", "beat", services, beat, lambda: "Starting" in services.log("beat")
            )
        for name in ("uvicorn", *nodes, *(["beat"] if layout == "team" else [])):
            test_services.wait_for(
                functools.partial(_up, parts[name]),
                f"{name} (log: {services.log(parts[name].log_name)})",
                timeout=60,
            )
        yield Stack(services, emulator_url, web_url, env, parts, s3_url, proxy, nodes)
    finally:
        if services is not None and keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in services.root.glob("*.log"):
                shutil.copy(log, keep_logs / log.name)
        if services is not None:
            # A paused process ignores SIGTERM until it is resumed.
            for process in services.processes:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGCONT)
            services.stop()
        if proxy is not None:
            proxy.close()


def _setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("sync_catalog", stdout=io.StringIO())
    # Production settings serve static files from the collected manifest:
    # without it every page that links a stylesheet answers 500.
    call_command("collectstatic", interactive=False, verbosity=0)
