"""Django's cache reaches Redis through one client and connection pool per process."""

from __future__ import annotations

import threading
from typing import cast

import redis
from django.conf import settings
from django.core.cache import cache

from webapp.cache import SharedRedisCache

THREADS = 20


def _clients(client: redis.Redis) -> int:
    return len(client.client_list())


def test_threads_share_one_redis_pool_instead_of_a_connection_each() -> None:
    # Under ASGI every request's synchronous part runs on a thread of its own,
    # and each thread has its own cache object: they must not open their own pools.
    admin = redis.Redis.from_url(settings.REDIS_URL)
    cache.set("cache-test:warm", 1)
    before = _clients(admin)
    kept = []  # the threads' cache objects stay alive, as an open stream's do

    def request(number: int) -> None:
        from django.core.cache import caches

        kept.append(caches["default"])
        cache.set(f"cache-test:{number}", number)

    for number in range(THREADS):
        thread = threading.Thread(target=request, args=(number,))
        thread.start()
        thread.join()

    assert cache.get(f"cache-test:{THREADS - 1}") == THREADS - 1
    assert len({id(item) for item in kept}) == THREADS  # one cache object per thread
    assert (
        len({id(cast(SharedRedisCache, item)._cache) for item in kept}) == 1
    )  # but one client for them all
    assert _clients(admin) - before <= 1


def test_a_cache_elsewhere_gets_a_client_of_its_own() -> None:
    from django.core.cache.backends.redis import RedisCache

    here = SharedRedisCache(settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 2}})
    same = SharedRedisCache(settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 2}})
    other = SharedRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_timeout": 2}})
    assert isinstance(here, RedisCache)
    assert here._cache is same._cache
    assert other._cache is not here._cache
