"""Failure counters in the cache (Redis): too many failed sign-ins or bad
invitation links from one address, or against one username, lock that key for
the rest of a 15-minute window.

Only failures count, so people who sign in correctly are never slowed down.
The counter starts with ``add`` (which sets the window's expiry once) and
grows with ``incr``, both atomic in Redis, so concurrent attempts cannot slip
past the limit.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 15 * 60


def _key(scope: str, value: str) -> str:
    # Hashed: usernames and addresses never appear in Redis in the clear.
    return f"team:ratelimit:{scope}:" + hashlib.sha256(value.lower().encode()).hexdigest()[:32]


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def keys_for(request: HttpRequest, scope: str, username: str = "") -> list[str]:
    """The counters one attempt touches: the client's address, and the username when given."""
    keys = [_key(f"{scope}:ip", client_address(request))]
    if username:
        keys.append(_key(f"{scope}:user", username.strip()))
    return keys


def blocked(keys: list[str]) -> bool:
    """True when any of the counters has reached the limit."""
    counts = cache.get_many(keys)
    return any(int(count) >= settings.DARKROOM_LOGIN_ATTEMPTS for count in counts.values())


def fail(keys: list[str]) -> None:
    """Count one failure against each key."""
    for key in keys:
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr: start a new window
                cache.add(key, 1, WINDOW_SECONDS)


def clear(keys: list[str]) -> None:
    cache.delete_many(keys)


MESSAGE = "Too many failed attempts. Wait 15 minutes, then try again."
