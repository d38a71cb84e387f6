"""The one reader of the environment: typed helpers that fail loudly on bad values.

Every helper raises ``ImproperlyConfigured`` naming the variable and what it
accepts, so a value that cannot work stops start-up with a message an
operator can act on instead of failing later, job by job.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def string(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def required(name: str, why: str) -> str:
    value = string(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


def boolean(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {raw!r}")


def integer(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    unit: str = "",
) -> int:
    """The variable as a whole number within ``minimum``..``maximum`` (inclusive).

    Unset or empty gives ``default``, which is not checked against the range.
    """
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        suffix = f" {unit}" if unit else ""
        if minimum is not None and maximum is not None:
            accepted = f"between {minimum} and {maximum}{suffix}"
        elif minimum is not None:
            accepted = f"at least {minimum}{suffix}"
        else:
            accepted = f"at most {maximum}{suffix}"
        raise ImproperlyConfigured(f"{name} must be {accepted}, not {raw.strip()!r}")
    return value


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """The variable as one of ``choices`` (compared in lower case)."""
    value = string(name, default).lower() or default
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(choices)}, not {os.environ.get(name, '')!r}"
        )
    return value


def http_url(name: str, default: str) -> str:
    """The variable as an absolute http(s) URL without a trailing slash."""
    value = string(name, default) or default
    parsed = urlparse(value)
    try:
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parsed = urlparse("")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an absolute http:// or https:// URL such as "
            f"https://darkroom.example.com, not {value!r}"
        )
    return value.rstrip("/")


def csv(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in string(name, default).split(",") if item.strip()]
