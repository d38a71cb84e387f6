"""What a route needs from the HTTP layer (implemented by the request handler)."""

from __future__ import annotations

from typing import Any, Protocol


class ClientGone(Exception):
    """The client closed the connection while we were writing to it."""


class Transport(Protocol):
    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None: ...

    def send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """A complete response with exactly these body bytes."""

    def send_truncated(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """Announce ``len(data)`` bytes, send about half, close the connection."""

    def start_sse(
        self, stream_delay: float | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Send 200 and SSE headers (and ``headers``); ``stream_delay`` overrides
        the configured one."""

    def sse(self, payload: Any, *, event: str | None = None) -> None:
        """One ``data:`` event (JSON-encoded unless ``payload`` is ``str``); honours stream delay."""

    def sse_comment(self, text: str) -> None: ...

    def sse_cut(self, payload: Any) -> None:
        """Send half of this event's line, then drop the connection (a truncated stream)."""

    def end_sse(self) -> None: ...

    def wait(self, seconds: float) -> None:
        """Sleep, sending ``: OPENROUTER PROCESSING`` keep-alives when streaming."""
