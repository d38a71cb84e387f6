"""Live progress under uvicorn: open streams hold no database connection, one change
reaches every stream, and each viewer gets the card's actions they may use."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client

from generation import live, progress
from generation.models import Job, Status
from tests.concurrency import run_async
from tests.generation.conftest import job_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]

STREAMS = 30  # more than the web process's pool of 20 connections


def waiting_job(user: User, prompt: str, *, private: bool = False) -> Job:
    """A queued job no worker will take: written straight to the table, never enqueued."""
    request = job_request("openai/gpt-image-1", prompt, private=private)
    return Job.objects.create(
        author=user,
        model=request.model,
        model_slug=request.model.slug,
        style=request.style,
        prompt=prompt,
        is_private=private,
    )


def session_cookie(user: User) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


async def read_event(response: httpx.Response, lines: Any) -> str:
    """The next whole SSE event (comments skipped) from an open stream."""
    event: list[str] = []
    async for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if event:
                return "\n".join(event)
            continue
        event.append(line)
    return "\n".join(event)


@contextlib.asynccontextmanager
async def open_streams(base_url: str, cookies: dict[str, str], query: str, count: int) -> Any:
    async with (
        httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=60) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        streams = []
        for _ in range(count):
            response = await stack.enter_async_context(client.stream("GET", f"/events?{query}"))
            assert response.status_code == 200
            streams.append((response, response.aiter_lines()))
        yield client, streams


def test_thirty_open_streams_leave_the_pool_free_and_all_get_one_change(
    asgi_server: str, user: User
) -> None:
    job = waiting_job(user, "watched by many")

    async def scenario() -> tuple[int, list[str]]:
        async with open_streams(asgi_server, session_cookie(user), f"jobs={job.pk}", STREAMS) as (
            client,
            streams,
        ):
            initial = await asyncio.gather(*(read_event(r, lines) for r, lines in streams))
            assert all(f"event: job-{job.pk}" in event for event in initial)
            # Every stream is open and has read the database: a page still gets a connection.
            page = await client.get("/")
            Job.objects.filter(pk=job.pk).update(
                status=Status.FAILED, error_message="Stopped for the test."
            )
            await asyncio.to_thread(progress.publish, job.pk, Status.FAILED)
            updates = await asyncio.gather(*(read_event(r, lines) for r, lines in streams))
            return page.status_code, updates

    status, updates = run_async(scenario())

    assert status == 200
    assert len(updates) == STREAMS
    assert all("Stopped for the test." in update for update in updates), updates[:1]
    assert len(set(updates)) == 1  # rendered once, the same bytes for every stream


def test_each_viewer_gets_the_actions_they_may_use(
    asgi_server: str, user: User, make_user: Any
) -> None:
    other = make_user("someone-else")
    shared = waiting_job(user, "a shared job")
    private = waiting_job(user, "a private job", private=True)
    query = f"jobs={shared.pk},{private.pk}"

    async def watch(viewer: User) -> tuple[list[str], str]:
        async with open_streams(asgi_server, session_cookie(viewer), query, 1) as (_, streams):
            ((response, lines),) = streams
            initial = [await read_event(response, lines)]
            if viewer == user:
                initial.append(await read_event(response, lines))
            Job.objects.filter(pk=shared.pk).update(status=Status.RUNNING, stage="Working")
            await asyncio.to_thread(progress.publish, shared.pk, Status.RUNNING)
            return initial, await read_event(response, lines)

    author_initial, author_update = run_async(watch(user))
    other_initial, other_update = run_async(watch(other))

    assert len(author_initial) == 2  # both jobs, the private one included
    assert "Cancel" in author_update
    assert "Working" in author_update
    assert len(other_initial) == 1
    assert str(private.pk) not in other_initial[0]
    assert "Working" in other_update
    assert "Cancel" not in other_update


def test_cancel_through_htmx_answers_with_the_card(user: User, user_client: Client) -> None:
    job = waiting_job(user, "cancel me")

    response = user_client.post(f"/jobs/{job.pk}/cancel", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert f'id="job-{job.pk}"' in response.text
    assert 'data-status="canceled"' in response.text


def _server_threads(base_url: str) -> int:
    """Threads of the uvicorn process serving ``base_url`` (found by its --port)."""
    port = base_url.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            if b"uvicorn" in b" ".join(args) and port.encode() in args:
                status = (cmdline.parent / "status").read_text()
                return int(
                    next(
                        line for line in status.splitlines() if line.startswith("Threads:")
                    ).split()[1]
                )
    raise AssertionError(f"no uvicorn process on port {port}")


def test_open_streams_hold_no_thread_each(asgi_server: str, user: User) -> None:
    job = waiting_job(user, "watched without threads")

    async def scenario() -> int:
        async with open_streams(asgi_server, session_cookie(user), f"jobs={job.pk}", STREAMS) as (
            _,
            streams,
        ):
            await asyncio.gather(*(read_event(r, lines) for r, lines in streams))
            return _server_threads(asgi_server)

    # Django runs each request's sync middleware on a thread kept until the
    # response ends; an open stream gives it back (generation.live.release_request_thread).
    assert run_async(scenario()) < STREAMS


def test_cards_asked_for_together_are_rendered_from_one_read(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = [waiting_job(user, f"changed at once {index}") for index in range(3)]
    reads: list[set[Any]] = []
    render = live.render_cards

    def counting(job_ids: Any) -> Any:
        ids = set(job_ids)
        reads.append(ids)
        return render(ids)

    monkeypatch.setattr(live, "render_cards", counting)

    async def scenario() -> list[Any]:
        hub = live.Hub()
        async with hub.watch([job.pk for job in jobs]) as changes:
            for job in jobs:
                hub.changed(job.pk)
            delivered = [await changes.get()]
            while not changes.empty():  # all of one render, delivered together
                delivered.append(changes.get_nowait())
            return delivered

    cards = {card.job_id: card for card in run_async(scenario())}

    assert set(cards) == {job.pk for job in jobs}
    assert reads == [{job.pk for job in jobs}]
    assert "changed at once 2" in cards[jobs[2].pk].for_watchers


def test_a_card_that_cannot_be_rendered_ends_its_streams(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = waiting_job(user, "the database went away")

    def failing(job_ids: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(live, "render_cards", failing)

    async def scenario() -> Any:
        hub = live.Hub()
        async with hub.watch([job.pk]) as changes:
            hub.changed(job.pk)
            return await asyncio.wait_for(changes.get(), 10)

    assert run_async(scenario()) is live.BROKEN  # the page reconnects and reads again


def test_cards_reach_a_stream_in_the_order_of_the_changes(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = waiting_job(user, "changed twice")
    render = live.render_cards
    statuses = iter(["running", "succeeded"])

    def changing(job_ids: Any) -> Any:
        Job.objects.filter(pk=job.pk).update(status=next(statuses))
        return render(job_ids)

    monkeypatch.setattr(live, "render_cards", changing)

    async def scenario() -> list[Any]:
        hub = live.Hub()
        async with hub.watch([job.pk]) as changes:
            hub.changed(job.pk)
            first = await changes.get()
            hub.changed(job.pk)  # a second change after the first render
            return [first, await changes.get()]

    first, second = run_async(scenario())
    assert (first.is_final, second.is_final) == (False, True)
