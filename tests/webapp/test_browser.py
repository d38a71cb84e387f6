"""In a real Chromium: log in through the form and see the page frame."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_shows_the_frame(page: Any, live_server: Any, staff: User) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/login/?next=/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")

    nav = page.locator("nav.nav")
    nav.wait_for()
    assert page.locator("[data-testid=emulator-banner]").is_visible()
    assert "Admin" in nav.inner_text()
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.allowEval") is False
    assert errors == []

    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login/")


def test_wrong_password_stays_on_login_with_message(
    page: Any, live_server: Any, user: User
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")

    assert page.locator(".form-errors").inner_text().startswith("Please enter a correct")
