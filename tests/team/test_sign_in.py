"""Signing in: failures rate-limited in Redis, password reset by e-mail, audit of sign-ins."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from team.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_a_password_sign_in_is_in_the_audit_log(user: User) -> None:
    assert log_in(Client(), "alice", "pw").status_code == 302

    event = AuditEvent.objects.get(action=Action.SIGNED_IN)
    assert (event.actor, event.subject, event.detail) == (user, user, "with a password")


def test_too_many_failures_lock_the_username_even_with_the_right_password(
    user: User, settings: Any
) -> None:
    client = Client()
    for _ in range(settings.DARKROOM_LOGIN_ATTEMPTS):
        assert log_in(client, "alice", "wrong").status_code == 200

    locked = log_in(client, "alice", "pw")

    assert locked.status_code == 429
    assert "Too many failed attempts. Wait 15 minutes, then try again." in locked.text
    assert client.get("/profile/").status_code == 302  # not signed in
    # Another username from the same address is not locked by alice's failures.
    other = User.objects.create_user("bob", password="pw")
    assert log_in(Client(), other.username, "pw").status_code == 302


def test_an_address_trying_many_usernames_is_cut_off(user: User, settings: Any) -> None:
    client = Client()
    limit = settings.DARKROOM_LOGIN_ATTEMPTS * 5
    for n in range(limit):
        log_in(client, f"guess{n}", "wrong")

    assert log_in(client, "alice", "pw").status_code == 429


def test_a_success_clears_the_usernames_failures(user: User, settings: Any) -> None:
    client = Client()
    for _ in range(settings.DARKROOM_LOGIN_ATTEMPTS - 1):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "pw").status_code == 302
    client.post("/logout/")

    for _ in range(settings.DARKROOM_LOGIN_ATTEMPTS - 1):
        assert log_in(client, "alice", "wrong").status_code == 200
    assert log_in(client, "alice", "pw").status_code == 302


def test_password_reset_by_email(user: User, mailoutbox: list[Any]) -> None:
    user.email = "alice@example.com"
    user.save()
    client = Client()

    sent = client.post("/password-reset/", {"email": "ALICE@example.com"})

    assert sent.status_code == 302
    assert "Check your e-mail" in client.get(sent["Location"]).text
    assert len(mailoutbox) == 1
    link = re.search(r"http://\S+(/password-reset/\S+/\S+/)", mailoutbox[0].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.text
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh passphrase 77", "new_password2": "fresh passphrase 77"},
    )
    assert done.status_code == 302
    assert log_in(Client(), "alice", "fresh passphrase 77").status_code == 302
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Action.PASSWORD_RESET, Action.PASSWORD_CHANGED} <= actions


def test_password_reset_says_the_same_for_unknown_addresses_and_is_rate_limited(
    mailoutbox: list[Any], settings: Any
) -> None:
    client = Client()
    limit = settings.DARKROOM_LOGIN_ATTEMPTS * 5

    answers = [
        client.post("/password-reset/", {"email": "nobody@example.com"}).status_code
        for _ in range(limit)
    ]
    refused = client.post("/password-reset/", {"email": "nobody@example.com"})

    assert answers == [302] * limit
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.text
    assert mailoutbox == []
