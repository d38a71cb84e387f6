"""Live progress for open pages: one Redis subscription per web process, fanned out.

Every open ``/events`` stream used to subscribe to Redis on its own, render the
card of every change itself and keep its request's database connection for as
long as the page stayed open, so a few dozen open pages exhausted a web
process's connection pool. Here one ``Hub`` per event loop (one per uvicorn
process) holds a single pattern subscription to every job channel and hands
each change to the streams watching that job. The first stream to need a
changed job's card renders it, on a worker thread that gives its database
connection back at once; every other stream of the process awaits that same
render and sends the same bytes. Cards asked for within ``BATCH_SECONDS`` of
each other are rendered together, from one read: when many jobs change at once
(a burst of 200), the process reads them in a few queries instead of one
connection checkout and two queries per job. Cards come in two variants, for viewers who
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
from collections.abc import AsyncIterator, Iterable
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

Change = uuid.UUID | str | None
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
        self._versions: dict[uuid.UUID, int] = {}
        self._renders: dict[uuid.UUID, tuple[int, asyncio.Task[dict[uuid.UUID, Card]]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event = asyncio.Event()
        self._batch: set[uuid.UUID] | None = None
        self._batch_task: asyncio.Task[dict[uuid.UUID, Card]] | None = None

    @property
    def streams(self) -> int:
        return len({queue for queues in self._watchers.values() for queue in queues})

    @asynccontextmanager
    async def watch(
        self, job_ids: Iterable[uuid.UUID], viewer_id: int | None = None
    ) -> AsyncIterator[asyncio.Queue[Change]]:
        """A queue that receives the id of each watched job that changes (``BROKEN``
        if the subscription fails, ``SIGNED_OUT`` when the account ``viewer_id``
        is deactivated). Subscribed before it is yielded, so a change made after
        the caller reads the current state is never missed."""
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
                    self._versions.pop(job_id, None)
                    self._renders.pop(job_id, None)
            if not self._watchers and self._reader is not None:
                # Nobody left to tell: drop the subscription until the next page opens.
                self._reader.cancel()
                self._reader = None

    async def card(self, job_id: uuid.UUID) -> Card | None:
        """The job's card as of its latest change, rendered once for every stream."""
        return (await self.cards([job_id])).get(job_id)

    async def cards(self, job_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Card]:
        """The cards of ``job_ids`` as of their latest changes (a job no longer
        there is left out), each rendered once for every stream of the process."""
        renders = {}
        for job_id in job_ids:
            version = self._versions.get(job_id, 0)
            entry = self._renders.get(job_id)
            if entry is None or entry[0] != version:
                entry = (version, self._render_soon(job_id))
                if job_id in self._watchers:  # cached only while someone watches
                    self._renders[job_id] = entry
            renders[job_id] = entry[1]
        found = {}
        for job_id, task in renders.items():
            card = (await asyncio.shield(task)).get(job_id)
            if card is not None:
                found[job_id] = card
        return found

    def _render_soon(self, job_id: uuid.UUID) -> asyncio.Task[dict[uuid.UUID, Card]]:
        """The render that will include ``job_id``: the one gathering now, or a new one."""
        if self._batch is None or self._batch_task is None:
            self._batch = set()
            self._batch_task = asyncio.get_running_loop().create_task(self._render_batch())
        self._batch.add(job_id)
        return self._batch_task

    async def _render_batch(self) -> dict[uuid.UUID, Card]:
        await asyncio.sleep(BATCH_SECONDS)
        ids, self._batch, self._batch_task = self._batch or set(), None, None
        return await sync_to_async(render_cards, thread_sensitive=False)(ids)

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
        watchers = self._watchers.get(job_id)
        if not watchers:
            return
        self._versions[job_id] = self._versions.get(job_id, 0) + 1
        for queue in watchers:
            queue.put_nowait(job_id)

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
