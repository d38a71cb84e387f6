"""An incremental Server-Sent Events decoder.

Bytes arrive in arbitrary chunks: a chunk may end inside a CRLF pair or inside
a multi-byte UTF-8 sequence, and one ``data:`` line may carry a whole image,
megabytes long. The decoder keeps a single ``bytearray``, scans each byte once
for line ends (``\\n``, ``\\r\\n`` or a lone ``\\r``) and decodes only complete
lines, so the work is linear in the stream size however it is split.

It follows the WHATWG event-stream rules (comments start with ``:``, one space
after the colon is dropped, ``data`` lines join with ``\\n``, an event is
dispatched on a blank line and only if it has data) with one deliberate
leniency: at end of input a pending event is dispatched even without its
closing blank line, so a stream that ends with ``data: [DONE]\\n`` still ends
cleanly. A truncated last line is dispatched too; its JSON will not parse,
which is how a caller notices truncation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

DONE = "[DONE]"
_BOM = b"\xef\xbb\xbf"


class SSEError(ValueError):
    """The stream broke a limit (a line longer than ``max_line_bytes``)."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str = field(repr=False)
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    @property
    def is_done(self) -> bool:
        """True for OpenRouter's end-of-stream marker, ``data: [DONE]``."""
        return self.data == DONE

    def __repr__(self) -> str:
        preview = self.data if len(self.data) <= 40 else f"{self.data[:40]}…({len(self.data)})"
        return f"SSEEvent(event={self.event!r}, id={self.id!r}, data={preview!r})"


class SSEDecoder:
    """Feed bytes with ``feed()``, then call ``close()`` at end of input.

    Both return the events completed so far, in order. ``comments`` counts
    comment lines (OpenRouter's ``: OPENROUTER PROCESSING`` keep-alives).
    """

    def __init__(self, *, max_line_bytes: int | None = None) -> None:
        self._buf = bytearray()
        # Bytes of _buf before _scan hold no line terminator: never re-scanned.
        self._scan = 0
        self._max_line = max_line_bytes
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        self._buf += chunk
        if not self._started:
            if len(self._buf) < len(_BOM) and _BOM.startswith(bytes(self._buf)):
                return []  # Could still be the start of a BOM.
            if self._buf.startswith(_BOM):
                del self._buf[: len(_BOM)]
            self._started = True
        return self._drain(final=False)

    def close(self) -> list[SSEEvent]:
        """End of input: flush the last line and any pending event."""
        if not self._started and self._buf.startswith(_BOM):
            del self._buf[: len(_BOM)]
        self._started = True
        events = self._drain(final=True)
        if self._buf:
            self._line(0, len(self._buf), events)
            self._buf.clear()
        self._scan = 0
        self._dispatch(events)
        return events

    def _drain(self, *, final: bool) -> list[SSEEvent]:
        buf = self._buf
        events: list[SSEEvent] = []
        end_of_data = len(buf)
        start = 0
        pos = self._scan
        # Next LF / CR at or after pos; -2 = not searched yet, -1 = none left.
        # Each is searched again only once pos has passed it, so a run of
        # CR-only lines does not rescan the rest of the buffer for an LF.
        next_lf = next_cr = -2
        while pos < end_of_data:
            if next_lf != -1 and next_lf < pos:
                next_lf = buf.find(b"\n", pos)
            if next_cr != -1 and next_cr < pos:
                next_cr = buf.find(b"\r", pos)
            if next_cr != -1 and (next_lf == -1 or next_cr < next_lf):
                if next_cr + 1 == end_of_data and not final:
                    # A CR as the last byte may be the first half of a CRLF.
                    pos = next_cr
                    break
                line_end = next_cr
                next_start = next_cr + 2 if next_lf == next_cr + 1 else next_cr + 1
            elif next_lf != -1:
                line_end = next_lf
                next_start = next_lf + 1
            else:
                pos = end_of_data
                break
            self._line(start, line_end, events)
            start = pos = next_start
        if start:
            del buf[:start]
            pos -= start
        self._scan = pos
        if self._max_line is not None and len(buf) > self._max_line:
            raise SSEError(f"SSE line longer than {self._max_line} bytes")
        return events

    def _line(self, start: int, end: int, events: list[SSEEvent]) -> None:
        if self._max_line is not None and end - start > self._max_line:
            raise SSEError(f"SSE line longer than {self._max_line} bytes")
        if start == end:
            self._dispatch(events)
            return
        buf = self._buf
        if buf[start] == 0x3A:  # ":" starts a comment
            self.comments += 1
            return
        colon = buf.find(b":", start, end)
        if colon == -1:
            name, value_start = bytes(buf[start:end]), end
        else:
            name = bytes(buf[start:colon])
            value_start = colon + 1
            if value_start < end and buf[value_start] == 0x20:
                value_start += 1
        # Decode straight from the buffer: no intermediate bytes copy of a
        # multi-megabyte line. The view must be released before _buf resizes.
        with memoryview(buf) as view:
            value = str(view[value_start:end], "utf-8", "replace")
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id":
            if "\0" not in value:
                self._last_id = value
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        # Other field names are ignored, as the spec requires.

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            # join() of a single piece returns it as is: no copy for big lines.
            data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
            events.append(SSEEvent(data, self._event or "message", self._last_id, self._retry))
        self._data = []
        self._event = ""


def iter_events(
    chunks: Iterable[bytes], *, max_line_bytes: int | None = None
) -> Iterator[SSEEvent]:
    """Events from a byte stream, ending after ``data: [DONE]`` (which is yielded,
    so a caller can tell a finished stream from a truncated one)."""
    decoder = SSEDecoder(max_line_bytes=max_line_bytes)
    for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
            if event.is_done:
                return
    for event in decoder.close():
        yield event
        if event.is_done:
            return
