"""Live progress for open pages: one Redis subscription per web process, fanned out.

Every open ``/events`` stream used to subscribe to Redis on its own, render the
card of every change itself and keep its request's database connection for as
long as the page stayed open, so a few dozen open pages exhausted a web
process's connection pool. Here one ``Hub`` per event loop (one per uvicorn
process) holds a single pattern subscription to every job channel. A change
of a watched job is rendered once per process, on a worker thread that gives
its database connection back at once, and the finished card is handed to every
stream watching the job: a stream only writes the bytes it is given. Changes
that arrive within ``BATCH_SECONDS`` of each other are rendered together, from
one read, and delivered together, so a stream watching several jobs of one
burst (200 jobs changing at once) writes once. Renders run one after another,
so a stream never gets a card older than one it already sent. Cards come in two variants, for viewers who
may act on the job (its author and admins: Cancel, Retry) and for those who may
only watch; a private job is shown only to the first kind.

A deactivated account's streams end at once: the deactivation publishes the
account on ``progress.SIGNED_OUT_CHANNEL`` (the same subscription hears it), and
each of that person's streams is told ``SIGNED_OUT``; nothing is read per
message to learn it.

Redis pub/sub forgets across a restart, so a stream still sends every job's
current state from the database on connect (see ``generation.views.events``);
when the subscription breaks, every stream is told and ends, and the page
reconnects (and polls meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from asgiref.sync import SyncToAsync, sync_to_async
from django import db
from django.conf import settings
from django.template.loader import render_to_string

from generation import progress
from generation.models import Job
from webapp import permissions

logger = logging.getLogger(__name__)

# Put on a stream's queue when the subscription is gone: the stream ends.
BROKEN = None
# Put on a stream's queue when its viewer's account was deactivated: the stream closes.
SIGNED_OUT = "signed-out"
# How long a render waits for other cards to join it: short beside the 250 ms a
# change may take to reach a page, long enough to gather one burst of messages.
BATCH_SECONDS = 0.005


@dataclass(frozen=True)
class Card:
    """One job's card as SSE events, rendered once per change for all viewers."""

    job_id: uuid.UUID
    author_id: int | None
    is_private: bool
    is_final: bool
    for_actors: str  # the author's and staff's variant, with the job's actions
    for_watchers: str  # everyone else's

    def may_act(self, user: Any) -> bool:
        return permissions.can_manage(user, self)

    def event_for(self, user: Any) -> str | None:
        """The event this viewer gets, or None when the job is not theirs to see
        (a private job), or the viewer's account is deactivated."""
        if not getattr(user, "is_active", False):
            return None
        if self.may_act(user):
            return self.for_actors
        return None if self.is_private else self.for_watchers


# What a stream's queue carries: a changed job's card, ``BROKEN`` or ``SIGNED_OUT``.
Change = Card | str | None


def sse(event: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


def release_request_thread() -> None:
    """End the thread Django keeps for this request's synchronous parts.

    Under ASGI each request runs its sync middleware on a thread of its own
    (asgiref's per-request "thread-sensitive" executor), kept until the
    response ends: an hour-long stream would hold an idle thread, its stack
    and a descriptor the whole time. A stream calls this once the middleware
    has run; a later sync call of the request simply starts a new thread,
    which Django ends with the request. Nothing happens where asgiref keeps
    these executors differently (the names are asgiref's own).
    """
    context_var = getattr(SyncToAsync, "thread_sensitive_context", None)
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)
    context = context_var.get(None) if context_var is not None else None
    if context is None or executors is None or getattr(context, "_executor", None) is not None:
        return  # no per-request executor, or one its caller owns
    executor = executors.pop(context, None)
    if executor is not None:
        executor.shutdown(wait=False)  # idle by now: its thread ends at once


def render_cards(job_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Card]:
    """Both variants of each job's card, from one read; the database connection
    this thread took is given back before returning (it is a pool's, and an
    open page must not hold one)."""
    try:
        jobs = (
            Job.objects.filter(pk__in=list(job_ids))
            .select_related("model", "author")
            .prefetch_related("images")
        )
        cards = {}
        for job in jobs:
            event = f"job-{job.pk}"
            cards[job.pk] = Card(
                job_id=job.pk,
                author_id=job.author_id,
                is_private=job.is_private,
                is_final=job.is_final,
                for_actors=sse(
                    event,
                    render_to_string("generation/_job_card.html", {"job": job, "can_act": True}),
                ),
                for_watchers=sse(
                    event,
                    render_to_string("generation/_job_card.html", {"job": job, "can_act": False}),
                ),
            )
        return cards
    finally:
        db.connection.close()


