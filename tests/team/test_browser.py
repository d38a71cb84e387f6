"""In Chromium: a member's whole life (invited, joins, signs in, generates, is
deactivated, each step in the audit log), and signing in through the local
OpenID Connect provider."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from generation.models import Job, Status
from team.models import Role
from tests.generation.conftest import catalog  # noqa: F401 - fixture
from tests.team.conftest import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("catalog", "celery_worker")
def test_invite_join_sign_in_generate_and_deactivate(
    browser: Any,
    page: Any,
    live_server: Any,
    login: Any,
    make_member: Any,
    mailoutbox: list[Any],
    settings: Any,
) -> None:
    settings.DARKROOM_PUBLIC_URL = live_server.url
    admin = make_member("ada", Role.ADMIN)
    login(admin)

    page.goto(f"{live_server.url}/team/")
    page.fill("input[name=email]", "nell@example.com")
    page.select_option("select[name=role]", "member")
    page.click("button:has-text('Send invitation')")
    page.locator(".message-success").wait_for()
    assert "Invitation sent to nell@example.com." in page.locator(".messages").inner_text()
    assert page.locator('[data-invitation="nell@example.com"]').count() == 1

    link = re.search(r"(http://\S+/team/join/\S+/)", mailoutbox[-1].body)
    assert link is not None
    member_context = browser.new_context()
    member = member_context.new_page()
    member.set_default_timeout(15_000)
    try:
        member.goto(link.group(1))
        assert "ada invited nell@example.com as member" in " ".join(
            member.locator("main").inner_text().split()
        )
        member.fill("input[name=username]", "nell")
        member.fill("input[name=display_name]", "Nell N")
        member.fill("input[name=password1]", "a long passphrase 42")
        member.fill("input[name=password2]", "a long passphrase 42")
        member.click("button:has-text('Join')")
        member.wait_for_url(f"{live_server.url}/")

        member.click("button:has-text('Log out')")
        member.wait_for_url(re.compile(r"/login/"))
        member.fill("input[name=username]", "nell")
        member.fill("input[name=password]", "a long passphrase 42")
        member.click("button[type=submit]:has-text('Log in')")
        member.wait_for_url(f"{live_server.url}/")

        member.fill("textarea[name=prompt]", "a kite over the dunes")
        member.select_option("select[name=model]", "openai/gpt-image-1")
        member.wait_for_load_state("networkidle")
        member.click("button:has-text('Generate')")
        member.locator("[data-testid=job-images] img").first.wait_for(timeout=60_000)
        nell = User.objects.get(username="nell")
        assert Job.objects.get(author=nell).status == Status.SUCCEEDED

        page.goto(f"{live_server.url}/team/")
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("button[aria-label='Deactivate nell']")
        page.locator(".message-success").wait_for()
        assert "Deactivated nell" in page.locator(".messages").inner_text()

        member.goto(f"{live_server.url}/history/")
        assert "/login/" in member.url  # signed out by the deactivation
    finally:
        member_context.close()

    page.goto(f"{live_server.url}/team/audit/")
    rows = page.locator("[data-testid=audit] tbody tr")
    steps = [
        " | ".join(cell.strip() for cell in row.split("\t"))
        for row in reversed(rows.all_inner_texts())
        if "nell" in row
    ]
    actions = [step.split(" | ")[2] for step in steps]
    assert actions == [
        "Invited",
        "Joined",
        "Signed in",
        "Signed in",
        "Generated",
        "Deactivated",
    ], steps
    assert "as member" in steps[0]
    assert "with a password" in steps[3]
    assert steps[4].split(" | ")[1] == "nell"
    assert "1 image with openai/gpt-image-1: succeeded" in steps[4]
    assert "1 session(s) ended" in steps[5]
    # The image and its cost stay with the deactivated member.
    assert Job.objects.filter(author__username="nell").count() == 1


def test_sign_in_through_the_local_openid_connect_provider(
    page: Any, live_server: Any, sso: OidcProvider, make_member: Any
) -> None:
    make_member("olive", Role.MEMBER, email="olive@example.com")
    sso.add_user("olive-sub", email="olive@example.com", email_verified=True, name="Olive O")

    page.goto(f"{live_server.url}/login/")
    page.click("[data-testid=sso-login]")
    page.wait_for_url(re.compile(re.escape(sso.issuer) + "/oauth2/authorize"))
    page.fill("#subject-input", "olive-sub")
    page.click("button:has-text('Authorize')")
    page.wait_for_url(f"{live_server.url}/")

    assert page.locator(".account").inner_text().startswith("olive")


def test_members_and_audit_log_read_on_a_phone_without_sideways_scrolling(
    page: Any, live_server: Any, login: Any, make_member: Any
) -> None:
    admin = make_member("ada", Role.ADMIN)
    make_member("a-member-with-a-long-name", Role.MEMBER)
    login(admin)
    page.set_viewport_size({"width": 390, "height": 844})
    for path, table in (("/team/", "members"), ("/team/audit/", "audit")):
        page.goto(f"{live_server.url}{path}")
        card = page.locator(f"[data-testid={table}]").locator("xpath=..")
        overflow = card.evaluate("card => card.scrollWidth - card.clientWidth")
        assert overflow <= 0, (path, overflow)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
