"""Who may do what: the roles and the rules behind ``webapp.permissions``.

Roles sit below every app: the team app stores each person's role (its
``Membership`` model uses ``Role`` for its choices) and manages members, but
reading a role needs nothing of it, so ``webapp.permissions`` can answer for
every app without importing the team app's higher layers (which read costs).

Every function takes any user object (anonymous too) and answers False for
people who are not signed in or have been deactivated.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models


class Role(models.TextChoices):
    """What a person may do. Admins run the team (members, budgets, costs, the
    catalog sync); members generate; viewers browse the gallery and history and
    never spend."""

    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


def role_of(user: Any) -> Role | None:
    """The person's role, or None when they are anonymous or deactivated.

    Without a Membership row (accounts made in a shell or the Django admin),
    staff count as admins and everyone else as a member.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        return Role(user.membership.role)
    except ObjectDoesNotExist:  # the team app's Membership.DoesNotExist
        return Role.ADMIN if user.is_staff or user.is_superuser else Role.MEMBER


def default_role(user: Any) -> Role:
    """The role a person without a Membership row has (see ``role_of``)."""
    return Role.ADMIN if user.is_staff or user.is_superuser else Role.MEMBER


def is_admin(user: Any) -> bool:
    """Runs the team: members, budgets, costs, the catalog sync."""
    return role_of(user) == Role.ADMIN


def can_spend(user: Any) -> bool:
    """May submit or retry jobs (by page, API or token): admins and members."""
    return role_of(user) in (Role.ADMIN, Role.MEMBER)


def can_manage(user: Any, obj: Any) -> bool:
    """May act on ``obj`` (cancel or retry a job, edit or delete an image, a
    board): its author or owner, or an admin. Viewers manage nothing, not even
    what they made before they became viewers."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.MEMBER:
        return False
    return owner_id(obj) == user.pk


def owner_id(obj: Any) -> int | None:
    """The id of the person ``obj`` belongs to: a job's author, an image's job's
    author, or anything with an ``owner``/``author``/``user`` (or ``*_id``)."""
    for name in ("author_id", "owner_id", "user_id"):
        value = getattr(obj, name, None)
        if value is not None:
            return int(value)
    job = getattr(obj, "job", None)
    if job is not None:
        return owner_id(job)
    return None
