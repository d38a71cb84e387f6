"""Fixtures for team tests: people in each role, a real OpenID Connect provider
(oidc-provider-mock, its own process on a loopback port), and clean rate-limit counters."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from team.models import Membership, Role
from tests import services
from tests.settings import SERVICES

CLIENT_ID = "darkroom-tests"
CLIENT_SECRET = "not-a-secret"


@pytest.fixture
def make_member(make_user: Any) -> Any:
    """A person with a Membership row in ``role`` (admins are staff, as the app keeps them)."""

    def make(username: str, role: Role = Role.MEMBER, *, email: str = "") -> User:
        person = make_user(username, staff=role == Role.ADMIN)
        person.email = email or f"{username}@example.com"
        person.save(update_fields=["email"])
        Membership.objects.create(user=person, role=role)
        return person

    return make


@pytest.fixture
def admin(make_member: Any) -> User:
    return make_member("ada", Role.ADMIN)


@pytest.fixture
def viewer(make_member: Any) -> User:
    return make_member("vic", Role.VIEWER)


@pytest.fixture
def admin_client(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture(autouse=True)
def clean_rate_limits(settings: Any) -> Iterator[None]:
    """Each test starts with no failures counted and a small limit to reach."""
    settings.DARKROOM_LOGIN_ATTEMPTS = 3

    def clear() -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("*team:ratelimit:*"):
            client.delete(key)
        client.close()

    clear()
    yield
    clear()


class OidcProvider:
    """The running provider: its issuer URL, and its users (claims by subject)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.http = httpx.Client(base_url=issuer, timeout=10)

    def add_user(self, sub: str, **claims: Any) -> None:
        self.http.put(f"/users/{sub}", json=claims).raise_for_status()

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign in as ``sub`` on the provider's page; returns where it sends the
        browser back to (the callback URL with the code)."""
        answer = self.http.post(authorize_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]


@pytest.fixture(scope="session")
def oidc_process() -> Iterator[str]:
    port = services.free_port()
    binary = Path(sys.executable).parent / "oidc-provider-mock"
    process = SERVICES.spawn([str(binary), "--port", str(port)], "oidc")
    services.wait_for(
        lambda: services.port_open(port), f"OIDC provider (log: {SERVICES.log('oidc')})"
    )
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sso(settings: Any, oidc_process: str) -> OidcProvider:
    """Darkroom configured for single sign-on against the local provider, as
    DARKROOM_OIDC_* would configure it."""
    app = {
        "provider_id": "sso",
        "name": "Test IdP",
        "client_id": CLIENT_ID,
        "secret": CLIENT_SECRET,
        "settings": {"server_url": oidc_process},
    }
    settings.DARKROOM_OIDC = app
    providers = dict(settings.SOCIALACCOUNT_PROVIDERS)
    providers["openid_connect"] = {**providers["openid_connect"], "APPS": [app]}
    settings.SOCIALACCOUNT_PROVIDERS = providers
    csp = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], oidc_process],
    }
    settings.SECURE_CSP = csp
    return OidcProvider(oidc_process)


def sso_sign_in(client: Client, provider: OidcProvider, sub: str) -> Any:
    """The whole authorization-code flow with Django's test client on one side
    and the real provider on the other; returns Darkroom's answer to the callback."""
    start = client.post("/accounts/oidc/sso/login/")
    assert start.status_code == 302, start.content[:500]
    assert start["Location"].startswith(provider.issuer)
    back = urlsplit(provider.authorize(start["Location"], sub))
    return client.get(f"{back.path}?{back.query}")
