"""One Redis connection pool per process for Django's cache.

Django gives each thread (under ASGI: each request's context) a cache object of
its own, and its Redis client builds a connection pool per object, which it
never closes. Under uvicorn every request runs its synchronous parts on a new
thread, so each request opened a Redis connection of its own, and an open
live-progress stream (hours long) kept its connection and pool: a second file
descriptor and about 15 KB per open page. This pool class, named in
``CACHES["default"]["OPTIONS"]["pool_class"]``, hands every cache object of the
process the same pool (redis-py pools are thread-safe and reset themselves in
a forked child).
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import redis

# Options that differ per cache object without changing the connection.
_PER_OBJECT = frozenset({"driver_info", "lib_name"})


class SharedConnectionPool(redis.ConnectionPool):
    _shared: ClassVar[dict[tuple[str, ...], redis.ConnectionPool]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        key = (
            url,
            *(f"{name}={kwargs[name]!r}" for name in sorted(kwargs) if name not in _PER_OBJECT),
        )
        with cls._shared_lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool
