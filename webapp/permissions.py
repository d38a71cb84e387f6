"""The one permissions module: every page, the API and the event stream ask here.

Roles (admin, member, viewer) live in the team app (``team.roles``); this
module is the stable name the rest of the project imports.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from team import roles


class SpendingNotAllowed(PermissionDenied):
    """The person may not submit or retry jobs (a viewer, or deactivated)."""

    message = "Your role is viewer: you can browse the gallery and history but not generate. Ask an admin to make you a member."

    def __init__(self) -> None:
        super().__init__(self.message)


def is_admin(user: Any) -> bool:
    """Members, budgets, costs and the catalog sync."""
    return roles.is_admin(user)


def can_spend(user: Any) -> bool:
    """Submitting or retrying jobs through pages, the API or a token."""
    return roles.can_spend(user)


def can_manage(user: Any, obj: Any) -> bool:
    """Acting on a job, image or board: its author or owner, or an admin."""
    return roles.can_manage(user, obj)


def require_spend(user: Any) -> None:
    """Raise ``SpendingNotAllowed`` unless ``user`` may spend."""
    if not roles.can_spend(user):
        raise SpendingNotAllowed
