"""Invitations: sent by e-mail, accepted once, expiring, resent and revoked, rate-limited."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from team import invitations
from team.models import Action, AuditEvent, Invitation, Role

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://\S+/team/join/(\S+)/")


def link_in(message: Any) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return f"/team/join/{found.group(1)}/"


def join(client: Client, link: str, username: str = "newbie", **extra: str) -> Any:
    data = {
        "username": username,
        "password1": "a long passphrase 42",
        "password2": "a long passphrase 42",
    }
    return client.post(link, {**data, **extra})


def test_admin_invites_by_email_and_the_link_creates_the_account_once(
    admin_client: Client, admin: User, mailoutbox: list[Any]
) -> None:
    response = admin_client.post("/team/", {"email": "nina@example.com", "role": "viewer"})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nina@example.com"]
    assert "ada invited you" in mailoutbox[0].subject
    link = link_in(mailoutbox[0])

    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert "nina@example.com" in page.text
    answer = join(visitor, link, "nina", display_name="Nina N")

    assert answer.status_code == 302
    nina = User.objects.get(username="nina")
    assert nina.email == "nina@example.com"
    assert nina.membership.role == Role.VIEWER
    assert nina.membership.display_name == "Nina N"
    assert not nina.is_staff
    assert visitor.get("/profile/").status_code == 200  # signed in
    actions = list(
        AuditEvent.objects.exclude(subject=admin).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [Action.INVITED, Action.JOINED, Action.SIGNED_IN]

    second = Client().get(link)
    assert second.status_code == 400
    assert "has been used already" in second.text
    assert join(Client(), link, "nina2").status_code == 400
    assert not User.objects.filter(username="nina2").exists()


def test_an_admin_invitation_makes_an_admin(admin: User, mailoutbox: list[Any]) -> None:
    invitations.invite(admin, "olga@example.com", Role.ADMIN)

    join(Client(), link_in(mailoutbox[0]), "olga")

    olga = User.objects.get(username="olga")
    assert olga.is_staff
    assert olga.is_superuser
    assert olga.membership.role == Role.ADMIN


def test_an_expired_invitation_says_so_and_can_be_resent(
    admin: User, admin_client: Client, mailoutbox: list[Any]
) -> None:
    invitation = invitations.invite(admin, "pat@example.com", Role.MEMBER)
    old_link = link_in(mailoutbox[0])
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))

    expired = Client().get(old_link)
    assert expired.status_code == 400
    assert "has expired" in expired.text
    assert "expired" in admin_client.get("/team/").text

    admin_client.post(f"/team/invitations/{invitation.pk}/resend")

    assert len(mailoutbox) == 2
    new_link = link_in(mailoutbox[1])
    replaced = Client().get(old_link)
    assert replaced.status_code == 400
    assert "replaced by a newer one" in replaced.text
    assert join(Client(), new_link, "pat").status_code == 302
    assert AuditEvent.objects.filter(action=Action.INVITATION_RESENT).count() == 1


def test_a_signed_link_older_than_the_period_is_refused(
    admin: User, mailoutbox: list[Any], settings: Any
) -> None:
    invitations.invite(admin, "quin@example.com", Role.MEMBER)
    link = link_in(mailoutbox[0])
    settings.DARKROOM_INVITATION_DAYS = 1
    # The signature's own timestamp is checked too, not only the row.
    later = timezone.now() + timedelta(days=2)
    Invitation.objects.update(expires_at=later + timedelta(days=1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.time", lambda: later.timestamp())
        answer = Client().get(link)

    assert answer.status_code == 400
    assert "has expired" in answer.text


def test_a_revoked_invitation_no_longer_works(
    admin: User, admin_client: Client, mailoutbox: list[Any]
) -> None:
    invitation = invitations.invite(admin, "rita@example.com", Role.MEMBER)

    admin_client.post(f"/team/invitations/{invitation.pk}/revoke")

    answer = Client().get(link_in(mailoutbox[0]))
    assert answer.status_code == 400
    assert "withdrawn" in answer.text
    page = admin_client.get("/team/").text  # the flash message is shown on this load
    assert 'data-invitation="rita@example.com"' not in admin_client.get("/team/").text
    assert "Withdrew the invitation to rita@example.com." in page
    assert AuditEvent.objects.filter(
        action=Action.INVITATION_REVOKED, subject_name="rita@example.com"
    ).exists()


def test_inviting_a_member_or_twice_is_refused_on_the_field(
    admin_client: Client, admin: User, mailoutbox: list[Any]
) -> None:
    taken = admin_client.post("/team/", {"email": "ADA@example.com", "role": "member"})
    admin_client.post("/team/", {"email": "sam@example.com", "role": "member"})
    twice = admin_client.post("/team/", {"email": "Sam@Example.com", "role": "viewer"})
    bad = admin_client.post("/team/", {"email": "not an address", "role": "boss"})

    assert taken.status_code == 400
    assert "ADA@example.com already has an account." in taken.text
    assert twice.status_code == 400
    assert "has been invited already: resend that invitation instead." in twice.text
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.text
    assert Invitation.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_mail_server_that_refuses_keeps_the_invitation_for_a_resend(
    admin_client: Client, settings: Any
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }

    response = admin_client.post("/team/", {"email": "tess@example.com", "role": "member"})

    assert response.status_code == 400
    assert "the mail server did not accept the message" in response.text
    assert Invitation.objects.get().email == "tess@example.com"


def test_a_taken_username_or_weak_password_is_refused_on_its_field(
    admin: User, make_member: Any, mailoutbox: list[Any]
) -> None:
    make_member("uma")
    invitations.invite(admin, "uma2@example.com", Role.MEMBER)
    link = link_in(mailoutbox[0])

    taken = join(Client(), link, "UMA")
    weak = Client().post(link, {"username": "uma2", "password1": "123", "password2": "123"})
    differ = Client().post(
        link, {"username": "uma2", "password1": "a long passphrase 42", "password2": "other"}
    )

    assert taken.status_code == 400
    assert "This username is taken; choose another." in taken.text
    assert weak.status_code == 400
    assert "This password is too short." in weak.text
    assert "The two passwords differ." in differ.text
    assert Invitation.objects.get().accepted_at is None


def test_bad_invitation_links_are_rate_limited(settings: Any) -> None:
    client = Client()
    limit = settings.DARKROOM_LOGIN_ATTEMPTS * 5  # an address alone: five times the limit

    answers = [client.get(f"/team/join/forged-{n}/").status_code for n in range(limit + 1)]

    assert answers[:limit] == [400] * limit
    assert answers[limit] == 429
    assert "Too many failed attempts" in client.get("/team/join/forged/").text


def test_only_admins_manage_invitations(
    user_client: Client, admin: User, mailoutbox: list[Any]
) -> None:
    invitation = invitations.invite(admin, "vera@example.com", Role.MEMBER)

    assert user_client.get("/team/").status_code == 403
    assert (
        user_client.post("/team/", {"email": "x@example.com", "role": "admin"}).status_code == 403
    )
    assert user_client.post(f"/team/invitations/{invitation.pk}/revoke").status_code == 403
    assert Invitation.objects.pending().count() == 1
