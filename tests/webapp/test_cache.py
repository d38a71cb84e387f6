"""Django's cache reaches Redis through one connection pool per process."""

from __future__ import annotations

import threading

import redis
from django.conf import settings
from django.core.cache import cache

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
    assert _clients(admin) - before <= 1
