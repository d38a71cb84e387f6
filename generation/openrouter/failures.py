"""How failures on the wire become ``OpenRouterError``: httpx errors before and
after an answer was accepted, error events inside a stream, unreadable events.

Each says whether it may have been charged and whether it may be retried;
``secret`` (the API key) is redacted from every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from generation.openrouter import _coerce
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import ErrorKind, OpenRouterError, redact
from generation.openrouter.sse import SSEEvent
from generation.openrouter.types import Usage


def transport_error(exc: httpx.HTTPError, *, may_charge: bool, secret: str) -> OpenRouterError:
    """Map an httpx failure before the answer's headers; retryable only if
    nothing can have been billed.

    Connect and pool failures happen before the request leaves, and a
    write failure leaves the request incomplete, so those are retried. A
    read timeout or a dropped connection after the request was sent is not
    retried for a generation: the provider may still finish and bill it.
    """
    name = type(exc).__name__
    detail = redact(str(exc), secret) or name
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout)):
        return OpenRouterError(ErrorKind.TIMEOUT, f"{name}: {detail}", retryable=True)
    if isinstance(exc, (httpx.ConnectError, httpx.WriteError)):
        return OpenRouterError(ErrorKind.NETWORK, f"{name}: {detail}", retryable=True)
    if isinstance(exc, httpx.TimeoutException):
        note = "; the generation may have been charged" if may_charge else ""
        return OpenRouterError(
            ErrorKind.TIMEOUT,
            f"no answer in time ({name}){note}",
            retryable=not may_charge,
            may_be_charged=may_charge,
        )
    if isinstance(exc, httpx.DecodingError):
        return OpenRouterError(
            ErrorKind.MALFORMED, f"{name}: {detail}", retryable=False, may_be_charged=may_charge
        )
    if isinstance(exc, httpx.TransportError) and not isinstance(
        exc, (httpx.UnsupportedProtocol, httpx.ProxyError)
    ):
        note = "; the generation may have been charged" if may_charge else ""
        return OpenRouterError(
            ErrorKind.NETWORK,
            f"connection lost ({name}: {detail}){note}",
            retryable=not may_charge,
            may_be_charged=may_charge,
        )
    return OpenRouterError(ErrorKind.NETWORK, f"{name}: {detail}", retryable=False)


def body_error(exc: httpx.HTTPError, deadline: Deadline, *, secret: str) -> OpenRouterError:
    """An httpx failure while reading an accepted generation's answer: the
    deadline's ``TIMEOUT`` if its timer cut the answer, a ``MALFORMED`` body
    that could not be decoded, else ``INTERRUPTED`` (cut off, connection
    dropped, read timed out). Never retryable: it may have been charged."""
    if deadline.fired:
        return deadline.error()
    name = type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        return OpenRouterError(
            ErrorKind.MALFORMED, f"{name}: {exc}", retryable=False, may_be_charged=True
        )
    return OpenRouterError(
        ErrorKind.INTERRUPTED,
        f"the answer was cut off ({name}: {redact(str(exc), secret) or name})",
        retryable=False,
        may_be_charged=True,
    )


def stream_error(
    chunk: Mapping[str, Any], kind: ErrorKind = ErrorKind.STREAM_ERROR, *, secret: str
) -> OpenRouterError:
    """An error event of a stream; ``usage.cost`` in it (at the top or inside
    ``error``) is the cost. The caller attaches what else had arrived."""
    error = _coerce.as_dict(chunk.get("error"))
    metadata = _coerce.as_dict(error.get("metadata"))
    code = error.get("code", chunk.get("code"))
    message = _coerce.as_str(error.get("message")) or _coerce.as_str(chunk.get("message"))
    usage = Usage.from_api(chunk.get("usage")) or Usage.from_api(error.get("usage"))
    return OpenRouterError(
        kind,
        message or "the generation failed part-way",
        code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        metadata=metadata,
        provider=_coerce.as_str(metadata.get("provider_name"))
        or _coerce.as_str(chunk.get("provider")),
        retryable=False,
        may_be_charged=True,
        cost=usage.cost if usage else None,
        secret=secret,
    )


def event_json(event: SSEEvent) -> dict[str, Any]:
    """One stream event's JSON object; an unreadable one is a ``MALFORMED`` error."""
    try:
        chunk = _coerce.loads(event.data)
    except ValueError:
        chunk = None
    if not isinstance(chunk, dict):
        # Mid-stream: the generation is running and may be billed.
        raise OpenRouterError(
            ErrorKind.MALFORMED,
            "unreadable event in the stream",
            retryable=False,
            may_be_charged=True,
        )
    return chunk
