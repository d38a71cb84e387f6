"""The profile page: display name and e-mail, the Generate page's defaults,
password, personal API tokens.

Each form posts to its own URL; the token form keeps ``/profile/`` itself. A new
token is shown in the answer to the POST that made it and never again (only its
digest is stored), so the page is never cached.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog import snapshot
from generation import preferences
from team import audit, members, sso
from team.forms import GenerationDefaultsForm, ProfileForm, TokenForm
from team.models import Action
from webapp import permissions, tokens
from webapp.http import AuthenticatedRequest
from webapp.models import ApiToken

MAX_ACTIVE_TOKENS = 25


def _password_form(request: AuthenticatedRequest, data: Any = None) -> Any:
    # Someone who joined through SSO has no password yet: they set one without the old one.
    form_class = PasswordChangeForm if request.user.has_usable_password() else SetPasswordForm
    form = form_class(request.user, data)
    # Django's password forms autofocus their first field: on a page of several
    # forms that skips the skip link and the display name, and on a phone it
    # opens the keyboard at once.
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)
    return form


def _model_choices() -> list[tuple[str, str]]:
    return [(model.slug, model.name) for model in snapshot.current().models]


def _defaults_form(request: AuthenticatedRequest, data: Any = None) -> GenerationDefaultsForm:
    stored = preferences.preferences_for(request.user)
    return GenerationDefaultsForm(
        data, models=_model_choices(), initial={"model": stored.model_slug, "keep_options": True}
    )


def _page(
    request: AuthenticatedRequest,
    *,
    status: int = 200,
    new_token: str | None = None,
    **forms: Any,
) -> HttpResponse:
    user = request.user
    context = {
        "details_form": forms.get("details_form")
        or ProfileForm(
            user=user,
            initial={"display_name": members.display_name_field(user), "email": user.email},
        ),
        "password_form": forms.get("password_form") or _password_form(request),
        "defaults_form": forms.get("defaults_form") or _defaults_form(request),
        "form": forms.get("token_form") or TokenForm(),
        "new_token": new_token,
        "password_login": settings.DARKROOM_PASSWORD_LOGIN,
        "provider": sso.provider_name(),
        "can_spend": permissions.can_spend(user),
        # Live tokens first, newest first; then the revoked ones.
        "tokens": ApiToken.objects.filter(user=user).order_by(
            F("revoked_at").desc(nulls_first=True), "-created_at"
        ),
    }
    response = render(request, "team/profile.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def profile(request: AuthenticatedRequest) -> HttpResponse:
    """The page; a POST here creates an API token."""
    if request.method != "POST":
        return _page(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, token_form=form)
    active = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
    if active.count() >= MAX_ACTIVE_TOKENS:
        form.add_error(None, f"You have {MAX_ACTIVE_TOKENS} tokens; revoke one to create another.")
        return _page(request, status=400, token_form=form)
    _, raw = tokens.create(request.user, form.cleaned_data["name"], form.expires_at())
    return _page(request, new_token=raw)


@require_POST
def details(request: AuthenticatedRequest) -> HttpResponse:
    form = ProfileForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, status=400, details_form=form)
    changed = members.update_profile(
        request.user,
        display_name=form.cleaned_data["display_name"].strip(),
        email=form.cleaned_data["email"],
    )
    messages.success(request, "Saved." if changed else "Nothing changed.")
    return redirect("profile")


@require_POST
def generation_defaults(request: AuthenticatedRequest) -> HttpResponse:
    """Set the model the Generate page opens with (until the next submit changes it)."""
    permissions.require_spend(request.user)
    form = _defaults_form(request, request.POST)
    if not form.is_valid():
        return _page(request, status=400, defaults_form=form)
    stored = preferences.preferences_for(request.user)
    slug = form.cleaned_data["model"]
    same_model = stored.model_slug == slug
    preferences.remember(
        request.user,
        model_slug=slug,
        style=stored.style if same_model else "",
        options=stored.options if same_model and form.cleaned_data["keep_options"] else {},
    )
    request.session.pop(preferences.SESSION_KEY, None)
    messages.success(request, "The Generate page will open with this model.")
    return redirect("profile")


@require_POST
def password(request: AuthenticatedRequest) -> HttpResponse:
    if not settings.DARKROOM_PASSWORD_LOGIN:
        raise Http404("Password sign-in is switched off.")
    form = _password_form(request, request.POST)
    if not form.is_valid():
        return _page(request, status=400, password_form=form)
    form.save()
    # Other sessions of this person end (their session hash changes); this one stays.
    update_session_auth_hash(request, form.user)
    audit.record(Action.PASSWORD_CHANGED, actor=request.user, subject=request.user)
    messages.success(request, "Your password is changed. Other devices are signed out.")
    return redirect("profile")


@require_POST
def revoke_token(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise Http404("No such token.")
    if tokens.revoke(token):
        messages.success(request, f"Revoked “{token.name}” ({token.prefix}…).")
    else:
        messages.info(request, f"“{token.name}” was revoked already.")
    return redirect("profile")
