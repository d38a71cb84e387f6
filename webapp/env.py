"""The one reader of the environment: typed helpers that fail loudly on bad values."""

from __future__ import annotations

import os

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


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def csv(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in string(name, default).split(",") if item.strip()]
