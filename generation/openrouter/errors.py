"""The two exceptions the OpenRouter client raises.

``RequestInvalid`` is raised before anything is sent: the request cannot
succeed as written and nothing was charged. ``OpenRouterError`` covers
everything that went wrong talking to OpenRouter; its ``retryable`` flag is the
only thing a caller needs to decide whether to try again.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from contextlib import suppress
from decimal import Decimal
from enum import StrEnum
from typing import Any

from generation.openrouter import _coerce


class ErrorKind(StrEnum):
    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    CREDITS = "credits"
    MODERATION = "moderation"
    NOT_FOUND = "not_found"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    UPSTREAM = "upstream"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"
    STREAM_ERROR = "stream_error"
    MALFORMED = "malformed"
    NETWORK = "network"
    # OpenRouter accepted the generation request, then the answer was lost on the
    # way (cut-off body or stream, dropped connection): it may have been charged.
    INTERRUPTED = "interrupted"


# Transient unless the raiser knows better (a read timeout on a generation is
# a TIMEOUT that must not be retried: the provider may have finished and billed).
_RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.TIMEOUT,
        ErrorKind.RATE_LIMITED,
        ErrorKind.UPSTREAM,
        ErrorKind.UNAVAILABLE,
        ErrorKind.NETWORK,
    }
)

# Which limit a 402 (or 403 "Key limit exceeded") reports. The two wordings
# OpenRouter uses for a key's own cap name the key or its settings page;
# everything else is the account's balance.
_KEY_LIMIT_RE = re.compile(
    r"key limit|settings/keys|key with a higher|limit of (?:this|the) key", re.I
)
CREDITS_ACCOUNT = "account"
CREDITS_KEY = "key"

# Keys must never reach a message, a repr or a log line, even when a provider
# echoes a request back in its error text.
_SECRET_RE = re.compile(r"sk-or-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-.=]{20,}")
_REDACTED = "[redacted]"


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with ``secret`` and anything shaped like an API key removed."""
    if secret:
        text = text.replace(secret, _REDACTED)
    return _SECRET_RE.sub(_REDACTED, text)


