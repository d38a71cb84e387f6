"""Who may call the API: a personal API token (``Authorization: Bearer drk_…``)
or a logged-in session, whose writes need the CSRF token as any form does.

``webapp.middleware.ApiTokenMiddleware`` has already resolved a bearer token for
every URL (and refused an unknown one with 401); ``TokenAuth`` takes its
answer rather than looking the token up again, and looks it up itself only
where the middleware did not run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import APIKeyCookie, HttpBearer

from generation.api.errors import ApiError
from webapp import tokens

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TokenAuth(HttpBearer):
    """A personal API token, by the rules of ``webapp.tokens`` (live, of an
    active user); an unknown or revoked token is a 401, never a fall back to
    the session."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        resolved = getattr(request, "api_token", None)
        if resolved is not None and resolved.digest == tokens.digest(token.strip()):
            return resolved.user
        found = tokens.authenticate(token.strip())
        if found is None:
            raise ApiError(401, "unauthorized", "This API token is unknown, expired or revoked.")
        return found.user


class SessionAuth(APIKeyCookie):
    """The logged-in session. A session request that changes something must pass
    Django's CSRF check (answered here, as JSON, rather than by the middleware:
    ninja's views are exempt from it)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and _csrf_rejected(request):
            raise ApiError(
                403,
                "csrf_failed",
                "A session request that changes something needs the CSRF token "
                "(X-CSRFToken header); API clients should use a token instead.",
            )
        return user


def _csrf_rejected(request: HttpRequest) -> bool:
    """Whether Django's CSRF check refuses this request (token requests are
    exempt: the middleware marks them)."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    return check.process_view(request, lambda _request: HttpResponse(), (), {}) is not None


def caller(request: HttpRequest) -> User:
    """The user an authenticated operation runs for."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user
