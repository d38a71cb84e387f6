"""Job state changes, published through Redis for the pages that watch them.

Pub/sub delivers at most once and forgets across a Redis restart, so a message
only says "job X changed": every stream reads the job's state from the
database, on connect and on every message. Partial previews are small WebP
renders kept in the cache for an hour; the job row counts them.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "darkroom:job:"
# One message per deactivated account ({"user": id}): its open streams end.
SIGNED_OUT_CHANNEL = "darkroom:signed-out"
PREVIEW_TTL_SECONDS = 3600


def channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )


def publish(job_id: uuid.UUID | str, status: str) -> None:
    """Tell watchers the job changed. Best effort: a lost message is caught up by
    the stream's next read and by the polling fallback."""
    try:
        _client(settings.REDIS_URL).publish(
            channel(job_id), json.dumps({"job": str(job_id), "status": status})
        )
    except redis.RedisError:
        logger.warning("Could not publish progress for job %s", job_id, exc_info=True)


def publish_signed_out(user_id: int) -> None:
    """Tell every web process that ``user_id`` may no longer watch anything, so
    their open streams end now rather than when the page closes. Best effort:
    a lost message leaves a stream open only until it reconnects, which needs
    a session the deactivation already deleted."""
    try:
        _client(settings.REDIS_URL).publish(SIGNED_OUT_CHANNEL, json.dumps({"user": user_id}))
    except redis.RedisError:
        logger.warning("Could not announce that user %s was signed out", user_id, exc_info=True)


def preview_key(job_id: uuid.UUID | str, index: int) -> str:
    return f"darkroom:preview:{job_id}:{index}"


def store_preview(job_id: uuid.UUID | str, index: int, webp: bytes) -> bool:
    """Keep a preview render; False when the cache (Redis) is away. Best effort:
    a preview is a courtesy, and a Redis outage must never end a paid call."""
    try:
        django_cache.set(preview_key(job_id, index), webp, PREVIEW_TTL_SECONDS)
    except Exception:  # redis-py and the cache backend raise many types
        logger.warning("Could not keep preview %s of job %s", index, job_id, exc_info=True)
        return False
    return True


def load_preview(job_id: uuid.UUID | str, index: int) -> bytes | None:
    """A kept preview, or None when it expired. A cache that is away raises:
    the page answers 503 (``webapp.unavailable``), not "expired"."""
    value = django_cache.get(preview_key(job_id, index))
    return value if isinstance(value, bytes) else None
