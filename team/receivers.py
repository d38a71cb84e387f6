"""Sign-ins go into the audit log, whichever way they happen (password or SSO).

Django's ``user_logged_in`` is the one moment every sign-in path shares, so
this is the place to see them all.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from team import audit
from team.middleware import touch
from team.models import Action


@receiver(user_logged_in, dispatch_uid="team.audit_sign_in")
def record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    from team.sso import provider_name

    how = (
        f"through {provider_name()}" if request.path.startswith("/accounts/") else "with a password"
    )
    audit.record(Action.SIGNED_IN, actor=user, subject=user, detail=how)
    # Signing in is being seen; it also starts the interval, so the first page is not a write.
    touch(request, user)
