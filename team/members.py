"""Changes to members: role, deactivation, profile. Each writes its audit event
in the same transaction as the change."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from generation import progress
from team import audit
from team.models import Action, Membership, Role
from webapp import roles
from webapp.models import ApiToken


class MemberError(Exception):
    """A change that cannot be made; ``message`` says why, plainly."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def membership(user: User) -> Membership:
    """The person's Membership row, written now if they had none (with the role
    ``roles.role_of`` gave them until now)."""
    found, _ = Membership.objects.get_or_create(
        user=user, defaults={"role": roles.default_role(user)}
    )
    return found


def active_admins() -> int:
    """How many active people are admins."""
    return sum(1 for user in User.objects.filter(is_active=True) if roles.is_admin(user))


def _keep_an_admin(user: User) -> None:
    if roles.is_admin(user) and active_admins() <= 1:
        raise MemberError(
            f"{user.get_username()} is the only admin: make someone else an admin first."
        )


def set_role(actor: User, user: User, role: Role) -> bool:
    """Give ``user`` the role; False when they had it already.

    Admins are Django staff and superusers (the Django admin follows the
    role); other roles are neither. The last active admin cannot step down.
    """
    with transaction.atomic():
        row = membership(user)
        old = Role(row.role)
        if old == role:
            return False
        if old == Role.ADMIN:
            _keep_an_admin(user)
        row.role = role
        row.save(update_fields=["role"])
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        audit.record(
            Action.ROLE_CHANGED,
            actor=actor,
            subject=user,
            detail=f"from {old.label.lower()} to {role.label.lower()}",
        )
    return True


def end_sessions(user: User) -> int:
    """Delete every session signed in as ``user``; returns how many.

    Sessions are stored encoded, so each live one is read: a team's sessions
    number in the hundreds, and this runs once per deactivation.
    """
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def deactivate(actor: User, user: User) -> None:
    """Stop ``user`` signing in: their sessions end, their API tokens are
    revoked and their open live-progress streams close, at once. Their images, jobs and costs stay theirs."""
    if user.pk == actor.pk:
        raise MemberError("You cannot deactivate yourself: ask another admin.")
    if not user.is_active:
        raise MemberError(f"{user.get_username()} is deactivated already.")
    with transaction.atomic():
        _keep_an_admin(user)
        now = timezone.now()
        user.is_active = False
        user.save(update_fields=["is_active"])
        row = membership(user)
        row.deactivated_at = now
        row.save(update_fields=["deactivated_at"])
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        sessions = end_sessions(user)
        audit.record(
            Action.DEACTIVATED,
            actor=actor,
            subject=user,
            detail=f"{sessions} session(s) ended, {tokens} API token(s) revoked",
        )
        # Open live-progress pages hold no session read: tell them, once this is true.
        transaction.on_commit(lambda: progress.publish_signed_out(user.pk))


def reactivate(actor: User, user: User) -> None:
    """Let a deactivated person sign in again (with the role they had; their
    old API tokens stay revoked)."""
    if user.is_active:
        raise MemberError(f"{user.get_username()} is active already.")
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        Membership.objects.filter(user=user).update(deactivated_at=None)
        audit.record(Action.REACTIVATED, actor=actor, subject=user)


def update_profile(user: User, *, display_name: str, email: str) -> list[str]:
    """Save the person's own display name and e-mail; returns what changed."""
    changed = []
    with transaction.atomic():
        row = membership(user)
        if row.display_name != display_name:
            row.display_name = display_name
            row.save(update_fields=["display_name"])
            changed.append("display name")
        if user.email != email:
            old = user.email or "none"
            user.email = email
            user.save(update_fields=["email"])
            changed.append(f"e-mail (was {old})")
        if changed:
            audit.record(
                Action.PROFILE_CHANGED,
                actor=user,
                subject=user,
                detail="changed " + ", ".join(changed),
            )
    return changed


def display_name(user: User) -> str:
    """What to call the person: their display name, else their username."""
    try:
        return user.membership.display_name or user.get_username()
    except Membership.DoesNotExist:
        return user.get_username()


def display_name_field(user: User) -> str:
    """The display name as saved (empty when the person has none)."""
    try:
        return user.membership.display_name
    except Membership.DoesNotExist:
        return ""
