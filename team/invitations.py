"""Invitations: a single-use, expiring, signed link sent by e-mail.

The link is ``/team/join/<token>`` where ``token`` is Django-signed
``{"i": invitation id, "n": nonce}`` with a timestamp. It is valid while the
signature holds and is younger than ``DARKROOM_INVITATION_DAYS``, the
invitation is pending and unexpired, and the nonce is the newest one (its
SHA-256 is stored; resending makes a new one, so older links stop working).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from team import audit
from team.models import Action, Invitation, Membership, Role

SALT = "team.invitation"


class InvitationError(Exception):
    """An invitation cannot be made, sent or used; ``message`` says why, plainly."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=settings.DARKROOM_INVITATION_DAYS)


def _new_link(invitation: Invitation) -> str:
    """A fresh nonce for the invitation (not saved here) and its signed token."""
    nonce = secrets.token_urlsafe(24)
    invitation.nonce_digest = _digest(nonce)
    return signing.dumps({"i": invitation.pk, "n": nonce}, salt=SALT, compress=True)


def join_url(token: str) -> str:
    return settings.DARKROOM_PUBLIC_URL + reverse("team:join", kwargs={"token": token})


def _send(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "An admin"
    context = {
        "inviter": inviter,
        "role": invitation.get_role_display().lower(),
        "url": join_url(token),
        "expires_at": invitation.expires_at,
        "sso_name": settings.DARKROOM_OIDC["name"] if settings.DARKROOM_OIDC else None,
    }
    send_mail(
        subject=f"{inviter} invited you to Darkroom",
        message=render_to_string("team/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invite(actor: User, email: str, role: Role) -> Invitation:
    """Invite ``email`` as ``role`` and send the link.

    Raises ``InvitationError`` when the address belongs to a member already or
    has a pending invitation (resend that one instead). The row is committed
    before the mail goes out; a mail server that refuses raises
    ``InvitationError`` too, and the invitation stays, ready to be resent.
    """
    email = email.strip()
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError(f"{email} already has an account.")
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                email=email,
                role=role,
                invited_by=actor,
                created_at=now,
                sent_at=now,
                expires_at=now + _lifetime(),
            )
            token = _new_link(invitation)
            invitation.save(update_fields=["nonce_digest"])
            audit.record(
                Action.INVITED, actor=actor, subject_name=email, detail=f"as {role.label.lower()}"
            )
    except IntegrityError:
        raise InvitationError(
            f"{email} has been invited already: resend that invitation instead."
        ) from None
    _deliver(invitation, token)
    return invitation


def resend(actor: User, invitation: Invitation) -> None:
    """Send a new link (the old one stops working) valid for another full period."""
    if invitation.status in ("accepted", "revoked"):
        raise InvitationError(f"The invitation to {invitation.email} was {invitation.status}.")
    now = timezone.now()
    with transaction.atomic():
        token = _new_link(invitation)
        invitation.sent_at = now
        invitation.expires_at = now + _lifetime()
        invitation.save(update_fields=["nonce_digest", "sent_at", "expires_at"])
        audit.record(Action.INVITATION_RESENT, actor=actor, subject_name=invitation.email)
    _deliver(invitation, token)


def _deliver(invitation: Invitation, token: str) -> None:
    try:
        _send(invitation, token)
    except OSError:
        raise InvitationError(
            f"The invitation to {invitation.email} is saved, but the mail server did not "
            "accept the message. Check the e-mail settings, then resend it."
        ) from None


def revoke(actor: User, invitation: Invitation) -> bool:
    """Revoke a pending invitation; False when it was accepted or revoked already."""
    now = timezone.now()
    with transaction.atomic():
        changed = Invitation.objects.pending().filter(pk=invitation.pk).update(revoked_at=now)
        if changed:
            audit.record(Action.INVITATION_REVOKED, actor=actor, subject_name=invitation.email)
    return bool(changed)


def from_token(token: str) -> Invitation:
    """The pending, unexpired invitation the link is for.

    Raises ``InvitationError`` saying what is wrong with the link: unreadable,
    expired, replaced by a newer one, already used, or revoked.
    """
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=_lifetime())
    except signing.SignatureExpired:
        raise InvitationError(
            "This invitation link has expired. Ask the admin who invited you to resend it."
        ) from None
    except signing.BadSignature:
        raise InvitationError(
            "This invitation link is not valid. Check that you copied all of it."
        ) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("n"), str)
        or not isinstance(data.get("i"), int)
    ):
        raise InvitationError("This invitation link is not valid. Check that you copied all of it.")
    invitation = Invitation.objects.filter(pk=data["i"]).first()
    if invitation is None or invitation.nonce_digest != _digest(data["n"]):
        raise InvitationError(
            "This invitation link has been replaced by a newer one or withdrawn. "
            "Use the latest e-mail, or ask an admin to resend it."
        )
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has been used already. Sign in instead.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation has been withdrawn. Ask an admin for a new one.")
    if invitation.is_expired:
        raise InvitationError(
            "This invitation link has expired. Ask the admin who invited you to resend it."
        )
    return invitation


def pending_for_email(email: str) -> Invitation | None:
    """The pending, unexpired invitation for this address, if any."""
    if not email:
        return None
    invitation = Invitation.objects.pending().filter(email__iexact=email.strip()).first()
    return None if invitation is None or invitation.is_expired else invitation


@dataclass(frozen=True)
class NewMember:
    username: str
    email: str
    display_name: str = ""
    password: str | None = None  # None: signs in through SSO only


def accept(invitation: Invitation, person: NewMember, *, how: str) -> User:
    """Create the invited person's account with the invitation's role, once.

    Raises ``InvitationError`` when the invitation was used, revoked or
    resent meanwhile (the conditional update finds no row), or when the
    username is taken.
    """
    with transaction.atomic():
        used = (
            Invitation.objects.pending()
            .filter(pk=invitation.pk, nonce_digest=invitation.nonce_digest)
            .update(accepted_at=timezone.now())
        )
        if not used:
            raise InvitationError("This invitation has been used or withdrawn meanwhile.")
        if User.objects.filter(username__iexact=person.username).exists():
            raise InvitationError(f"The username {person.username} is taken; choose another.")
        user = User.objects.create_user(
            username=person.username, email=person.email, password=person.password
        )
        if person.password is None:
            user.set_unusable_password()
        role = Role(invitation.role)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        Membership.objects.create(user=user, role=role, display_name=person.display_name)
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
        audit.record(
            Action.JOINED,
            actor=user,
            subject=user,
            detail=f"accepted the invitation from {audit.name_of(invitation.invited_by) or 'an admin'} "
            f"as {role.label.lower()} ({how})",
        )
    return user
