from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from webapp import permissions


def team(request: HttpRequest) -> dict[str, object]:
    """``team_admin``: whether to show the admin-only navigation; ``team_can_spend``:
    whether to offer generating (both read only when a template uses them)."""
    user = getattr(request, "user", None)
    return {
        "team_admin": SimpleLazyObject(lambda: permissions.is_admin(user)),
        "team_can_spend": SimpleLazyObject(lambda: permissions.can_spend(user)),
    }
