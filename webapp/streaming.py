"""Streaming responses that stay streamed under ASGI.

Under uvicorn, Django reads a plain (synchronous) iterator given to a
StreamingHttpResponse to the end before sending a byte, holding a whole zip,
CSV or image in memory. ``streamed`` hands it an async iterator instead, which
pulls ``batch`` items at a time on the request's own thread (the one holding
its database connection).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest


def streamed[T: (str, bytes)](
    request: HttpRequest, chunks: Iterator[T], *, batch: int = 1
) -> Iterator[T] | AsyncIterator[T]:
    """``chunks`` as the server needs them: unchanged under WSGI, async under ASGI."""
    if not isinstance(request, ASGIRequest):
        return chunks
    return _pull(chunks, batch)


async def _pull[T: (str, bytes)](chunks: Iterator[T], batch: int) -> AsyncIterator[T]:
    take = sync_to_async(lambda: list(itertools.islice(chunks, batch)), thread_sensitive=True)
    try:
        while part := await take():
            yield part[0][:0].join(part)  # one str or bytes chunk per batch
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()