class Hub:
    """The streams of one event loop and the one subscription that feeds them."""

    def __init__(self) -> None:
        self._watchers: dict[uuid.UUID, set[asyncio.Queue[Change]]] = {}
        self._viewers: dict[int, set[asyncio.Queue[Change]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event = asyncio.Event()
        self._changed: set[uuid.UUID] = set()
        self._renderer: asyncio.Task[None] | None = None

    @property
    def streams(self) -> int:
        return len({queue for queues in self._watchers.values() for queue in queues})

    @asynccontextmanager
    async def watch(
        self, job_ids: Iterable[uuid.UUID], viewer_id: int | None = None
    ) -> AsyncIterator[asyncio.Queue[Change]]:
        """A queue that receives the new ``Card`` of each watched job that changes
        (``BROKEN`` if the subscription fails or a card cannot be rendered,
        ``SIGNED_OUT`` when the account ``viewer_id`` is deactivated). Subscribed
        before it is yielded, so a change made after the caller reads the current
        state is never missed."""
        queue: asyncio.Queue[Change] = asyncio.Queue()
        ids = list(job_ids)
        for job_id in ids:
            self._watchers.setdefault(job_id, set()).add(queue)
        if viewer_id is not None:
            self._viewers.setdefault(viewer_id, set()).add(queue)
        try:
            await self._ensure_reader()
            yield queue
        finally:
            if viewer_id is not None:
                queues = self._viewers.get(viewer_id, set())
                queues.discard(queue)
                if not queues:
                    self._viewers.pop(viewer_id, None)
            for job_id in ids:
                watchers = self._watchers.get(job_id)
                if watchers is None:
                    continue
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[job_id]
            if not self._watchers and self._reader is not None:
                # Nobody left to tell: drop the subscription until the next page opens.
                self._reader.cancel()
                self._reader = None

    def changed(self, job_id: uuid.UUID) -> None:
        """Note a change of ``job_id``: its card is rendered soon and handed to
        every stream then watching it (nothing happens for an unwatched job)."""
        if job_id not in self._watchers:
            return
        self._changed.add(job_id)
        if self._renderer is None or self._renderer.done():
            self._renderer = asyncio.get_running_loop().create_task(self._render_changes())

    async def _render_changes(self) -> None:
        """Render what changed, in batches, until nothing is left; one batch at a
        time, so that cards reach each stream in the order of the reads."""
        while self._changed:
            await asyncio.sleep(BATCH_SECONDS)  # let the rest of a burst arrive
            ids, self._changed = self._changed, set()
            try:
                cards = await sync_to_async(render_cards, thread_sensitive=False)(ids)
            except Exception:
                # The database is away: the pages reconnect, and read again then.
                logger.warning("Could not render changed job cards", exc_info=True)
                self._tell(ids, lambda _job_id: BROKEN)
                continue
            self._tell(cards, cards.__getitem__)

    def _tell(self, job_ids: Iterable[uuid.UUID], item: Callable[[uuid.UUID], Change]) -> None:
        for job_id in job_ids:
            for queue in self._watchers.get(job_id, ()):
                queue.put_nowait(item(job_id))

    async def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._subscribed = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read())
        subscribed = asyncio.ensure_future(self._subscribed.wait())
        done, _ = await asyncio.wait(
            {subscribed, self._reader}, return_when=asyncio.FIRST_COMPLETED
        )
        if subscribed not in done:
            subscribed.cancel()
            raise ConnectionError("the progress channel is unavailable")

    async def _read(self) -> None:
        client = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT
        )
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(f"{progress.CHANNEL_PREFIX}*")
            await pubsub.subscribe(progress.SIGNED_OUT_CHANNEL)
            self._subscribed.set()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                if message is None:
                    continue
                if message.get("type") == "pmessage":
                    self._dispatch(message["data"])
                elif message.get("type") == "message":
                    self._sign_out(message["data"])
        except (OSError, aioredis.RedisError):
            logger.warning("Progress subscription lost; open pages will reconnect", exc_info=True)
            for queues in list(self._watchers.values()):
                for queue in queues:
                    queue.put_nowait(BROKEN)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()

    def _dispatch(self, data: bytes | str) -> None:
        try:
            job_id = uuid.UUID(json.loads(data)["job"])
        except (ValueError, KeyError, TypeError):
            return
        self.changed(job_id)

    def _sign_out(self, data: bytes | str) -> None:
        try:
            user_id = int(json.loads(data)["user"])
        except (ValueError, KeyError, TypeError):
            return
        for queue in self._viewers.get(user_id, ()):
            queue.put_nowait(SIGNED_OUT)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The hub of the running event loop (one per web process under uvicorn)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub()
    return found
