"""Request middleware: personal API tokens, and 503 answers while a service is down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse

from webapp import tokens, unavailable

GetResponse = Callable[[HttpRequest], Any]


def unauthorized(message: str) -> JsonResponse:
    response = JsonResponse({"error": {"code": "unauthorized", "message": message}}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="darkroom", error="invalid_token"'
    return response


class ApiTokenMiddleware:
    """When a request carries a bearer token, it is the request's user.

    Place right after AuthenticationMiddleware (and before LoginRequiredMiddleware,
    which then sees a logged-in user). Without an ``Authorization: Bearer``
    header nothing changes: the session decides. With one, an unknown or
    revoked token is refused with 401 for every URL, so a client never
    silently falls back to anonymous. Token requests skip CSRF: a browser never
    attaches this header on its own, so a cross-site page cannot forge one.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        denied = await sync_to_async(self._authenticate)(request)
        if denied is not None:
            return denied
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response

    def _authenticate(self, request: HttpRequest) -> HttpResponse | None:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        raw = raw.strip()
        if not raw:
            return unauthorized("The Authorization header has no token.")
        token = tokens.authenticate(raw)
        if token is None:
            return unauthorized("This API token is unknown, expired or revoked.")
        _login(request, token.user)
        request.api_token = token  # type: ignore[attr-defined]
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return None


def _login(request: HttpRequest, user: AbstractBaseUser) -> None:
    async def auser() -> AbstractBaseUser:
        return user

    request.user = user  # type: ignore[assignment]
    request.auser = auser  # type: ignore[assignment]


class UnavailableMiddleware:
    """Answers 503 with a message when a service the request needs is down.

    Place first in MIDDLEWARE. An outage raised by the view is answered here
    (``process_exception``); one raised by another middleware has already been
    turned into a 500 by Django, marked by ``unavailable.mark_request``, and is
    replaced here on the way out. Works the same with DEBUG on.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self._replace(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response: Awaitable[HttpResponse] = self.get_response(request)
        return self._replace(request, await response)

    def _replace(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        service = unavailable.marked_service(request)
        if service is not None and response.status_code == 500:
            return unavailable.response(request, service)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        service = unavailable.service_of(exception)
        if service is None:
            return None
        unavailable.log(request, service, exception)
        return unavailable.response(request, service)
