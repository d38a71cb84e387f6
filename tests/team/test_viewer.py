"""A viewer browses but never spends: not through pages, the API or a token; and
roles decide who gets a job's actions in the event stream."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from generation import live, services
from generation.models import Job, Status
from team.models import Role
from tests.costs.conftest import make_job
from tests.generation.conftest import catalog, job_request  # noqa: F401 - fixture
from webapp import permissions, tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

BODY = {"prompt": "a lighthouse at dusk", "model": "openai/gpt-image-1"}


def viewer_client(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


def test_a_viewer_cannot_generate_on_the_page(viewer: User) -> None:
    client = viewer_client(viewer)

    page = client.get("/", follow=True)
    refused = client.post(
        "/", {"prompt": "a boat", "model": "openai/gpt-image-1", "style": "images"}
    )

    assert page.redirect_chain[0][0] == "/gallery/"  # a viewer's home is the gallery
    assert "Your role is viewer" in page.text
    nav = page.text.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    assert "Generate" not in nav
    assert "Gallery" in nav
    assert refused.status_code == 403
    assert "Your role is viewer" in refused.text
    assert not Job.objects.exists()


def test_a_viewer_cannot_generate_through_the_api_with_a_session(viewer: User) -> None:
    client = viewer_client(viewer)
    client.get("/profile/")

    response = client.post(
        "/api/v1/jobs",
        json.dumps(BODY),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "forbidden"
    assert "Your role is viewer" in response.json()["error"]["message"]
    assert not Job.objects.exists()


def test_a_viewer_cannot_generate_with_an_api_token(viewer: User) -> None:
    _, raw = tokens.create(viewer, "script")
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    response = client.post("/api/v1/jobs", json.dumps(BODY), content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/jobs").status_code == 200  # reading is fine
    assert not Job.objects.exists()


def test_a_member_turned_viewer_cannot_retry_their_old_job(make_member: Any) -> None:
    kim = make_member("kim", Role.MEMBER)
    failed = make_job(kim, status=Status.FAILED, actual=None)
    kim.membership.role = Role.VIEWER
    kim.membership.save()
    client = Client()
    client.force_login(kim)

    assert client.post(f"/jobs/{failed.pk}/retry").status_code == 403
    with pytest.raises(permissions.SpendingNotAllowed):
        services.retry(failed, kim)
    assert Job.objects.count() == 1


def test_the_service_itself_refuses_a_viewer(viewer: User) -> None:
    with pytest.raises(permissions.SpendingNotAllowed):
        services.submit(viewer, [job_request("openai/gpt-image-1", "a cat")])
    assert not Job.objects.exists()


def test_a_viewer_cannot_sync_the_catalog(viewer: User) -> None:
    assert viewer_client(viewer).post("/models/sync/").status_code == 403


def test_members_and_admins_still_generate(make_member: Any) -> None:
    for role in (Role.MEMBER, Role.ADMIN):
        person = make_member(f"p-{role}", role)
        _, raw = tokens.create(person, "script")
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        response = client.post("/api/v1/jobs", json.dumps(BODY), content_type="application/json")
        assert response.status_code == 201, response.content


def test_the_event_stream_gives_actions_by_role(make_member: Any, viewer: User) -> None:
    lou = make_member("lou", Role.MEMBER)
    boss = make_member("boss2", Role.ADMIN)
    other = make_member("max", Role.MEMBER)
    job = make_job(lou, status=Status.RUNNING, actual=None)
    # As live.render_cards builds it (which gives its connection back: not in a test transaction).
    card = live.Card(job.pk, job.author_id, False, False, "with actions", "without")

    assert card.event_for(lou) == card.for_actors
    assert card.event_for(boss) == card.for_actors
    assert card.event_for(other) == card.for_watchers
    assert card.event_for(viewer) == card.for_watchers
    lou.membership.role = Role.VIEWER
    lou.membership.save()
    lou.refresh_from_db()
    assert card.event_for(lou) == card.for_watchers  # a viewer cancels nothing
    lou.is_active = False
    assert card.event_for(lou) is None  # deactivated: the stream sends nothing more
