"""A deactivated member's open live-progress streams close at once, under uvicorn;
everyone else's keep streaming."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.contrib.auth.models import User

from generation import progress
from generation.models import Job, Status
from generation.views import _render_initial
from team import members
from team.models import Role
from tests.concurrency import run_async
from tests.generation.conftest import catalog  # noqa: F401 - a fixture
from tests.generation.test_live import open_streams, read_event, session_cookie, waiting_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


def test_deactivation_closes_the_members_open_streams_and_no_one_elses(
    asgi_server: str, admin: User, make_member: Any
) -> None:
    nell = make_member("nell", Role.MEMBER)
    job = waiting_job(admin, "watched by two")
    query = f"jobs={job.pk}"

    async def scenario() -> tuple[str, str, list[str], str]:
        async with (
            open_streams(asgi_server, session_cookie(nell), query, 1) as (_, nell_streams),
            open_streams(asgi_server, session_cookie(admin), query, 1) as (_, admin_streams),
        ):
            ((nell_response, nell_lines),) = nell_streams
            ((admin_response, admin_lines),) = admin_streams
            nell_initial = await read_event(nell_response, nell_lines)
            admin_initial = await read_event(admin_response, admin_lines)

            await asyncio.to_thread(members.deactivate, admin, nell)
            # Bounded so that a stream left open fails the test instead of hanging it.
            nell_close = await asyncio.wait_for(read_event(nell_response, nell_lines), 30)
            # Nothing follows the close: the server ended the response.
            rest = [line async for line in nell_lines if line and not line.startswith(":")]

            Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, stage="Still watched")
            await asyncio.to_thread(progress.publish, job.pk, Status.RUNNING)
            return (
                nell_initial + admin_initial,
                nell_close,
                rest,
                (await read_event(admin_response, admin_lines)),
            )

    initial, nell_close, rest, admin_update = run_async(scenario())

    assert initial.count(f"event: job-{job.pk}") == 2
    assert nell_close.startswith("event: close")
    assert rest == []
    assert "Still watched" in admin_update


def test_a_stream_that_subscribed_after_the_deactivation_shows_nothing(
    admin: User, make_member: Any
) -> None:
    nell = make_member("nell", Role.MEMBER)
    job = waiting_job(admin, "seen before the deactivation")
    stale = User.objects.get(pk=nell.pk)  # as the stream's request read it
    assert _render_initial(stale, [job.pk])[0]

    members.deactivate(admin, nell)

    assert _render_initial(stale, [job.pk]) == ([], {})