def _redact_value(value: Any, secret: str | None) -> Any:
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {key: _redact_value(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_value(item, secret) for item in value]
    return value


class RequestInvalid(ValueError):
    """A request parameter that cannot work; raised before sending anything.

    ``field`` is the request field at fault in dotted form
    (``output_format``, ``image_config.text_layout[0].bbox``,
    ``provider.options.fal.steps``); ``message`` says what to change.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)  # args that rebuild it, for pickling
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    @property
    def user_message(self) -> str:
        return str(self)


class OpenRouterError(Exception):
    """Any failure while talking to OpenRouter.

    ``status`` is the HTTP status (for an error reported inside a 200 body,
    the code it carries). ``retryable`` is true only when the same request
    can succeed later *and* the failed attempt was not charged.
    ``may_be_charged`` is true when money may have been spent: every error
    raised after OpenRouter accepted a generation request (a refusal that
    still cost tokens, a cut-off body or stream, a stream error, an image that
    could not be fetched or read), unless the answer reported a cost of zero.
    ``cost`` is the ``usage.cost`` that arrived before the failure, if any;
    ``generation_id`` the ``gen-…`` id known by then (``X-Generation-Id``
    header or any chunk read), for ``GET /generation`` to confirm the charge.
    ``credits_scope`` says, for ``credits``, whether the ``"account"`` ran
    out of credits or the ``"key"`` reached its own limit. ``retry_after`` is
    in seconds. Messages and metadata are scrubbed of anything key-shaped.
    """

    # Errors pickled before this field existed unpickle without it.
    credits_scope: str | None = None

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        code: str | int | None = None,
        metadata: Mapping[str, Any] | None = None,
        provider: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        may_be_charged: bool = False,
        cost: Decimal | None = None,
        generation_id: str | None = None,
        credits_scope: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.kind = kind
        self.message = redact(message, secret)
        self.status = status
        self.code = code
        self.metadata: dict[str, Any] = _redact_value(dict(metadata or {}), secret)
        self.provider = provider
        self.retry_after = retry_after
        self.retryable = kind in _RETRYABLE_KINDS if retryable is None else retryable
        self.may_be_charged = may_be_charged
        self.cost = cost
        self.generation_id = generation_id
        self.credits_scope = credits_scope
        super().__init__(str(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the attributes (already redacted), not from args, so the
        # error survives pickling by Celery or a result backend.
        return (_restore_error, (self.__dict__.copy(),))

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.kind.value}{status}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"OpenRouterError(kind={self.kind.value!r}, status={self.status!r}, "
            f"code={self.code!r}, retryable={self.retryable!r}, message={self.message!r})"
        )

    @property
    def reasons(self) -> list[str]:
        """Moderation reasons (``metadata.reasons``), as strings."""
        return [str(reason) for reason in _coerce.as_list(self.metadata.get("reasons"))]

    @property
    def user_message(self) -> str:
        """Plain sentences a person can act on, each ending with a full stop;
        safe to show on a page (no key, no URL of a generated image). When the
        attempt may have been charged and the charge is unknown, it says so
        and advises against simply trying again."""
        text = _sentence(self._what_happened())
        if self.may_be_charged and self.cost is None and self.kind not in _SAYS_CHARGED:
            text += " It may have been charged, so do not simply try again."
        return text

    def _what_happened(self) -> str:
        provider = f" ({self.provider})" if self.provider else ""
        match self.kind:
            case ErrorKind.RATE_LIMITED:
                if self.retry_after is not None:
                    return (
                        "OpenRouter is rate limiting us; "
                        f"try again in {max(1, round(self.retry_after))} s."
                    )
                return "OpenRouter is rate limiting us; try again in a minute"
            case ErrorKind.CREDITS if self.credits_scope == CREDITS_KEY:
                return (
                    "The OpenRouter key has reached its spending limit. "
                    "Ask an admin to raise the key's limit in OpenRouter's key settings"
                )
            case ErrorKind.CREDITS:
                return (
                    "The OpenRouter account is out of credits. "
                    "Ask an admin to top up the account's credits on OpenRouter"
                )
            case ErrorKind.AUTH:
                return "OpenRouter refused the API key; check OPENROUTER_API_KEY"
            case ErrorKind.MODERATION:
                detail = ", ".join(self.reasons) or self.message
                return f"The prompt was refused by moderation: {detail}"
            case ErrorKind.REFUSED:
                return f"The model did not produce an image: {self.message}"
            case ErrorKind.NOT_FOUND:
                return f"OpenRouter has no such model or endpoint: {self.message}"
            case ErrorKind.BAD_REQUEST:
                return f"OpenRouter rejected the request{provider}: {self.message}"
            case ErrorKind.TOO_LARGE:
                return f"The request or its response is too large: {self.message}"
            case ErrorKind.TIMEOUT if not self.retryable:
                return (
                    "The generation took too long and was abandoned. It may still have "
                    "been charged, so do not simply try again"
                )
            case ErrorKind.TIMEOUT:
                return "OpenRouter timed out; try again"
            case ErrorKind.INTERRUPTED:
                return (
                    "The answer from OpenRouter was cut off before it arrived whole. "
                    "The generation may have been charged, so do not simply try again"
                )
            case ErrorKind.UPSTREAM if not self.retryable:
                return f"The image provider failed{provider}: {self.message}"
            case ErrorKind.UPSTREAM:
                return f"The image provider failed{provider}; try again"
            case ErrorKind.UNAVAILABLE:
                return "No provider can serve this model right now; try again later"
            case ErrorKind.STREAM_ERROR:
                return f"The generation failed part-way{provider}: {self.message}"
            case ErrorKind.MALFORMED:
                return "OpenRouter sent an answer we could not read"
            case ErrorKind.NETWORK:
                return "Could not reach OpenRouter; try again"
        return self.message  # pragma: no cover - every kind is matched above


# Kinds whose own message already says the attempt may have been charged.
_SAYS_CHARGED = frozenset({ErrorKind.TIMEOUT, ErrorKind.INTERRUPTED})


def _sentence(text: str) -> str:
    """``text`` ending with a full stop (texts from providers often lack one)."""
    text = text.strip()
    if not text:
        return text
    return text if text[-1] in ".!?" else f"{text}."


def _restore_error(state: dict[str, Any]) -> OpenRouterError:
    error = OpenRouterError.__new__(OpenRouterError)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error


# Kinds by HTTP status (OpenRouter's "Errors and limits"). 502 is retryable
# because /images billing is all-or-nothing and a failed generation is not
# charged; 524 is Cloudflare's idle timeout before any answer was produced.
_STATUS_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind.BAD_REQUEST,
    401: ErrorKind.AUTH,
    402: ErrorKind.CREDITS,
    403: ErrorKind.MODERATION,
    404: ErrorKind.NOT_FOUND,
    408: ErrorKind.TIMEOUT,
    413: ErrorKind.TOO_LARGE,
    429: ErrorKind.RATE_LIMITED,
    500: ErrorKind.UPSTREAM,
    502: ErrorKind.UPSTREAM,
    503: ErrorKind.UNAVAILABLE,
    524: ErrorKind.TIMEOUT,
    529: ErrorKind.UNAVAILABLE,
}


def credits_scope(message: str) -> str:
    """``"key"`` when a credits error names the key's own limit, else ``"account"``."""
    return CREDITS_KEY if _KEY_LIMIT_RE.search(message) else CREDITS_ACCOUNT


def kind_for_status(
    status: int, metadata: Mapping[str, Any] | None = None, message: str = ""
) -> ErrorKind:
    kind = _STATUS_KINDS.get(status)
    if status == 403 and _KEY_LIMIT_RE.search(message):
        # "Key limit exceeded (total limit)" comes as a 403 as well as a 402.
        return ErrorKind.CREDITS
    if kind is ErrorKind.MODERATION:
        # 403 also means "this key may not do that" (GET /credits with an
        # ordinary key); only a body naming moderation reasons is moderation.
        meta = metadata or {}
        if "reasons" not in meta and "flagged_input" not in meta:
            return ErrorKind.AUTH
    if kind is not None:
        return kind
    return ErrorKind.UPSTREAM if status >= 500 else ErrorKind.BAD_REQUEST


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date), else from
    ``X-RateLimit-Reset`` (epoch milliseconds). ``None`` when neither is usable.

    ``headers`` may be any mapping; names are matched case-insensitively.
    """
    now = time.time() if now is None else now
    headers = {key.lower(): value for key, value in headers.items()}
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    reset = _coerce.as_int(headers.get("x-ratelimit-reset"))
    if reset is not None:
        # OpenRouter sends epoch milliseconds; tolerate seconds too.
        reset_s = reset / 1000 if reset > 10_000_000_000 else float(reset)
        return max(0.0, reset_s - now)
    return None


def error_from_payload(
    status: int,
    payload: object,
    headers: Mapping[str, str] | None = None,
    *,
    secret: str | None = None,
    now: float | None = None,
    retryable: bool | None = None,
    may_be_charged: bool = False,
) -> OpenRouterError:
    """Map an HTTP status and a parsed error body to an ``OpenRouterError``.

    ``payload`` is the whole body (``{"error": {"code", "message", "metadata"}}``)
    or anything else a misbehaving proxy sent; ``metadata.raw`` given as a JSON
    string is parsed into an object so callers can read the provider's reason.
    """
    error = _coerce.as_dict(_coerce.as_dict(payload).get("error"))
    metadata = dict(_coerce.as_dict(error.get("metadata")))
    raw = metadata.get("raw")
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        with suppress(ValueError):
            metadata["raw"] = _coerce.loads(raw)
    code = error.get("code")
    message = _coerce.as_str(error.get("message")) or f"HTTP {status} from OpenRouter"
    kind = kind_for_status(status, metadata, message)
    retry_after = parse_retry_after(headers or {}, now=now)
    if kind is ErrorKind.RATE_LIMITED and retry_after is None:
        retry_after = _coerce.as_int(metadata.get("retry_after"))
    return OpenRouterError(
        kind,
        message,
        status=status,
        code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        metadata=metadata,
        provider=_coerce.as_str(metadata.get("provider_name")),
        retry_after=retry_after,
        retryable=retryable,
        may_be_charged=may_be_charged,
        credits_scope=credits_scope(message) if kind is ErrorKind.CREDITS else None,
        secret=secret,
    )
