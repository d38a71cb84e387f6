"""Refuse, with a 400, any request whose path or query string holds text that
cannot be stored (NUL, lone surrogates): no view, form or lookup needs to
guard its URL parameters against it. Form bodies are cleaned by the forms
(``webapp.inputs.CleanInputMixin``), so their messages land on their fields;
the API cleans its JSON itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from webapp import inputs

API_PREFIX = "/api/"


class UnstorableInputMiddleware:
    """Place after AuthenticationMiddleware: the 400 page is an ordinary page."""

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
        if self._refused(request):
            return _bad_request(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if self._refused(request):
            # The page reads the session (who is logged in): not on the event loop.
            return await sync_to_async(_bad_request)(request)
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response

    @staticmethod
    def _refused(request: HttpRequest) -> bool:
        return inputs.unstorable(request.path) or not inputs.query_is_storable(request.GET)


def _bad_request(request: HttpRequest) -> HttpResponse:
    message = (
        "The address holds a character that cannot be stored (a NUL or a broken "
        "Unicode character); remove it and try again."
    )
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": {"code": "invalid_request", "message": message}}, status=400)
    return render(request, "webapp/bad_input.html", {"message": message}, status=400)
