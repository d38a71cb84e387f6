"""Restarting what exits by itself, as the team server's docker-compose does.

docker-compose.yml runs every service with ``restart: unless-stopped``; the
fault suite does the same for the processes of its stack, so that one crash
does not leave every later scenario without a worker, and records each crash
so the scenario it happened in reports it.
"""

from __future__ import annotations

import threading
import time

from bench.stack import Process, Stack

CHECK_SECONDS = 1.0


class Supervisor(threading.Thread):
    """Checks every process each second; one that is not alive and was not
    stopped by the harness (``Process.stopped_on_purpose``) is started again."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(name="fault-suite-supervisor", daemon=True)
        self.stack = stack
        self._events: list[str] = []
        self._events_lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(CHECK_SECONDS):
            for part in list(self.stack.parts.values()):
                with part.lock:
                    if part.alive() or part.stopped_on_purpose:
                        continue
                    self._restart(part)

    def _restart(self, part: Process) -> None:
        crashed = f"{part.name} exited by itself (exit code {part.popen.returncode}"
        log = self.stack.services.root / f"{part.log_name}.log"
        reason = _last_error(log.read_text(errors="replace") if log.exists() else "")
        crashed += f": {reason})" if reason else ")"
        began = time.monotonic()
        try:
            part.start()
            outcome = f"restarted, as docker-compose would, in {time.monotonic() - began:.0f} s"
        except Exception as exc:  # reported, and tried again next second
            outcome = f"could not be restarted: {exc}"[:200]
        with self._events_lock:
            self._events.append(f"{crashed}; {outcome}")

    def take(self) -> list[str]:
        """The crashes recorded since the last call."""
        with self._events_lock:
            events, self._events = self._events, []
        return events

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=70)


def _last_error(log: str) -> str:
    """The last CRITICAL or unrecoverable-error line of a log, shortened."""
    for line in reversed(log.splitlines()):
        if "CRITICAL" in line or "Unrecoverable" in line:
            return line.split("]", 1)[-1].strip()[:160]
    return ""
