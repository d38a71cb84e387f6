"""Last seen: the Members page shows when each person last used Darkroom."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from team.models import Membership
from webapp import roles

# A person's row is written at most this often: every request of a busy page
# must not become a database write.
INTERVAL_SECONDS = 300


def touch(request: HttpRequest, user: Any) -> None:
    """Record that ``user`` was here, at most once per INTERVAL_SECONDS, in one
    upsert. Requests with an API token are left out: the token's own
    ``last_used_at`` records them, and the Members page shows the later of both."""
    if not getattr(user, "is_authenticated", False) or hasattr(request, "api_token"):
        return
    try:
        if not cache.add(f"team:seen:{user.pk}", 1, INTERVAL_SECONDS):
            return
    except Exception:
        return
    Membership.objects.bulk_create(
        [Membership(user_id=user.pk, role=roles.default_role(user), last_seen_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["last_seen_at"],
    )


class LastSeenMiddleware:
    """Place after the authentication middlewares (session and API token)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        touch(request, request.user)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser()
        await sync_to_async(touch)(request, user)
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response
