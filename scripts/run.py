"""`make run`: bring the whole of Darkroom up on this machine, in the foreground.

Starts (each only when needed) Redis, the offline OpenRouter emulator, then
migrates, creates the first admin, fills the catalog on a new install, and runs
the web server, both Celery workers and beat with their logs interleaved.
Ctrl-C stops everything.
"""

from __future__ import annotations

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
VAR = ROOT / "var"
COLORS = ["36", "33", "35", "32", "34", "31", "96"]


def say(message: str) -> None:
    print(f"\033[1m[darkroom]\033[0m {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_port(host: str, port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on {host}:{port}")
        time.sleep(0.2)


class Supervisor:
    """Runs named processes, prefixes their output, and stops all when one stops."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.width = 10

    def start(self, name: str, args: list[str]) -> None:
        color = COLORS[len(self.processes) % len(COLORS)]
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, color, process), daemon=True).start()

    def _pump(self, name: str, color: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        prefix = f"\033[{color}m{name:<{self.width}}|\033[0m "
        for line in iter(process.stdout.readline, b""):
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    def wait(self) -> int:
        try:
            while True:
                for name, process in self.processes.items():
                    if process.poll() is not None:
                        say(f"{name} exited with status {process.returncode}; stopping the rest")
                        return process.returncode or 1
                time.sleep(0.3)
        except KeyboardInterrupt:
            say("stopping…")
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def manage(*args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env", override=False)
    (VAR / "media").mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    redis_url = urlparse(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    redis_host, redis_port = redis_url.hostname or "localhost", redis_url.port or 6379
    if port_open(redis_host, redis_port):
        say(f"using the Redis at {redis_host}:{redis_port}")
    else:
        redis_server = shutil.which("redis-server")
        if not redis_server:
            raise SystemExit("redis-server is missing: `make run` installs it as root on Debian")
        (VAR / "redis").mkdir(exist_ok=True)
        supervisor.start(
            "redis",
            [
                redis_server,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(VAR / "redis"),
            ],
        )
        wait_port("127.0.0.1", redis_port, "Redis")

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
        wait_port("127.0.0.1", emulator_port, "The OpenRouter emulator")
    else:
        say("using OpenRouter at " + os.environ.get("OPENROUTER_BASE_URL", "openrouter.ai"))

    try:
        manage("migrate", "--no-input", "-v", "0")
        manage("ensure_admin")
        manage("sync_catalog", "--if-empty")
    except subprocess.CalledProcessError as exc:
        supervisor.stop()
        return exc.returncode

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
    )
    supervisor.start(
        "default", [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default@%h", "-l", "info"]
    )
    supervisor.start(
        "beat", [*celery, "beat", "-l", "info", "-s", str(VAR / "celerybeat-schedule")]
    )
    everywhere = host == "0.0.0.0"  # noqa: S104 - only compared, to print a usable URL
    wait_port("127.0.0.1" if everywhere else host, int(port), "The web server", 60)
    shown = "localhost" if everywhere or host == "127.0.0.1" else host
    say(f"Darkroom is up: open http://{shown}:{port}/  (Ctrl-C stops everything)")
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
