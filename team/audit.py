"""The audit log: one row per action on a member, written by the service that acts."""

from __future__ import annotations

from typing import Any

from team.models import Action, AuditEvent


def name_of(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.get_username())


def record(
    action: Action,
    *,
    actor: Any = None,
    subject: Any = None,
    subject_name: str = "",
    detail: str = "",
) -> AuditEvent:
    """Write one event. ``subject_name`` defaults to the subject's username
    (give it for an invitation, whose subject has no account yet)."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if name_of(actor) else None,
        actor_name=name_of(actor),
        subject=subject if name_of(subject) else None,
        subject_name=subject_name or name_of(subject),
        detail=detail[:300],
    )
