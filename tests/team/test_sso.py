"""Single sign-on against a real OpenID Connect provider running on a loopback
port: discovery, the authorization-code flow with PKCE, the token exchange and
the ID token's signature are all real; only the person clicking is the test."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User
from django.test import Client

from team import invitations
from team.models import Action, AuditEvent, Invitation, Role
from tests.team.conftest import OidcProvider, sso_sign_in

pytestmark = pytest.mark.django_db


def signed_in_as(client: Client) -> str | None:
    response = client.get("/profile/")
    if response.status_code != 200:
        return None
    return response.context["user"].get_username()


def test_login_page_offers_the_provider(sso: OidcProvider) -> None:
    page = Client().get("/login/").text

    assert "Sign in with Test IdP" in page
    assert 'name="password"' in page  # password sign-in is still on


def test_an_existing_member_is_recognised_by_email_and_linked(
    sso: OidcProvider, make_member: Any
) -> None:
    carol = make_member("carol", email="carol@example.com")
    sso.add_user("carol-sub", email="Carol@Example.com", email_verified=True, name="Carol C")
    client = Client()

    answer = sso_sign_in(client, sso, "carol-sub")

    assert answer.status_code == 302
    assert signed_in_as(client) == "carol"
    assert SocialAccount.objects.get(user=carol).uid == "carol-sub"
    event = AuditEvent.objects.filter(action=Action.SIGNED_IN, subject=carol).get()
    assert event.detail == "through Test IdP"
    # The second time the link is used directly.
    again = Client()
    sso_sign_in(again, sso, "carol-sub")
    assert signed_in_as(again) == "carol"


def test_an_invited_person_joins_with_the_invitations_role(
    sso: OidcProvider, admin: User, mailoutbox: list[Any]
) -> None:
    invitation = invitations.invite(admin, "dan@example.com", Role.VIEWER)
    sso.add_user("dan-sub", email="dan@example.com", email_verified=True, name="Dan D")
    client = Client()

    sso_sign_in(client, sso, "dan-sub")

    dan = User.objects.get(email="dan@example.com")
    assert signed_in_as(client) == dan.username
    assert dan.membership.role == Role.VIEWER
    assert dan.membership.display_name == "Dan D"
    assert not dan.has_usable_password()
    invitation.refresh_from_db()
    assert invitation.accepted_by == dan
    joined = AuditEvent.objects.get(action=Action.JOINED, subject=dan)
    assert "as viewer (through Test IdP)" in joined.detail


def test_the_invitation_link_lets_its_holder_join_with_another_address(
    sso: OidcProvider, admin: User, mailoutbox: list[Any]
) -> None:
    invitations.invite(admin, "erin.private@example.org", Role.MEMBER)
    link = mailoutbox[0].body.split("http://", 1)[1].split()[0]
    sso.add_user("erin-sub", email="erin@corp.example", email_verified=True)
    client = Client()

    page = client.get("/" + link.split("/", 1)[1])
    assert "Join with Test IdP" in page.text
    sso_sign_in(client, sso, "erin-sub")

    erin = User.objects.get(email="erin@corp.example")
    assert signed_in_as(client) == erin.username
    assert Invitation.objects.get().accepted_by == erin


def test_a_stranger_is_refused_with_a_plain_message(sso: OidcProvider) -> None:
    sso.add_user("mallory", email="mallory@example.com", email_verified=True)
    client = Client()

    answer = sso_sign_in(client, sso, "mallory")

    assert answer.status_code == 403
    assert "There is no Darkroom account for mallory@example.com" in answer.text
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert AuditEvent.objects.filter(action=Action.SIGN_IN_REFUSED).exists()


def test_an_unverified_address_never_matches_an_account(
    sso: OidcProvider, make_member: Any
) -> None:
    make_member("frank", email="frank@example.com")
    sso.add_user("fake-frank", email="frank@example.com", email_verified=False)
    client = Client()

    answer = sso_sign_in(client, sso, "fake-frank")

    assert answer.status_code == 403
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()


def test_a_deactivated_member_is_refused(sso: OidcProvider, make_member: Any) -> None:
    gail = make_member("gail", email="gail@example.com")
    sso.add_user("gail-sub", email="gail@example.com", email_verified=True)
    sso_sign_in(Client(), sso, "gail-sub")
    gail.is_active = False
    gail.save()
    client = Client()

    answer = sso_sign_in(client, sso, "gail-sub")

    assert answer.status_code == 403
    assert "deactivated" in answer.text
    assert signed_in_as(client) is None


def test_an_email_domain_lets_its_people_join_as_members_and_no_one_else(
    sso: OidcProvider, settings: Any
) -> None:
    settings.DARKROOM_SSO_EMAIL_DOMAINS = ["corp.example"]
    sso.add_user("hana", email="hana@corp.example", email_verified=True)
    sso.add_user("ivan", email="ivan@elsewhere.example", email_verified=True)

    joined = Client()
    sso_sign_in(joined, sso, "hana")
    refused = Client()
    answer = sso_sign_in(refused, sso, "ivan")

    hana = User.objects.get(email="hana@corp.example")
    assert signed_in_as(joined) == hana.username
    assert hana.membership.role == Role.MEMBER
    assert answer.status_code == 403
    assert "Sign-in is limited to addresses at corp.example." in answer.text
    assert signed_in_as(refused) is None


def test_password_login_switched_off_leaves_only_the_provider(
    sso: OidcProvider, settings: Any, make_member: Any
) -> None:
    settings.DARKROOM_PASSWORD_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = ["team.backends.NoPasswordBackend"]
    make_member("jo", email="jo@example.com")
    client = Client()

    page = client.get("/login/").text
    refused = client.post("/login/", {"username": "jo", "password": "pw"})

    assert "Sign in with Test IdP" in page
    assert 'name="password"' not in page
    assert refused.status_code == 403
    assert "Password sign-in is switched off" in refused.text
    assert signed_in_as(client) is None
    assert client.get("/password-reset/").status_code == 404
    assert not client.login(username="jo", password="pw")  # the admin's login fails too
    sso.add_user("jo-sub", email="jo@example.com", email_verified=True)
    sso_sign_in(client, sso, "jo-sub")
    assert signed_in_as(client) == "jo"
