"""Sign-in URLs at the site's root: login, logout, password reset, and the
parts of allauth single sign-on uses."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path, re_path

from team import auth, profile


@login_not_required
def to_login(request: HttpRequest, rest: str = "") -> HttpResponse:
    """allauth's own account pages (its password login, sign-up) are not used."""
    return redirect("login")


urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("profile/", profile.profile, name="profile"),
    path("profile/details", profile.details, name="profile-details"),
    path("profile/password", profile.password, name="profile-password"),
    path("profile/generation", profile.generation_defaults, name="profile-generation"),
    path("profile/tokens/<int:token_id>/revoke", profile.revoke_token, name="profile-token-revoke"),
    # Single sign-on: /accounts/oidc/sso/login/ and its callback, and allauth's
    # error pages; every other allauth page sends people to the login page.
    re_path(r"^accounts/(?!oidc/|3rdparty/)(?P<rest>.*)$", to_login),
    path("accounts/", include("allauth.urls")),
]
