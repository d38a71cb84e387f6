"""Every page needs a login, except the login page itself and /healthz."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/admin/"])
def test_pages_redirect_anonymous_visitors_to_login(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/") or response["Location"].startswith(
        "/admin/login/"
    )


def test_login_page_is_public_and_logs_in(user: User) -> None:
    client = Client()
    assert client.get("/login/").status_code == 200

    response = client.post("/login/", {"username": "alice", "password": "pw"})

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message(user: User) -> None:
    response = Client().post("/login/", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_frame_shows_navigation_and_emulator_banner(user_client: Client) -> None:
    page = user_client.get("/").text

    assert 'hx-headers=\'{"X-CSRFToken":' in page
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert "Offline mode" in page
    assert ">Log out</button>" in page


def test_staff_see_admin_link_others_do_not(user_client: Client, staff_client: Client) -> None:
    assert 'href="/admin/"' not in user_client.get("/").text
    assert 'href="/admin/"' in staff_client.get("/").text


def test_pages_carry_a_strict_content_security_policy(user_client: Client) -> None:
    policy = user_client.get("/")["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_ensure_admin_creates_one_admin_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("ensure_admin")
    first = capsys.readouterr().out
    call_command("ensure_admin")
    second = capsys.readouterr().out

    assert User.objects.filter(is_superuser=True).count() == 1
    assert "username: admin" in first
    assert "password: " in first
    assert "exists already" in second
