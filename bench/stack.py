"""The real stack for a benchmark, on free loopback ports, stopped whatever happens.

PostgreSQL, Redis and the S3-compatible server come from ``tests.services``
(the suite's own helpers); the OpenRouter emulator runs in a process of its own;
uvicorn and ONE Celery worker process run as subprocesses with production
settings (``DJANGO_DEBUG=0``), exactly as a team server runs them. This
process configures Django against the same database to migrate, sync the
catalog, make a user and token, and read job rows for the measurements.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import services as test_services

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    services: test_services.Services
    emulator_url: str
    web_url: str
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    env: dict[str, str]

    def processes(self) -> dict[str, int]:
        """Name -> process group id of every process this stack started."""
        named = {"uvicorn": self.web.pid, "celery worker": self.worker.pid}
        for process in self.services.processes:
            if process.pid in named.values():
                continue
            args = process.args if isinstance(process.args, list) else [str(process.args)]
            name = Path(str(args[0])).name
            if "generation.openrouter.emulator" in map(str, args):
                name = "emulator"
            named.setdefault(
                {"redis-server": "redis", "postgres": "postgres", "moto_server": "s3 (moto)"}.get(
                    name, name
                ),
                process.pid,
            )
        return named

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


@contextlib.contextmanager
def running(*, worker_concurrency: int, keep_logs: Path | None = None) -> Iterator[Stack]:
    """Start everything, yield it, and stop everything (also on Ctrl-C or error)."""
    services: test_services.Services | None = None
    try:
        services = test_services.start_all()
        _create_database(services.env["DATABASE_URL"])
        # Its own process, as OpenRouter is another machine: the emulator's
        # drawing must not share a GIL with the bench's 200 HTTP clients.
        emulator_port = test_services.free_port()
        services.spawn(
            _python_module("generation.openrouter.emulator", "--port", str(emulator_port)),
            "emulator",
            cwd=str(ROOT),
        )
        test_services.wait_for(lambda: test_services.port_open(emulator_port), "the emulator")
        emulator_url = f"http://127.0.0.1:{emulator_port}/api/v1"
        env = app_env(services, emulator_url)
        os.environ.update(env)
        _setup_django()

        port = test_services.free_port()
        web = services.spawn(
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
                "2",
            ),
            "uvicorn",
            env=env,
            cwd=str(ROOT),
        )
        worker = services.spawn(
            _python_module(
                "celery",
                "-A",
                "webapp",
                "worker",
                "-Q",
                "generation,default",
                "-P",
                "threads",
                "-c",
                str(worker_concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "warning",
                "-n",
                f"bench-{os.getpid()}@%h",
            ),
            "celery",
            env=env,
            cwd=str(ROOT),
        )
        web_url = f"http://127.0.0.1:{port}"
        test_services.wait_for(
            lambda: httpx.get(f"{web_url}/healthz", timeout=2).status_code == 200,
            f"uvicorn (log: {services.log('uvicorn')})",
            timeout=60,
        )
        from webapp.celery import app

        test_services.wait_for(
            lambda: bool(app.control.ping(timeout=0.5)),
            f"the Celery worker (log: {services.log('celery')})",
            timeout=60,
        )
        yield Stack(services, emulator_url, web_url, web, worker, env)
    finally:
        if services is not None and keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in services.root.glob("*.log"):
                shutil.copy(log, keep_logs / log.name)
        if services is not None:
            services.stop()


def _setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("sync_catalog", stdout=io.StringIO())
