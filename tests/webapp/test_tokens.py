"""Personal API tokens: made and revoked on the profile page, stored hashed,
accepted as a bearer token on any URL, refused when unknown or revoked."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.concurrency import run_async
from webapp import tokens
from webapp.middleware import ApiTokenMiddleware
from webapp.models import ApiToken

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"drk_[A-Za-z0-9_-]{43}")


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_profile_creates_a_token_shown_once_and_stored_only_as_its_hash(
    user_client: Client, user: User
) -> None:
    response = user_client.post("/profile/", {"name": "laptop script"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = TOKEN.search(response.text)
    assert raw is not None
    token = ApiToken.objects.get(user=user)
    assert token.name == "laptop script"
    assert token.prefix == raw.group()[:8]
    assert token.digest == hashlib.sha256(raw.group().encode()).hexdigest()
    assert raw.group() not in {token.name, token.prefix, token.digest}

    listing = user_client.get("/profile/").text
    assert TOKEN.search(listing) is None
    assert "laptop script" in listing
    assert f"{token.prefix}…" in listing
    assert "never" in listing  # not used yet


def test_token_needs_a_name(user_client: Client) -> None:
    response = user_client.post("/profile/", {"name": "  "})

    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not ApiToken.objects.exists()


def test_live_tokens_are_listed_before_revoked_ones(user_client: Client, user: User) -> None:
    old, _ = tokens.create(user, "old script")
    tokens.revoke(old)
    tokens.create(user, "new script")

    page = user_client.get("/profile/").text

    assert page.index("new script") < page.index("old script")
    assert "revoked" in page


def test_tokens_are_listed_only_to_their_owner(
    user_client: Client, make_user: Any, user: User
) -> None:
    tokens.create(make_user("bob"), "bob's secret script")
    tokens.create(user, "alice's script")

    page = user_client.get("/profile/").text

    assert "alice&#x27;s script" in page
    assert "bob" not in page


def test_revoking_on_the_profile_page_stops_the_token(user_client: Client, user: User) -> None:
    token, raw = tokens.create(user, "ci")
    assert Client(headers=bearer(raw)).get("/profile/").status_code == 200

    response = user_client.post(f"/profile/tokens/{token.pk}/revoke", follow=True)

    assert response.status_code == 200
    assert "Revoked “ci”" in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client(headers=bearer(raw)).get("/profile/").status_code == 401
    again = user_client.post(f"/profile/tokens/{token.pk}/revoke", follow=True)
    assert "was revoked already" in again.text


def test_nobody_revokes_someone_elses_token(user_client: Client, make_user: Any) -> None:
    token, _ = tokens.create(make_user("bob"), "bob's")

    assert user_client.post(f"/profile/tokens/{token.pk}/revoke").status_code == 404
    assert user_client.get(f"/profile/tokens/{token.pk}/revoke").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_form_needs_csrf(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.post("/profile/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_bearer_token_logs_in_on_any_page(user: User) -> None:
    _, raw = tokens.create(user, "script")

    response = Client(headers=bearer(raw)).get("/profile/")

    assert response.status_code == 200
    assert "alice" in response.text


@pytest.mark.parametrize(
    "header",
    [
        "Bearer drk_notarealtokenatall",
        "Bearer not-even-our-format",
        "Bearer ",
        "bearer drk_" + "x" * 43,
    ],
)
def test_unknown_tokens_are_refused_with_json_everywhere(header: str) -> None:
    for path in ("/profile/", "/api/v1/jobs", "/healthz"):
        response = Client(headers={"Authorization": header}).get(path)

        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.json()["error"]["message"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_a_deactivated_user_is_refused(user: User) -> None:
    _, raw = tokens.create(user, "script")
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert Client(headers=bearer(raw)).get("/profile/").status_code == 401


def test_other_authorization_schemes_are_left_to_the_session() -> None:
    response = Client(headers={"Authorization": "Basic YWxpY2U6cHc="}).get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_last_used_is_written_at_most_once_a_minute(user: User) -> None:
    token, raw = tokens.create(user, "poller")
    client = Client(headers=bearer(raw))

    client.get("/profile/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/profile/")
    token.refresh_from_db()
    assert token.last_used_at == first

    earlier = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    client.get("/profile/")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > earlier + timedelta(minutes=1)


def test_repeated_requests_within_the_minute_do_not_write(
    user: User, django_assert_num_queries: Any
) -> None:
    _, raw = tokens.create(user, "poller")
    tokens.authenticate(raw)

    with django_assert_num_queries(1):  # the lookup, no UPDATE
        assert tokens.authenticate(raw) is not None


@pytest.mark.django_db(transaction=True)
def test_the_middleware_also_works_for_async_views(user: User) -> None:
    _, raw = tokens.create(user, "async")
    seen: list[Any] = []

    async def view(request: HttpRequest) -> HttpResponse:
        seen.append(await request.auser())
        return HttpResponse("ok")

    middleware = ApiTokenMiddleware(view)
    good = RequestFactory().get("/events", headers=bearer(raw))
    bad = RequestFactory().get("/events", headers=bearer("drk_nope"))

    try:
        assert run_async(middleware(good)).status_code == 200
        assert seen[0].pk == user.pk
        assert getattr(good, "_dont_enforce_csrf_checks", False) is True
        assert run_async(middleware(bad)).status_code == 401
    finally:
        # The lookup ran on asgiref's worker thread: close that thread's connection.
        run_async(sync_to_async(connections.close_all)())


def test_admin_lists_tokens_without_their_secret_and_revokes_them(
    staff_client: Client, user: User
) -> None:
    token, raw = tokens.create(user, "ci")

    listing = staff_client.get("/admin/webapp/apitoken/")
    detail = staff_client.get(f"/admin/webapp/apitoken/{token.pk}/change/")

    assert listing.status_code == 200
    assert "ci" in listing.text
    assert token.digest not in listing.text + detail.text
    assert raw not in listing.text + detail.text
    assert staff_client.get("/admin/webapp/apitoken/add/").status_code == 403

    response = staff_client.post(
        "/admin/webapp/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert "Revoked 1 token(s)." in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None
