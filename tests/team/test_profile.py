"""The profile page: display name and e-mail, password, API tokens with an expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from team.models import Action, AuditEvent
from tests.generation.conftest import catalog  # noqa: F401 - a fixture
from webapp.models import ApiToken

pytestmark = pytest.mark.django_db


def test_display_name_and_email_are_saved_and_audited(user: User, user_client: Client) -> None:
    response = user_client.post(
        "/profile/details", {"display_name": "Alice A", "email": "alice@example.com"}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "alice@example.com"
    assert user.membership.display_name == "Alice A"
    assert 'value="Alice A"' in user_client.get("/profile/").text
    event = AuditEvent.objects.get(action=Action.PROFILE_CHANGED)
    assert event.detail == "changed display name, e-mail (was none)"


def test_an_email_in_use_or_malformed_is_refused_on_its_field(
    user: User, user_client: Client, make_user: Any
) -> None:
    other = make_user("bob")
    other.email = "bob@example.com"
    other.save()

    taken = user_client.post("/profile/details", {"display_name": "", "email": "BOB@example.com"})
    bad = user_client.post("/profile/details", {"display_name": "", "email": "bob at example"})

    assert taken.status_code == 400
    assert "Another account uses this address." in taken.text
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.text
    user.refresh_from_db()
    assert user.email == ""


def test_changing_the_password_needs_the_old_one_and_signs_out_other_devices(
    user: User, user_client: Client
) -> None:
    elsewhere = Client()
    elsewhere.force_login(user)

    wrong = user_client.post(
        "/profile/password",
        {
            "old_password": "nope",
            "new_password1": "new passphrase 9",
            "new_password2": "new passphrase 9",
        },
    )
    right = user_client.post(
        "/profile/password",
        {
            "old_password": "pw",
            "new_password1": "new passphrase 9",
            "new_password2": "new passphrase 9",
        },
    )

    assert wrong.status_code == 400
    assert "Your old password was entered incorrectly." in wrong.text
    assert right.status_code == 302
    assert user_client.get("/profile/").status_code == 200  # this session stays
    assert elsewhere.get("/profile/").status_code == 302  # the other one ended
    user.refresh_from_db()
    assert user.check_password("new passphrase 9")
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED, subject=user).exists()


def test_a_token_with_an_expiry_stops_working_after_it(user: User, user_client: Client) -> None:
    page = user_client.post("/profile/", {"name": "ci", "expires": "7"}).text

    token = ApiToken.objects.get(user=user)
    assert token.expires_at is not None
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    raw = page.split('id="new-token" class="token-value">', 1)[1].split("<", 1)[0]
    assert 'data-copy="#new-token"' in page  # the Copy button
    bearer = Client(headers={"Authorization": f"Bearer {raw}"})
    assert bearer.get("/api/v1/jobs").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    refused = bearer.get("/api/v1/jobs")
    assert refused.status_code == 401
    assert "expired" in refused.json()["error"]["message"]
    assert "expired" in user_client.get("/profile/").text


def test_a_token_without_expiry_and_a_bad_expiry(user: User, user_client: Client) -> None:
    assert user_client.post("/profile/", {"name": "forever", "expires": ""}).status_code == 200
    bad = user_client.post("/profile/", {"name": "odd", "expires": "10000"})

    assert ApiToken.objects.get(name="forever").expires_at is None
    assert bad.status_code == 400
    assert "Select a valid choice." in bad.text
    assert not ApiToken.objects.filter(name="odd").exists()


@pytest.mark.usefixtures("catalog")
def test_the_default_model_set_on_the_profile_opens_the_generate_page(
    user: User, user_client: Client
) -> None:
    from generation import preferences

    preferences.remember(
        user, model_slug="openai/gpt-image-1", style="images", options={"quality": "low"}
    )
    page = user_client.get("/profile/").text
    assert 'data-testid="defaults-form"' in page

    kept = user_client.post(
        "/profile/generation", {"model": "openai/gpt-image-1", "keep_options": "on"}
    )
    assert kept.status_code == 302
    assert preferences.preferences_for(user).options == {"quality": "low"}

    changed = user_client.post("/profile/generation", {"model": "google/gemini-2.5-flash-image"})
    assert changed.status_code == 302
    stored = preferences.preferences_for(user)
    assert (stored.model_slug, stored.options) == ("google/gemini-2.5-flash-image", {})
    generate = user_client.get("/").text
    assert 'value="google/gemini-2.5-flash-image" selected' in generate.replace("  ", " ")

    unknown = user_client.post("/profile/generation", {"model": "nobody/nothing"})
    assert unknown.status_code == 400
    assert "Select a valid choice" in unknown.text
    assert preferences.preferences_for(user).model_slug == "google/gemini-2.5-flash-image"


@pytest.mark.usefixtures("catalog")
def test_a_viewer_has_no_generation_defaults(viewer: User) -> None:
    client = Client()
    client.force_login(viewer)

    assert 'data-testid="defaults-form"' not in client.get("/profile/").text
    refused = client.post("/profile/generation", {"model": "openai/gpt-image-1"})
    assert refused.status_code == 403
