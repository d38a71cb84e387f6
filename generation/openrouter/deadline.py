"""The bound on one generation call, enforced while waiting for bytes."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

import httpx

from generation.openrouter.errors import ErrorKind, OpenRouterError


class Deadline:
    """The end of one call (``time.monotonic()`` seconds), enforced while waiting.

    ``watch(response)`` arms a timer that shuts the response's socket down at
    the deadline, so a server that sends nothing at all cannot hold the call
    past it; a read that fails after that is reported as the deadline's
    ``TIMEOUT``. Without a socket (mocked transports) the readers check
    ``passed`` between chunks instead.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.fired = False
        self.armed = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() > self.at

    def watch(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return

        def fire() -> None:
            self.fired = True
            # socket.socket.shutdown, not SSLSocket's: that one drops the TLS
            # object under the reading thread's feet. A shut-down socket makes
            # the blocked read return at once.
            with suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

        self._timer = threading.Timer(self.remaining(), fire)
        self._timer.daemon = True
        self._timer.start()
        self.armed = True

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def error(self) -> OpenRouterError:
        return OpenRouterError(
            ErrorKind.TIMEOUT,
            f"the answer did not arrive within {self.seconds:g} s",
            retryable=False,
            may_be_charged=True,
        )

    def check(self) -> None:
        """Between chunks, when no timer watches the socket."""
        if not self.armed and self.passed():
            raise self.error()
