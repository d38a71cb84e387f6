"""Who may do what: the one place the app decides it.

Every view, service, admin action and API endpoint asks these functions rather
than reading ``is_staff`` or comparing author ids itself, so a change of rules
(roles, say) happens here and nowhere else.

Today there are two kinds of people: staff (the admins) and everyone else
(members). An object someone "manages" is one they made: a job (its author),
an image (its job's author) or anything else with an ``author_id``.
"""

from __future__ import annotations

from typing import Any, Protocol


class Person(Protocol):
    """A signed-in ``User`` or an ``AnonymousUser``."""

    @property
    def pk(self) -> Any: ...

    @property
    def is_staff(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def is_authenticated(self) -> bool: ...


def is_admin(user: Person) -> bool:
    """Staff: they see the Costs page, set budgets, start catalog syncs and settle charges."""
    return bool(user.is_authenticated and user.is_staff)


def author_id_of(obj: Any) -> Any:
    """The id of the person who made ``obj``: its ``author_id``, or for an image its job's."""
    if hasattr(obj, "author_id"):
        return obj.author_id
    job = getattr(obj, "job", None)
    if job is not None:
        return job.author_id
    raise TypeError(f"{type(obj).__name__} has no author")


def is_author(user: Person, obj: Any) -> bool:
    """``user`` made ``obj`` (a job, an image, a batch…)."""
    return bool(user.is_authenticated and author_id_of(obj) == user.pk)


def can_manage(user: Person, obj: Any) -> bool:
    """The author or staff: they may cancel, retry, delete, watch a private job's progress."""
    return is_admin(user) or is_author(user, obj)


def can_spend(user: Person) -> bool:
    """May start work that costs money. Every active account may, within its budgets."""
    return bool(user.is_authenticated and user.is_active)
