"""Django's Redis cache with one client (and so one connection pool) per process.

Django gives each thread (under ASGI: each request's context) a cache object of
its own, and each object builds its own Redis client. Under uvicorn every
request runs its synchronous parts on a new thread, so every request paid for
a new client: Django's client reads redis-py's installed version from the
package metadata (a file parse, about a tenth of a submit's CPU) and opens a
connection pool of its own, which it never closes, so an open live-progress
stream (hours long) kept a Redis connection and its pool: a second file
descriptor and about 15 KB per open page. This backend, named in
``CACHES["default"]["BACKEND"]``, hands every cache object of the process the
same client: Django's client and redis-py's pools are thread-safe, and a pool
resets itself in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedRedisCache(RedisCache):
    _clients: ClassVar[dict[tuple[str, ...], RedisCacheClient]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()
    # Set by Django's RedisCache.__init__ (its stubs do not declare them).
    _servers: list[str]
    _options: dict[str, Any]
    _class: type[RedisCacheClient]

    @cached_property
    def _cache(self) -> Any:
        key = (
            *self._servers,
            *(f"{name}={value!r}" for name, value in sorted(self._options.items())),
        )
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(self._servers, **self._options)
            return client
