"""HTTP to OpenRouter: requests, capped bodies, streams, deadlines.

``Transport`` is the base of ``OpenRouterClient``: one ``httpx.Client`` with
explicit timeouts, no redirects, the key only in requests to ``base_url``.
``generation()`` opens a generation request and, once OpenRouter accepted it,
hands every error raised while the answer is read to ``ChatAnswer.attach``, so
it carries ``may_be_charged``, the generation id and any cost that arrived.
Fetching generated images by URL lives in ``fetch``; how httpx failures and
stream error events become ``OpenRouterError`` in ``failures``.
"""

from __future__ import annotations

import functools
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import certifi
import httpx

from generation.openrouter import _coerce, failures
from generation.openrouter.answers import ChatAnswer
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import (
    ErrorKind,
    OpenRouterError,
    RequestInvalid,
    error_from_payload,
)
from generation.openrouter.sse import SSEDecoder, SSEError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
MiB = 1024 * 1024

# Generations take from seconds to over a minute and a half (4K, high
# quality): the read timeout is the longest silence we accept between bytes.
GENERATION_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=10.0)
# Discovery, /key and /generation answer quickly or not at all.
API_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
# Error bodies are small; a huge one is a proxy page, not an OpenRouter error.
_ERROR_BODY_LIMIT = MiB

# (host, port) -> addresses; tests inject one to refuse or allow image hosts.
Resolver = Callable[[str, int], Sequence[str]]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle, about 20 ms
    of CPU, which a client per job would otherwise pay every time."""
    return ssl.create_default_context(cafile=certifi.where())


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _json_default(value: object) -> object:
    # Form values may arrive as Decimal (e.g. image_config.strength).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(body: Mapping[str, Any]) -> bytes:
    text = json.dumps(
        body, default=_json_default, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode()


class Transport:
    """The HTTP plumbing shared by every protocol of ``OpenRouterClient``."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        referer: str | None = None,
        title: str = "Darkroom",
        timeout: httpx.Timeout = GENERATION_TIMEOUT,
        max_response_bytes: int = 64 * MiB,
        max_stream_bytes: int = 256 * MiB,
        max_duration: float = 600.0,
        generation_retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        resolver: Resolver | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url + "/")
        self._referer = referer
        self._title = title
        self._timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_stream_bytes = max_stream_bytes
        self.max_duration = max_duration
        self.generation_retry_delays = tuple(generation_retry_delays)
        # Called once per generation with its id as soon as it is known (the
        # header, else the first chunk), before the body is read: a caller that
        # dies mid-answer has already kept what reconciliation needs. It runs
        # on the reading thread and must not raise.
        self.on_generation_id: Callable[[str], None] | None = None
        self._resolver: Resolver = resolver or _system_resolver
        # The key is added per request, never as a client default, so a
        # request to another host can never carry it.
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            verify=_tls_context(),
            headers={"User-Agent": f"Darkroom (+{referer})" if referer else "Darkroom"},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": accept,
            "X-OpenRouter-Title": self._title,
            "X-Title": self._title,
        }
        if self._referer:
            headers["HTTP-Referer"] = self._referer
        return headers

    def _url(self, target: str) -> httpx.URL:
        return self._base.join(target)

    def _on_api_host(self, url: httpx.URL) -> bool:
        base = self._base
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def _same_origin(self, link: str) -> str:
        """A ``links.next`` target, only if it stays on OpenRouter's host."""
        url = self._base.join(link)
        if not self._on_api_host(url):
            raise OpenRouterError(
                ErrorKind.MALFORMED, f"refusing to follow a next link to {url.host}"
            )
        return str(url)

    @contextmanager
    def _open(
        self,
        method: str,
        target: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        stream: bool = False,
        may_charge: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> Iterator[httpx.Response]:
        """Send a request to the API; yield the 2xx response with its body unread."""
        headers = self._headers("text/event-stream" if stream else "application/json")
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            try:
                content = _dumps(body)
            except (TypeError, ValueError) as exc:
                raise RequestInvalid("params", f"cannot be sent as JSON: {exc}") from exc
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        request = self._http.build_request(
            method, self._url(target), content=content, params=params, headers=headers, **extra
        )
        del content
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise failures.transport_error(
                exc, may_charge=may_charge, secret=self._api_key
            ) from exc
        logger.debug(
            "OpenRouter %s %s -> %s in %.2fs",
            method,
            request.url.path,
            response.status_code,
            time.monotonic() - started,
        )
        try:
            if not 200 <= response.status_code < 300:
                raise self._status_error(response, may_charge=may_charge)
            yield response
        finally:
            response.close()

    @contextmanager
    def generation(
        self, target: str, body: Mapping[str, Any], *, stream: bool, answer: ChatAnswer
    ) -> Iterator[tuple[httpx.Response, Deadline]]:
        """POST a generation request bounded by ``max_duration``; yield the
        accepted response and its deadline.

        The wait for the headers is bounded by the read timeout cut to the time
        left; the body by the deadline's timer. From the first byte of an
        accepted answer the ``X-Generation-Id`` header is kept in ``answer``,
        and every ``OpenRouterError`` raised inside the block, including those
        of the caller's own reading, leaves through ``answer.attach``.
        """
        deadline = Deadline(self.max_duration)
        timeout = self._timeout
        read = timeout.read if timeout.read is not None else deadline.seconds
        bounded = httpx.Timeout(
            connect=timeout.connect,
            read=max(0.001, min(read, deadline.remaining())),
            write=timeout.write,
            pool=timeout.pool,
        )
        try:
            with self._open(
                "POST", target, body=body, stream=stream, may_charge=True, timeout=bounded
            ) as response:
                answer.on_generation_id = answer.on_generation_id or self.on_generation_id
                answer.learn_generation_id(response.headers.get("x-generation-id"))
                deadline.watch(response)
                try:
                    yield response, deadline
                except OpenRouterError as exc:
                    answer.attach(exc)
                    raise
                except httpx.HTTPError as exc:
                    raise answer.attach(
                        failures.body_error(exc, deadline, secret=self._api_key)
                    ) from exc
                finally:
                    deadline.cancel()
        except OpenRouterError as exc:
            if (
                exc.kind is ErrorKind.TIMEOUT
                and exc.may_be_charged
                and exc.status is None
                and not deadline.remaining()
            ):
                # The headers did not come before the deadline.
                exc.message = deadline.error().message
            raise

    def _get_json(
        self, target: str, *, params: Mapping[str, str | int] | None = None
    ) -> dict[str, Any]:
        deadline = Deadline(self.max_duration)
        with self._open("GET", target, params=params, timeout=API_TIMEOUT) as response:
            return self._read_json(response, may_charge=False, deadline=deadline)

    def _read_capped(self, response: httpx.Response, limit: int, deadline: Deadline) -> bytearray:
        """The (decompressed) body, refusing more than ``limit`` bytes. An answer
        that arrived whole is returned even if it completed past the deadline."""
        declared = _coerce.as_int(response.headers.get("content-length"))
        if declared is not None and declared > limit:
            raise OpenRouterError(
                ErrorKind.TOO_LARGE,
                f"response of {declared} bytes exceeds {limit}",
                retryable=False,
            )
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise OpenRouterError(
                    ErrorKind.TOO_LARGE, f"response exceeds {limit} bytes", retryable=False
                )
            deadline.check()
        # The connection goes back to the pool now: its timer must not shut it
        # under the next request (a tool image fetched from the same host).
        deadline.cancel()
        return body

    def _read_json(
        self, response: httpx.Response, *, may_charge: bool, deadline: Deadline
    ) -> dict[str, Any]:
        """Read and parse a 2xx JSON body; a body that is an error object raises."""
        try:
            body = self._read_capped(response, self.max_response_bytes, deadline)
        except OpenRouterError as exc:
            exc.may_be_charged = may_charge
            raise
        except httpx.HTTPError as exc:
            if may_charge:
                raise failures.body_error(exc, deadline, secret=self._api_key) from exc
            raise failures.transport_error(exc, may_charge=False, secret=self._api_key) from exc
        try:
            # Text first, bytes dropped, then parse: json.loads(bytes) would
            # hold the bytes, a decoded copy and the parsed strings at once.
            text = body.decode("utf-8")
            del body
            payload = _coerce.loads(text)
        except ValueError as exc:
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                f"unreadable JSON from OpenRouter ({exc.__class__.__name__}: {exc})",
                status=response.status_code,
                retryable=False,
                may_be_charged=may_charge,
            ) from None
        del text
        if not isinstance(payload, dict):
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                f"expected a JSON object, got {type(payload).__name__}",
                status=response.status_code,
                retryable=False,
                may_be_charged=may_charge,
            )
        error = payload.get("error")
        if isinstance(error, dict) and not payload.get("choices") and not payload.get("data"):
            # An error reported with HTTP 200 (it happened after the headers
            # were sent). Never retried: the attempt may have been billed.
            code = _coerce.as_int(error.get("code"))
            raise error_from_payload(
                code if code and 400 <= code < 600 else 502,
                payload,
                response.headers,
                secret=self._api_key,
                retryable=False,
                may_be_charged=may_charge,
            )
        return payload

    def _chunks(
        self, response: httpx.Response, deadline: Deadline
    ) -> Iterator[dict[str, Any] | None]:
        """The JSON objects of a generation stream, then ``None`` for ``[DONE]``.

        Each event's text is parsed and dropped before its object is yielded,
        so a multi-megabyte image exists once as text, not twice. Breaks after
        data started are never retryable: the generation may have been billed.
        """
        decoder = SSEDecoder(max_line_bytes=self.max_response_bytes)
        received = 0
        try:
            for piece in response.iter_bytes():
                received += len(piece)
                if received > self.max_stream_bytes:
                    raise OpenRouterError(
                        ErrorKind.TOO_LARGE,
                        f"stream exceeds {self.max_stream_bytes} bytes",
                        retryable=False,
                        may_be_charged=True,
                    )
                deadline.check()
                pending = decoder.feed(piece)
                pending.reverse()
                while pending:
                    event = pending.pop()
                    if event.is_done:
                        deadline.cancel()
                        yield None
                        return
                    chunk = failures.event_json(event)
                    del event
                    yield chunk
            deadline.cancel()
            for event in decoder.close():
                if event.is_done:
                    yield None
                    return
                try:
                    last = failures.event_json(event)
                except OpenRouterError:
                    # An event without its closing blank line at the end of
                    # input that does not parse: the stream was cut inside it.
                    raise OpenRouterError(
                        ErrorKind.INTERRUPTED,
                        "the stream was cut off inside an event",
                        retryable=False,
                        may_be_charged=True,
                    ) from None
                yield last
        except SSEError as exc:
            raise OpenRouterError(
                ErrorKind.TOO_LARGE, str(exc), retryable=False, may_be_charged=True
            ) from None
        except httpx.HTTPError as exc:
            raise failures.body_error(exc, deadline, secret=self._api_key) from exc

    def _status_error(self, response: httpx.Response, *, may_charge: bool) -> OpenRouterError:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            return OpenRouterError(
                ErrorKind.MALFORMED,
                f"unexpected redirect (HTTP {status}) to {location[:200]}",
                status=status,
                retryable=False,
                secret=self._api_key,
            )
        try:
            body = self._read_capped(response, _ERROR_BODY_LIMIT, Deadline(60))
        except (OpenRouterError, httpx.HTTPError):
            body = bytearray()
        try:
            payload = _coerce.loads(body)
        except ValueError:
            payload = None
        if not isinstance(_coerce.as_dict(payload).get("error"), dict):
            # A proxy's HTML page or a bare text: keep a short excerpt.
            excerpt = bytes(body[:200]).decode("utf-8", "replace").strip()
            payload = {"error": {"message": f"HTTP {status}: {excerpt}" if excerpt else None}}
        return error_from_payload(status, payload, response.headers, secret=self._api_key)


def is_event_stream(response: httpx.Response) -> bool:
    # Endpoints without streaming ignore stream=true and answer plain JSON.
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")
