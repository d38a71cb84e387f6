"""`make run`: bring the whole of Darkroom up on this machine, in the foreground.

Starts (each only when needed) Redis, the offline OpenRouter emulator, then
migrates, creates the first admin, fills the catalog on a new install, and runs
the web server, both Celery workers and beat with their logs interleaved.

Ctrl-C, SIGTERM or SIGHUP (a service manager, `kill -- -PGID`, a closed
terminal) stops everything, however often it arrives: each child gets SIGTERM
(the app first, Redis last) and whatever still runs after a grace period gets
SIGKILL. Children run in sessions of their own, so only this supervisor
decides how they are stopped (a second Ctrl-C reaching Celery directly would
make it abandon running jobs).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLORS = ["36", "33", "35", "32", "34", "31", "96"]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# uvicorn gets 5 s for open streams, Celery finishes what it is running: then SIGKILL.
GRACE_SECONDS = 15.0


class Stopping(Exception):
    """A stop signal arrived: unwind to main(), which stops every child."""


def say(message: str) -> None:
    print(f"\033[1m[darkroom]\033[0m {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def generation_worker_env() -> dict[str, str]:
    """What the generation worker gets on top of this environment: two malloc
    arenas instead of one per thread (200 threads decoding would otherwise each
    keep freed image memory in an arena of its own). ``MALLOC_ARENA_MAX`` set
    here wins."""
    return {"MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX") or "2"}


class Supervisor:
    """Runs named processes, prefixes their output, and stops all when one stops.

    Stop signals only set a flag (a handler that raised could interrupt the
    shutdown itself); the main thread checks it wherever it waits, through
    ``check``. ``stop`` runs once, to the end, whatever arrives meanwhile.
    """

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.last: set[str] = set()
        self.grace = grace
        self.width = 10
        self.signals: list[int] = []
        self._stopped = False

    def install_signal_handlers(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        # Only a list append: safe whatever the main thread was doing.
        self.signals.append(signum)

    def check(self) -> None:
        """Raise Stopping once a stop signal has arrived."""
        if self.signals:
            raise Stopping

    def sleep(self, seconds: float) -> None:
        self.check()
        time.sleep(seconds)
        self.check()

    def start(
        self,
        name: str,
        args: list[str],
        *,
        last: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a child (``env`` added to this environment); ``last`` ones
        (infrastructure) are stopped after the others."""
        self.check()
        color = COLORS[len(self.processes) % len(COLORS)]
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env} if env else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        if last:
            self.last.add(name)
        threading.Thread(target=self._pump, args=(name, color, process), daemon=True).start()
        return process

    def run_once(self, name: str, args: list[str]) -> None:
        """Run a one-off step (a migration) to its end, as a child that a signal also stops."""
        process = self.start(name, args)
        while process.poll() is None:
            self.sleep(0.2)
        del self.processes[name]
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, args)

    def wait_port(self, host: str, port: int, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not port_open(host, port):
            if time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start listening on {host}:{port}")
            self.sleep(0.2)

    def _pump(self, name: str, color: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        prefix = f"\033[{color}m{name:<{self.width}}|\033[0m "
        for line in iter(process.stdout.readline, b""):
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    def wait(self) -> int:
        """Until a child exits (its status) or a stop signal arrives (0)."""
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    say(f"{name} exited with status {process.returncode}; stopping the rest")
                    return process.returncode or 1
            try:
                self.sleep(0.3)
            except Stopping:
                return 0

    def stop(self) -> None:
        """Stop every child and everything in its process group; returns when all are gone.

        SIGTERM to the app processes, then (once they are gone) to the
        infrastructure, each group SIGKILLed when the grace period runs out.
        Signals arriving meanwhile are only counted: nothing interrupts this.
        """
        if self._stopped:
            return
        self._stopped = True
        if self.signals:
            say(f"{signal.Signals(self.signals[0]).name}: stopping…")
        first = [name for name in self.processes if name not in self.last]
        for tier in (first, [name for name in self.processes if name in self.last]):
            deadline = time.monotonic() + self.grace
            for name in tier:
                _signal_group(self.processes[name], signal.SIGTERM)
            for name in tier:
                process = self.processes[name]
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    say(f"{name} did not stop within {self.grace:.0f} s; killing it")
                # Leftovers in its group (pool processes of a worker that died) go too.
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # Each child leads its own process group (start_new_session), so the group
    # id is its pid, and the group outlives it while any member remains.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft limit on open files to the hard one, for this process and
    the children it starts: every open live-progress page holds one socket in
    the web server, and the usual soft limit of 1,024 would refuse new
    connections (every page, not only streams) at about a thousand open pages.
    Returns the (soft, hard) limits now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def main() -> int:
    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    try:
        return run(supervisor)
    except Stopping:
        return 0
    except subprocess.CalledProcessError as exc:
        return exc.returncode
    finally:
        supervisor.stop()


def run(supervisor: Supervisor) -> int:
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env", override=False)
    soft, _ = raise_open_file_limit()
    say(f"open-file limit {soft} (the web server needs one per open page)")
    var = Path(os.environ.get("DARKROOM_VAR_DIR") or ROOT / "var")
    (var / "media").mkdir(parents=True, exist_ok=True)

    def manage(*args: str) -> None:
        # "ensure_admin" → "admin": prefixes stay within the column.
        supervisor.run_once(args[0].rpartition("_")[2], [str(BIN / "python"), "manage.py", *args])

    redis_url = urlparse(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    redis_host, redis_port = redis_url.hostname or "localhost", redis_url.port or 6379
    if port_open(redis_host, redis_port):
        say(f"using the Redis at {redis_host}:{redis_port}")
    else:
        redis_server = shutil.which("redis-server")
        if not redis_server:
            raise SystemExit("redis-server is missing: `make run` installs it as root on Debian")
        (var / "redis").mkdir(exist_ok=True)
        supervisor.start(
            "redis",
            [
                redis_server,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(var / "redis"),
            ],
            last=True,
        )
        supervisor.wait_port("127.0.0.1", redis_port, "Redis")

    if not os.environ.get("OPENROUTER_API_KEY"):
        emulator_port = int(os.environ.get("OPENROUTER_EMULATOR_PORT", "8765"))
        os.environ["OPENROUTER_BASE_URL"] = f"http://127.0.0.1:{emulator_port}/api/v1"
        say("OPENROUTER_API_KEY is not set: starting the offline OpenRouter emulator")
        supervisor.start(
            "emulator",
            [
                str(BIN / "python"),
                "manage.py",
                "openrouter_emulator",
                "--port",
                str(emulator_port),
                "--latency",
                "2",
            ],
        )
        supervisor.wait_port("127.0.0.1", emulator_port, "The OpenRouter emulator")
    else:
        say("using OpenRouter at " + os.environ.get("OPENROUTER_BASE_URL", "openrouter.ai"))

    manage("migrate", "--no-input", "-v", "0")
    manage("ensure_admin")
    manage("sync_catalog", "--if-empty")

    host = os.environ.get("DARKROOM_HOST", "127.0.0.1")
    port = os.environ.get("DARKROOM_PORT", "8000")
    celery = [str(BIN / "celery"), "-A", "webapp"]
    supervisor.start(
        "web",
        [
            str(BIN / "uvicorn"),
            "webapp.asgi:application",
            "--host",
            host,
            "--port",
            port,
            "--timeout-graceful-shutdown",
            "5",
            "--no-access-log",
        ],
    )
    supervisor.start(
        "generation",
        [
            *celery,
            "worker",
            "-Q",
            "generation",
            "-P",
            "threads",
            "-c",
            "200",
            "-n",
            "generation@%h",
            "-l",
            "info",
        ],
        env=generation_worker_env(),
    )
    supervisor.start(
        "default", [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default@%h", "-l", "info"]
    )
    supervisor.start(
        "beat", [*celery, "beat", "-l", "info", "-s", str(var / "celerybeat-schedule")]
    )
    everywhere = host == "0.0.0.0"  # noqa: S104 - only compared, to print a usable URL
    supervisor.wait_port("127.0.0.1" if everywhere else host, int(port), "The web server", 60)
    shown = "localhost" if everywhere or host == "127.0.0.1" else host
    say(f"Darkroom is up: open http://{shown}:{port}/  (Ctrl-C stops everything)")
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
