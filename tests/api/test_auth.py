"""Who may call the API: a token or a session, CSRF for session writes only,
and the same token on the image URLs the API hands out."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image as PILImage

from generation.models import Job, Status
from tests.api.conftest import bearer, succeeded
from webapp import tokens

pytestmark = pytest.mark.django_db


def test_without_credentials_every_endpoint_answers_401_json(make_job: Any, user: User) -> None:
    job = make_job(user)
    client = Client()

    for method, path in [
        ("get", "/api/v1/jobs"),
        ("post", "/api/v1/jobs"),
        ("get", f"/api/v1/jobs/{job.pk}"),
        ("post", f"/api/v1/jobs/{job.pk}/cancel"),
    ]:
        response = getattr(client, method)(path)

        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_token_authenticates(api: Client, make_job: Any, user: User) -> None:
    job = make_job(user)

    response = api.get(f"/api/v1/jobs/{job.pk}")

    assert response.status_code == 200
    assert response.json()["id"] == str(job.pk)


def test_the_session_authenticates(user_client: Client, make_job: Any, user: User) -> None:
    job = make_job(user)

    assert user_client.get(f"/api/v1/jobs/{job.pk}").status_code == 200


def test_revoked_and_unknown_tokens_are_refused(user: User, make_job: Any) -> None:
    job = make_job(user)
    token, raw = tokens.create(user, "old")
    tokens.revoke(token)

    for header in (bearer(raw), bearer("drk_" + "A" * 43)):
        response = Client(headers=header).get(f"/api/v1/jobs/{job.pk}")

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_token_posts_need_no_csrf_token(api: Client, make_job: Any, user: User) -> None:
    job = make_job(user)

    response = api.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == Status.CANCELED


def test_session_posts_need_the_csrf_token(user: User, make_job: Any) -> None:
    job = make_job(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    refused = client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert Job.objects.get(pk=job.pk).status == Status.QUEUED

    client.get("/profile/")  # any page sets the CSRF cookie
    accepted = client.post(
        f"/api/v1/jobs/{job.pk}/cancel", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert accepted.status_code == 200


def test_image_urls_take_the_token(
    api: Client, token: str, make_job: Any, make_image: Any, user: User
) -> None:
    job = succeeded(make_job(user, private=True))
    make_image(job)

    url = api.get(f"/api/v1/jobs/{job.pk}").json()["images"][0]["url"]
    response = Client(headers=bearer(token)).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    picture = PILImage.open(io.BytesIO(response.getvalue()))
    assert picture.size == (8, 6)
    assert Client().get(url).status_code == 302  # no credentials: the login page
    assert Client(headers=bearer("drk_wrong")).get(url).status_code == 401


def test_someone_elses_private_image_stays_hidden_from_their_token(
    make_user: Any, make_job: Any, make_image: Any, user: User
) -> None:
    image = make_image(succeeded(make_job(user, private=True)))
    _, bobs = tokens.create(make_user("bob"), "bob")

    response = Client(headers=bearer(bobs)).get(f"/media/{image.pk}/original")

    assert response.status_code == 404
