"""Single sign-on through allauth's OpenID Connect client: who may sign in, and how
they join.

A person signing in through the identity provider is let in when
- their provider account is linked already (they signed in this way before), or
- an active Darkroom account has the same e-mail address (it is linked now), or
- they hold a Darkroom invitation: the link they opened in this browser
  (``SESSION_INVITATION``), or a pending one for their address; they join with
  its role, or
- ``DARKROOM_SSO_EMAIL_DOMAINS`` is set and their address is in one of those
  domains: they join as members.
Everyone else, deactivated people, and addresses outside the configured domains
are refused with a page that says why. The provider must vouch for the address:
one it marks ``email_verified: false`` never matches an account.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

from team import audit, invitations
from team.models import Action, Invitation, Membership, Role

SESSION_INVITATION = "team_invitation"


def provider_name() -> str | None:
    return settings.DARKROOM_OIDC["name"] if settings.DARKROOM_OIDC else None


def domain_allowed(email: str) -> bool:
    domains = settings.DARKROOM_SSO_EMAIL_DOMAINS
    if not domains:
        return True
    return email.rpartition("@")[2].lower() in domains


def refuse(request: HttpRequest, message: str, email: str = "") -> ImmediateHttpResponse:
    audit.record(Action.SIGN_IN_REFUSED, subject_name=email, detail=message)
    response = render(
        request,
        "team/sso_refused.html",
        {"message": message, "provider": provider_name()},
        status=403,
    )
    return ImmediateHttpResponse(response)


def _claims(sociallogin: SocialLogin) -> dict[str, Any]:
    data = sociallogin.account.extra_data or {}
    # allauth keeps userinfo and the ID token's claims side by side.
    merged = dict(data.get("id_token") or {})
    merged.update(data.get("userinfo") or {})
    return merged or dict(data)


def _email(sociallogin: SocialLogin) -> tuple[str, bool]:
    """The address the provider gave and whether it may be trusted: a provider
    that says ``email_verified: false`` is not trusted; one that says nothing
    (Microsoft Entra) is, since the operator chose it as the team's provider."""
    claims = _claims(sociallogin)
    email = str(claims.get("email") or getattr(sociallogin.user, "email", "") or "").strip()
    return email, claims.get("email_verified", True) not in (False, "false")


def _session_invitation(request: HttpRequest) -> Invitation | None:
    token = request.session.get(SESSION_INVITATION)
    if not token:
        return None
    try:
        return invitations.from_token(token)
    except invitations.InvitationError:
        return None


class AccountAdapter(DefaultAccountAdapter):
    """Nobody signs up by themselves: people are invited, or come in through SSO."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        email, trusted = _email(sociallogin)
        if sociallogin.is_existing:
            user = sociallogin.user
            if not user.is_active:
                raise refuse(request, "Your Darkroom account has been deactivated.", email)
            return
        if not email or not trusted:
            raise refuse(
                request,
                "Your identity provider did not confirm an e-mail address, so Darkroom "
                "cannot tell who you are. Ask your administrator.",
                email,
            )
        if not domain_allowed(email):
            domains = ", ".join(settings.DARKROOM_SSO_EMAIL_DOMAINS)
            raise refuse(request, f"Sign-in is limited to addresses at {domains}.", email)
        existing = User.objects.filter(email__iexact=email).order_by("pk").first()
        if existing is not None:
            if not existing.is_active:
                raise refuse(request, "Your Darkroom account has been deactivated.", email)
            sociallogin.connect(request, existing)
            return
        if (
            _session_invitation(request) is None
            and invitations.pending_for_email(email) is None
            and not settings.DARKROOM_SSO_EMAIL_DOMAINS
        ):
            raise refuse(
                request,
                f"There is no Darkroom account for {email}. Ask an admin to invite you.",
                email,
            )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # pre_social_login refused everyone who may not join.
        return True

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        """Create the account, then its membership: the invitation's role (the
        invitation is used up), or member for someone from an allowed domain."""
        email, _ = _email(sociallogin)
        invitation = _session_invitation(request) or invitations.pending_for_email(email)
        user = super().save_user(request, sociallogin, form)
        name = str(_claims(sociallogin).get("name") or "")[:150]
        how = f"through {provider_name()}"
        if invitation is not None:
            used = Invitation.objects.pending().filter(pk=invitation.pk)
            if used.update(accepted_at=timezone.now(), accepted_by=user):
                role = Role(invitation.role)
                detail = (
                    f"accepted the invitation from "
                    f"{audit.name_of(invitation.invited_by) or 'an admin'} as {role.label.lower()} ({how})"
                )
            else:
                role, detail = Role.MEMBER, f"joined {how}"
        else:
            role, detail = Role.MEMBER, f"joined {how} (address at an allowed domain)"
        request.session.pop(SESSION_INVITATION, None)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        Membership.objects.update_or_create(
            user=user, defaults={"role": role, "display_name": name}
        )
        audit.record(Action.JOINED, actor=user, subject=user, detail=detail)
        return user
