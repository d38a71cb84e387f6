"""Personal API tokens: create, authenticate, revoke.

A token is ``drk_`` + ``secrets.token_urlsafe(32)``. Only its SHA-256 is
stored, so a database dump does not hand out access; the plain token exists
once, in the answer to the request that created it. Tokens are 256-bit random
values, so an unsalted fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from webapp.models import ApiToken

TOKEN_PREFIX = "drk_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token: a client polling a job
# every second must not turn every read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` (refused after ``expires_at`` when given); returns
    the row and the plain token, which is not kept anywhere and cannot be shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw[:PREFIX_LENGTH],
        digest=digest(raw),
        expires_at=expires_at,
    )
    return token, raw


def revoke(token: ApiToken) -> bool:
    """Revoke the token; False if it was revoked already."""
    now = timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
    return bool(changed)


def authenticate(raw: str) -> ApiToken | None:
    """The live token matching ``raw`` (with its user loaded), or None when it is
    unknown, revoked, expired, or belongs to a deactivated user."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        # The role (team.Membership) comes along: every API request asks it.
        ApiToken.objects.select_related("user", "user__membership")
        .filter(digest=digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or token.is_expired or not token.user.is_active:
        return None
    touch(token)
    return token


def touch(token: ApiToken) -> None:
    """Record that the token was used, at most once per TOUCH_INTERVAL."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    # Conditional, so that concurrent requests with one token write once.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
