"""Sign-in pages: the login form (rate-limited, switchable off), the SSO button,
password reset by e-mail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator

from team import audit, ratelimit, sso
from team.models import Action


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing at once once the address or the username has
    failed too often (``team.ratelimit``), without checking the password."""

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))[:150]
        keys = ratelimit.keys_for(self.request, "login", username)  # type: ignore[arg-type]
        if ratelimit.blocked(keys):
            self.rate_limited = True
            raise forms.ValidationError(ratelimit.MESSAGE, code="rate_limited")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            ratelimit.fail(keys)
            raise
        ratelimit.clear(keys[1:])  # the username's counter; the address's runs out by itself
        return cleaned


def _sign_in_context() -> dict[str, Any]:
    return {"password_login": settings.DARKROOM_PASSWORD_LOGIN, "provider": sso.provider_name()}


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """The login page: a password form when password sign-in is on, the SSO
    button when single sign-on is configured. Too many failures answer 429."""

    form_class = RateLimitedAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **_sign_in_context()}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DARKROOM_PASSWORD_LOGIN:
            return self.render_to_response(
                {**self.get_context_data(), "password_refused": True}, status=403
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if getattr(form, "rate_limited", False):
            response.status_code = 429
        return response


class RateLimitedPasswordResetForm(PasswordResetForm):
    """Every request counts against the address's limit, so the form cannot be
    used to flood someone's mailbox. The answer is the same whether or not the
    address has an account."""

    def clean(self) -> dict[str, Any]:
        keys = ratelimit.keys_for(self.request, "reset")  # type: ignore[attr-defined]
        if ratelimit.blocked(keys):
            raise forms.ValidationError(ratelimit.MESSAGE, code="rate_limited")
        ratelimit.fail(keys)
        return super().clean() or {}

    def get_users(self, email: str) -> Any:
        users = list(super().get_users(email))
        for user in users:
            audit.record(Action.PASSWORD_RESET, subject=user, detail="a reset link was e-mailed")
        return users


def _password_login_on() -> None:
    if not settings.DARKROOM_PASSWORD_LOGIN:
        raise Http404("Password sign-in is switched off: sign in through single sign-on.")


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = RateLimitedPasswordResetForm
    template_name = "team/password_reset.html"
    email_template_name = "team/email/password_reset.txt"
    subject_template_name = "team/email/password_reset_subject.txt"
    success_url = "/password-reset/sent/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _password_login_on()
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.request = self.request  # type: ignore[attr-defined]
        return form

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"public_url": settings.DARKROOM_PUBLIC_URL}
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 429 if form.has_error("__all__", "rate_limited") else 400
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "team/password_reset_sent.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "team/password_reset_confirm.html"
    success_url = "/login/"
    post_reset_login = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        _password_login_on()
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(
            Action.PASSWORD_CHANGED, actor=form.user, subject=form.user, detail="by a reset link"
        )
        messages.success(self.request, "Your password is changed. Sign in with it now.")
        return response
