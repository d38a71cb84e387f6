"""Request types for views behind LoginRequiredMiddleware and django-htmx."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthenticatedRequest(HttpRequest):
    """Every view that is not @login_not_required sees a logged-in user."""

    user: User
    htmx: HtmxDetails
