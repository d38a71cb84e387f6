"""Celery's broker transport: kombu's Redis transport, made to survive Redis going away.

When the connection to Redis drops, the worker's consumer closes its channel
after the connection is already gone. Closing a channel puts the messages it
holds unacknowledged back on their queue, through that connection: kombu
then fails with ``AttributeError`` on the missing connection, which Celery
treats as unrecoverable, and the worker exits (its running generations
finish first, but it takes no new work until something restarts it).

A task that finishes after the connection was lost fails the same way when
it acknowledges its message on the old channel. Here a restore or an
acknowledgement that cannot reach Redis is logged and skipped instead. Nothing
is lost by skipping: the messages stay in Redis's set of unacknowledged ones
(if Redis kept them), from which the visibility timeout restores them, and the
database, not the broker, knows which jobs still have to run (the sweep
resends queued jobs and ends orphaned ones; see ``generation.services.sweep``).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)


_UNREACHABLE = (AttributeError, redis.RedisError, OSError)


class QoS(kombu_redis.QoS):
    def ack(self, delivery_tag: str) -> None:
        # A task that finished after the connection it came on was lost: its
        # message stays unacknowledged in Redis and comes back after the
        # visibility timeout, to a run_job that finds its job done and does nothing.
        try:
            super().ack(delivery_tag)
        except _UNREACHABLE as exc:
            logger.warning(
                "Could not acknowledge a message on a lost broker connection (%s)",
                type(exc).__name__,
            )

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)
        except _UNREACHABLE as exc:
            logger.warning(
                "Could not reject a message on a lost broker connection (%s)", type(exc).__name__
            )

    def restore_unacked(self, client: Any = None) -> None:
        try:
            super().restore_unacked(client)
        except _UNREACHABLE as exc:
            delivered = self._delivered
            logger.warning(
                "Could not put %d unacknowledged message(s) back on the queue while the "
                "broker connection was down (%s); the visibility timeout restores them",
                len(delivered or ()),
                type(exc).__name__,
            )
            if delivered is not None:
                delivered.clear()


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
