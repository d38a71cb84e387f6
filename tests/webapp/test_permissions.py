"""The rules in webapp.permissions, on real users and jobs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from webapp import permissions


@pytest.fixture
def member(make_user: Any) -> User:
    return make_user("member")


def test_staff_are_admins_and_members_are_not(staff: User, member: User) -> None:
    assert permissions.is_admin(staff)
    assert not permissions.is_admin(member)
    assert not permissions.is_admin(AnonymousUser())


def test_the_author_and_staff_manage_a_job_others_do_not(
    staff: User, member: User, make_user: Any
) -> None:
    other = make_user("other")
    job = SimpleNamespace(author_id=member.pk)
    assert permissions.can_manage(member, job)
    assert permissions.can_manage(staff, job)
    assert not permissions.can_manage(other, job)
    assert not permissions.can_manage(AnonymousUser(), job)


def test_an_image_belongs_to_its_jobs_author(member: User, make_user: Any) -> None:
    image = SimpleNamespace(job=SimpleNamespace(author_id=member.pk))
    assert permissions.is_author(member, image)
    assert not permissions.is_author(make_user("other"), image)


def test_something_without_an_author_is_a_programming_error(member: User) -> None:
    with pytest.raises(TypeError, match="has no author"):
        permissions.can_manage(member, object())


def test_every_active_account_may_spend_an_inactive_one_or_a_visitor_may_not(
    member: User,
) -> None:
    assert permissions.can_spend(member)
    member.is_active = False
    assert not permissions.can_spend(member)
    assert not permissions.can_spend(AnonymousUser())
