"""The Members page: roles, spend and budgets, last seen, deactivation, the audit log."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from costs import budgets
from generation.models import Image, Job
from team import members, timeline
from team.models import Action, AuditEvent, Membership, Role
from tests.costs.conftest import make_job
from webapp import roles, tokens

pytestmark = pytest.mark.django_db


def row_of(page: str, username: str) -> str:
    start = page.index(f'data-member="{username}"')
    return page[start : page.index("</tr>", start)]


def test_members_page_lists_role_spend_budget_and_last_seen(
    admin_client: Client, make_member: Any
) -> None:
    bea = make_member("bea", Role.MEMBER)
    make_member("vic", Role.VIEWER)
    make_job(bea, actual="0.25")
    make_job(bea, actual="0.50")
    budgets.set_budget(bea, Decimal("20"))
    bea_client = Client()
    bea_client.force_login(bea)
    bea_client.get("/profile/")  # seen now

    page = admin_client.get("/team/").text

    bea_row = row_of(page, "bea")
    assert '<option value="member" selected>' in bea_row
    assert "$0.75" in bea_row
    assert "$20.00" in bea_row
    assert "ago" in bea_row
    assert "never" not in bea_row
    vic_row = row_of(page, "vic")
    assert '<option value="viewer" selected>' in vic_row
    assert "$0.00" in vic_row
    assert "none" in vic_row
    assert "never" in vic_row


def test_admins_see_the_members_link_and_others_do_not(
    admin_client: Client, user_client: Client
) -> None:
    assert 'href="/team/"' in admin_client.get("/profile/").text
    assert 'href="/team/"' not in user_client.get("/profile/").text
    refused = user_client.get("/team/audit/")
    assert refused.status_code == 403
    assert "managed by the team's admins" in refused.text


def test_staff_without_a_membership_count_as_admins(staff: User, user: User) -> None:
    assert roles.role_of(staff) == Role.ADMIN
    assert roles.role_of(user) == Role.MEMBER
    assert roles.role_of(None) is None
    user.is_active = False
    assert roles.role_of(user) is None


def test_the_data_migration_makes_staff_admins(make_user: Any) -> None:
    from importlib import import_module

    from django.apps import apps

    boss = make_user("oldboss", staff=True)
    plain = make_user("oldhand")
    migration = import_module("team.migrations.0002_staff_are_admins")

    migration.forwards(apps, None)

    assert Membership.objects.get(user=boss).role == Role.ADMIN
    assert Membership.objects.get(user=plain).role == Role.MEMBER


def test_changing_a_role_follows_into_django_staff(
    admin_client: Client, admin: User, make_member: Any
) -> None:
    cy = make_member("cy", Role.MEMBER)

    admin_client.post(f"/team/members/{cy.pk}/role", {"role": "admin"})
    cy.refresh_from_db()
    assert cy.is_staff
    assert cy.is_superuser
    assert roles.is_admin(cy)
    admin_client.post(f"/team/members/{cy.pk}/role", {"role": "viewer"})
    cy.refresh_from_db()
    assert not cy.is_staff
    assert not cy.is_superuser
    assert roles.role_of(cy) == Role.VIEWER
    bad = admin_client.post(f"/team/members/{cy.pk}/role", {"role": "owner"}, follow=True)
    assert "Choose admin, member or viewer." in bad.text

    details = list(
        AuditEvent.objects.filter(action=Action.ROLE_CHANGED)
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == ["from member to admin", "from admin to viewer"]


def test_the_last_admin_cannot_step_down_or_be_deactivated(admin: User, make_member: Any) -> None:
    other = make_member("dee", Role.ADMIN)
    members.deactivate(other, admin)

    with pytest.raises(members.MemberError, match="only admin"):
        members.set_role(other, other, Role.MEMBER)


def test_deactivating_ends_sessions_and_tokens_but_keeps_images_and_costs(
    admin_client: Client, admin: User, make_member: Any
) -> None:
    eve = make_member("eve", Role.MEMBER)
    job = make_job(eve, actual="0.40", images=1)
    _, raw = tokens.create(eve, "script")
    eve_client = Client()
    eve_client.force_login(eve)
    assert eve_client.get("/profile/").status_code == 200
    token_client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert token_client.get("/api/v1/jobs").status_code == 200

    response = admin_client.post(f"/team/members/{eve.pk}/deactivate", follow=True)

    assert "Deactivated eve" in response.text
    eve.refresh_from_db()
    assert not eve.is_active
    assert eve_client.get("/profile/").status_code == 302  # to the login page
    assert token_client.get("/api/v1/jobs").status_code == 401
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(eve.pk)
    ]
    assert Job.objects.get(pk=job.pk).author == eve
    assert Image.objects.filter(job=job).exists()
    page = admin_client.get("/team/").text
    assert "$0.40" in row_of(page, "eve")
    assert 'data-testid="deactivated"' in row_of(page, "eve")
    event = AuditEvent.objects.get(action=Action.DEACTIVATED)
    assert (event.actor, event.subject) == (admin, eve)
    assert event.detail == "1 session(s) ended, 1 API token(s) revoked"

    admin_client.post(f"/team/members/{eve.pk}/reactivate")
    eve.refresh_from_db()
    assert eve.is_active
    assert token_client.get("/api/v1/jobs").status_code == 401  # old tokens stay revoked


def test_an_admin_cannot_deactivate_themselves(admin_client: Client, admin: User) -> None:
    response = admin_client.post(f"/team/members/{admin.pk}/deactivate", follow=True)

    assert "You cannot deactivate yourself" in response.text
    admin.refresh_from_db()
    assert admin.is_active


def test_the_audit_log_shows_every_action_to_admins(
    admin_client: Client, admin: User, make_member: Any, mailoutbox: list[Any]
) -> None:
    fay = make_member("fay", Role.MEMBER)
    admin_client.post("/team/", {"email": "gus@example.com", "role": "viewer"})
    admin_client.post(f"/team/members/{fay.pk}/role", {"role": "viewer"})
    admin_client.post(f"/team/members/{fay.pk}/deactivate")

    page = admin_client.get("/team/audit/").text

    for text in (
        "Invited",
        "gus@example.com",
        "as viewer",
        "Role changed",
        "from member to viewer",
        "Deactivated",
        "fay",
    ):
        assert text in page
    assert page.index('data-action="deactivated"') < page.index(
        'data-action="invited"'
    )  # newest first


def test_unknown_member_or_invitation_is_404(admin_client: Client) -> None:
    assert admin_client.post("/team/members/999999/deactivate").status_code == 404
    assert admin_client.post("/team/invitations/999999/resend").status_code == 404
    assert admin_client.get("/team/members/1/deactivate").status_code == 405


def test_using_an_api_token_counts_as_being_seen(admin_client: Client, make_member: Any) -> None:
    gil = make_member("gil", Role.MEMBER)
    _, raw = tokens.create(gil, "script")
    assert "never" in row_of(admin_client.get("/team/").text, "gil")

    Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/jobs")

    row = row_of(admin_client.get("/team/").text, "gil")
    assert "ago" in row
    assert "never" not in row
    assert Membership.objects.get(user=gil).last_seen_at is None  # the token recorded it


def _audit_rows(page: str) -> list[str]:
    """Each row of the audit table as its cells' text, joined by " | "."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [
        " | ".join(
            html.unescape(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        )
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_audit_log_shows_each_generation_between_the_events(
    admin_client: Client, admin: User, make_member: Any
) -> None:
    hal = make_member("hal", Role.MEMBER)
    start = timezone.now() - timedelta(hours=1)
    AuditEvent.objects.create(
        action=Action.SIGNED_IN, actor_name="hal", subject_name="hal", created_at=start
    )
    make_job(hal, n=2, created_at=start + timedelta(minutes=1))
    AuditEvent.objects.create(
        action=Action.DEACTIVATED,
        actor_name="ada",
        subject_name="hal",
        created_at=start + timedelta(minutes=2),
    )

    page = admin_client.get("/team/audit/").text
    without = admin_client.get("/team/audit/?generations=off").text

    rows = [row for row in _audit_rows(page) if "hal" in row]
    assert [row.split(" | ")[2] for row in rows] == ["Deactivated", "Generated", "Signed in"]
    assert "hal | Generated | — | 2 images with openai/gpt-image-1: succeeded" in rows[1]
    assert 'data-action="generated"' not in without
    assert 'data-action="deactivated"' in without


def test_audit_pages_leave_out_and_repeat_nothing_when_lines_share_a_moment(
    admin_client: Client, admin: User, make_member: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline, "PAGE_SIZE", 2)
    ivy = make_member("ivy", Role.MEMBER)
    moment = timezone.now() - timedelta(hours=1)
    for index in range(3):
        AuditEvent.objects.create(
            action=Action.PROFILE_CHANGED,
            actor_name="ivy",
            detail=f"event {index}",
            created_at=moment,
        )
        make_job(ivy, n=index + 1, created_at=moment)

    seen: list[str] = []
    url = "/team/audit/"
    for _ in range(10):
        response = admin_client.get(url)
        assert response.status_code == 200
        seen += [row for row in _audit_rows(response.text) if "ivy" in row]
        found = re.search(r'href="(\?before=[^"]+)" rel="next"', response.text)
        if found is None:
            break
        url = "/team/audit/" + html.unescape(found.group(1))

    details = [row.split(" | ")[4] for row in seen]
    # Events sort above generations at one moment; within each, newest id first.
    assert details == [
        "event 2",
        "event 1",
        "event 0",
        *sorted(
            (
                f"{n} image{'s' if n > 1 else ''} with openai/gpt-image-1: succeeded"
                for n in (1, 2, 3)
            ),
            key=lambda text: str(Job.objects.get(author=ivy, n=int(text[0])).pk),
            reverse=True,
        ),
    ]


@pytest.mark.parametrize(
    "before", ["nonsense", "2026-01-01T00:00:00~1~1", "2026-01-01T00:00:00+00:00~0~7"]
)
def test_a_made_up_audit_page_says_so_and_shows_the_newest(
    admin_client: Client, admin: User, before: str
) -> None:
    AuditEvent.objects.create(action=Action.SIGNED_IN, actor_name="ada", subject_name="ada")

    response = admin_client.get("/team/audit/", {"before": before})

    assert response.status_code == 400
    assert "That page of the audit log does not exist." in response.text
    assert 'data-action="signed_in"' in response.text
