"""Real service processes for the test suite: Redis, PostgreSQL and an S3-compatible server.

Each runs on a free loopback port in a temporary folder and is stopped when the
test process exits. Nothing here is mocked: the suite talks to the same kinds of
servers production does.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator import EmulatorServer

VENV_BIN = Path(sys.executable).parent


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise ServiceError(f"{what} did not come up within {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Services:
    """The running processes and the environment that points the app at them."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # log name -> the arguments it was spawned with, so that a fault harness can
    # start a stopped service again exactly as before (same port, same data).
    commands: dict[str, tuple[list[str], dict[str, Any]]] = field(default_factory=dict)

    def spawn(
        self, args: list[str], log_name: str, *, append: bool = False, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """Start a process in its own session, its output in ``<log_name>.log``
        (appended to with ``append``, as when a stopped service starts again)."""
        log = open(self.root / f"{log_name}.log", "ab" if append else "wb")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        self.processes.append(process)
        self.commands[log_name] = (list(args), dict(kwargs))
        return process

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis(services: Services) -> str:
    binary = shutil.which("redis-server")
    if not binary:
        raise ServiceError("redis-server is not installed: run `make test`, which installs it")
    port = free_port()
    data = services.root / "redis"
    data.mkdir()
    services.spawn(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data),
        ],
        "redis",
    )
    wait_for(lambda: port_open(port), "Redis")
    return f"redis://127.0.0.1:{port}/0"


def _postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), reverse=True)
    if not candidates:
        found = shutil.which("postgres")
        if not found:
            raise ServiceError(
                "PostgreSQL is not installed: run `make test`, which installs it, or set "
                "DARKROOM_TEST_DATABASE=sqlite"
            )
        return Path(found).parent
    return Path(candidates[0]).parent


@dataclass
class Postgres:
    """A PostgreSQL server in its own data folder that a test may stop and start again.

    ``stop`` is a fast shutdown (SIGINT: open connections are cut, as in a
    restart); ``start`` brings the same data back on the same port.
    """

    services: Services
    data: Path
    port: int
    run_as: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgres://darkroom@127.0.0.1:{self.port}/darkroom"

    def start(self) -> None:
        self.process = self.services.spawn(
            [
                str(_postgres_bin() / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.data),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=400",
            ],
            f"postgres-{self.data.name}",
            **self.run_as,
        )
        wait_for(self.accepts_connections, "PostgreSQL")

    def accepts_connections(self) -> bool:
        import psycopg

        # The maintenance database: the app's own may not have been created yet.
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="darkroom", dbname="postgres", connect_timeout=2
        ):
            return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)


def postgres(services: Services, name: str = "postgres") -> Postgres:
    """A fresh PostgreSQL cluster in ``services.root / name``, not yet started."""
    bindir = _postgres_bin()
    data = services.root / name
    data.mkdir()
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; Debian's package brings the postgres user.
        user = pwd.getpwnam("postgres")
        os.chown(services.root, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "darkroom",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        **run_as,
    )
    return Postgres(services, data, free_port(), run_as)


def start_postgres(services: Services) -> str:
    server = postgres(services)
    server.start()
    return server.url


def start_s3(services: Services) -> dict[str, str]:
    binary = VENV_BIN / "moto_server"
    port = free_port()
    services.spawn([str(binary), "-H", "127.0.0.1", "-p", str(port)], "s3")
    wait_for(lambda: port_open(port), "S3 server")
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="darkroom-test")
    return {
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": "darkroom-test",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }


def start_emulator(services: Services) -> EmulatorServer:
    from emulator import EmulatorServer

    emulator = EmulatorServer(host="127.0.0.1", port=0)
    emulator.start()
    atexit.register(emulator.stop)
    return emulator


def start_all() -> Services:
    """Start every service and return the environment the app should run with."""
    services = Services(root=Path(tempfile.mkdtemp(prefix="darkroom-test-")))
    atexit.register(services.stop)
    database = os.environ.get("DARKROOM_TEST_DATABASE", "postgres")
    if database == "postgres":
        services.env["DATABASE_URL"] = start_postgres(services)
    elif database == "sqlite":
        services.env["DATABASE_URL"] = f"sqlite:///{services.root / 'darkroom.sqlite3'}"
    else:
        raise ServiceError(f"DARKROOM_TEST_DATABASE must be postgres or sqlite, not {database!r}")
    services.env["REDIS_URL"] = start_redis(services)
    services.env.update(start_s3(services))
    return services
