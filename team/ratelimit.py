"""Failure counters in the cache (Redis): too many failed sign-ins or bad
invitation links from one address, or for one username from one address,
lock that key for the rest of a 15-minute window.

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


# An address alone may fail this many times the limit: it stops one machine
# trying many usernames without locking out a whole office behind one NAT.
ADDRESS_FACTOR = 5


def keys_for(request: HttpRequest, scope: str, username: str = "") -> list[str]:
    """The counters one attempt touches: the client's address, then (given a
    username) that username from that address. Locking a username everywhere
    would let anyone lock a colleague out, so it is counted per address."""
    address = client_address(request)
    keys = [_key(f"{scope}:ip", address)]
    if username:
        keys.append(_key(f"{scope}:user", f"{address} {username.strip()}"))
    return keys


def blocked(keys: list[str]) -> bool:
    """True when a counter has reached its limit (the address's is ADDRESS_FACTOR
    times ``DARKROOM_LOGIN_ATTEMPTS``, the others that)."""
    limit = settings.DARKROOM_LOGIN_ATTEMPTS
    counts = cache.get_many(keys)
    return any(
        int(counts.get(key, 0)) >= (limit * ADDRESS_FACTOR if index == 0 else limit)
        for index, key in enumerate(keys)
    )


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
