"""Who may do what: the one place the app decides it.

Every view, service, admin action, API endpoint and the event stream asks
these functions rather than reading ``is_staff`` or comparing author ids
itself, so a change of rules happens here and nowhere else. Roles (admin,
member, viewer) and their rules live in ``webapp.roles``, below every app (the
team app stores them); this module is the stable name the rest of the project
imports. Templates reach the same rules
through ``{% load permissions %}``.

An object someone "manages" is one they made: a job (its author), an image
(its job's author), a board (its owner) or anything else with an
``author_id``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from webapp import roles


class SpendingNotAllowed(PermissionDenied):
    """The person may not submit or retry jobs (a viewer, or deactivated)."""

    message = "Your role is viewer: you can browse the gallery and history but not generate. Ask an admin to make you a member."

    def __init__(self) -> None:
        super().__init__(self.message)


def is_admin(user: Any) -> bool:
    """Runs the team: members, budgets, the Costs page, catalog syncs, settling charges."""
    return roles.is_admin(user)


def can_spend(user: Any) -> bool:
    """Submitting or retrying jobs through pages, the API or a token: admins and members."""
    return roles.can_spend(user)


def can_manage(user: Any, obj: Any) -> bool:
    """Acting on a job, image or board (cancel, retry, delete, watch a private
    job's progress): its author or owner, or an admin. Viewers manage nothing.
    Raises ``TypeError`` for something that has no author: asking is a bug."""
    if roles.owner_id(obj) is None:
        raise TypeError(f"{type(obj).__name__} has no author")
    return roles.can_manage(user, obj)


def require_spend(user: Any) -> None:
    """Raise ``SpendingNotAllowed`` unless ``user`` may spend."""
    if not roles.can_spend(user):
        raise SpendingNotAllowed


def author_id_of(obj: Any) -> Any:
    """The id of the person who made ``obj``: its ``author_id``, or for an image its job's."""
    if hasattr(obj, "author_id"):
        return obj.author_id
    job = getattr(obj, "job", None)
    if job is not None:
        return job.author_id
    raise TypeError(f"{type(obj).__name__} has no author")


def is_author(user: Any, obj: Any) -> bool:
    """``user`` made ``obj`` (a job, an image, a batch…), whatever their role now."""
    return bool(getattr(user, "is_authenticated", False) and author_id_of(obj) == user.pk)
