"""A bound on decoded pixels held at once by one process, and giving memory back.

A worker runs hundreds of jobs on threads; most wait on the network, but
decoding is where memory goes, and it goes by pixels, not by jobs: one 8K
image decodes to as much as sixteen 1K ones. ``PixelBudget`` lets decodes run
together while the pixels they hold fit, first come first served (a big image
waiting is not overtaken by a stream of small ones). A decode larger than the
whole budget runs alone.

After a burst of big decodes glibc keeps the freed memory mapped in its
arenas; ``release_free_memory`` asks it to give it back (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# Trim only after this many pixels were decoded since the last trim: trimming
# after every small thumbnail would cost CPU for nothing to return.
TRIM_AFTER_PIXELS = 16_000_000


class PixelBudget:
    """At most ``total`` pixels held by the decodes running at once."""

    def __init__(self, total: int, *, trim_after: int = TRIM_AFTER_PIXELS) -> None:
        if total < 1:
            raise ValueError("a pixel budget must be positive")
        self.total = total
        self.trim_after = trim_after
        self.in_use = 0
        # The most pixels ever held at once: what the bound achieved.
        self.peak = 0
        self.trims = 0
        self._decoded_since_trim = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Wait until ``pixels`` fit (in arrival order), hold them for the block."""
        want = max(1, min(pixels, self.total))
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            while self._waiting[0] is not ticket or self.in_use + want > self.total:
                self._changed.wait()
            self._waiting.popleft()
            self.in_use += want
            self.peak = max(self.peak, self.in_use)
            # The next in line may fit beside this one.
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= want
                self._decoded_since_trim += pixels
                trim = self.in_use == 0 and self._decoded_since_trim >= self.trim_after
                if trim:
                    self._decoded_since_trim = 0
                    self.trims += 1
                self._changed.notify_all()
            if trim:
                release_free_memory()


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to ask
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return freed heap memory to the operating system; True when the C library
    can be asked (glibc), False elsewhere."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
