"""The JSON API under /api/v1/, on django-ninja: the ``NinjaAPI``, its public
index and OpenAPI document, and the URL patterns Django includes.

Every answer is JSON of one shape on failure (``generation.api.errors``); the
OpenAPI document is generated from the operations and schemas and served at
``openapi.json``. Ninja's own views answer a wrong method with a plain 405
and know nothing of ``LoginRequiredMiddleware``; ``_json_view`` adapts each
of them (and answers HEAD as GET, as Django's views do).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error as html_server_error
from ninja import NinjaAPI

from generation.api import errors
from generation.api.auth import SessionAuth, TokenAuth
from generation.api.body import GuardedJsonParser
from generation.api.jobs import router as jobs_router
from generation.api.schemas import JOB_FIELDS, Index
from generation.models import Job

DESCRIPTION = (
    "Generate images through Darkroom. Authenticate with a personal API token (create one "
    "on your profile page) as `Authorization: Bearer drk_…`, or with a logged-in session "
    "(then writes need the `X-CSRFToken` header). Image URLs take the same token. Every "
    'error is JSON: `{"error": {"code", "message", "fields"?}}`.'
)
SECURITY_SCHEME_NAMES = {"TokenAuth": "token", "SessionAuth": "session"}
SECURITY_SCHEME_HELP = {
    "token": "A personal API token, `drk_…`, from the profile page.",
    "session": "A logged-in session; writes need the `X-CSRFToken` header.",
}


class DarkroomAPI(NinjaAPI):
    """A ``NinjaAPI`` with only the project's exception handlers (anything they
    do not cover goes on to Django) and plain ``application/json`` answers."""

    def set_default_exception_handlers(self) -> None:
        errors.install(
            self,
            {
                "jobs": {"": JOB_FIELDS},
                "jobs-batch": {"": ("jobs",), "jobs[]": JOB_FIELDS},
            },
        )

    def get_content_type(self) -> str:
        return "application/json"


api = DarkroomAPI(
    title="Darkroom API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    parser=GuardedJsonParser(),
    openapi_url=None,
    docs_url=None,
)
api.add_router("", jobs_router)


@cache
def _document() -> dict[str, Any]:
    # Through JSON: ninja keys responses by int status, the document by text.
    document: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(path_prefix="")))
    # Ninja names a security scheme after its class; keep the names clients know.
    components = document["components"]
    schemes = components.pop("securitySchemes", {})
    components["securitySchemes"] = {}
    for name, scheme in schemes.items():
        shown = SECURITY_SCHEME_NAMES.get(name, name)
        components["securitySchemes"][shown] = {
            **scheme,
            "description": SECURITY_SCHEME_HELP.get(shown, ""),
        }
    for item in document["paths"].values():
        for operation in item.values():
            if "security" in operation:
                operation["security"] = [
                    {SECURITY_SCHEME_NAMES.get(name, name): scopes for name, scopes in s.items()}
                    for s in operation["security"]
                ]
    return document


def openapi_document(server_url: str) -> dict[str, Any]:
    """The generated OpenAPI 3.1 document, with ``server_url`` (the API's base,
    no trailing slash) as its server."""
    document = copy.deepcopy(_document())
    document["servers"] = [{"url": server_url}]
    return document


@api.get(
    "/openapi.json",
    auth=None,
    url_name="openapi",
    operation_id="openapi",
    summary="This document",
    response={200: dict[str, Any]},
)
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 document; public, like any API's documentation."""
    server = request.build_absolute_uri(reverse("api:index")).rstrip("/")
    return JsonResponse(openapi_document(server), json_dumps_params={"indent": 2})


@api.get(
    "/",
    auth=None,
    url_name="index",
    operation_id="index",
    summary="Links to the schema and the jobs (HTML documentation for browsers)",
    response={200: Index},
    openapi_extra={
        "responses": {
            200: {
                "description": "JSON index, or the documentation page when the client asks "
                "for text/html.",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        }
    },
)
def index(request: HttpRequest) -> HttpResponse:
    """Browsers get the API's documentation page; other clients a JSON index."""
    links = {
        "openapi": request.build_absolute_uri(reverse("api:openapi")),
        "jobs": request.build_absolute_uri(reverse("api:jobs")),
    }
    if "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse({"name": "Darkroom API", "version": "v1", "links": links})
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    base = reverse("api:index").rstrip("/")
    endpoints = [
        {"method": method.upper(), "path": base + path, "summary": operation.get("summary", "")}
        for path, item in _document()["paths"].items()
        for method, operation in item.items()
    ]
    return render(
        request,
        "generation/api_docs.html",
        {
            "links": links,
            "api_base": request.build_absolute_uri(reverse("api:index")),
            "profile_url": _reverse_or_none("profile"),
            "example_model": _example_model(),
            "endpoints": endpoints,
        },
    )


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _example_model() -> str:
    job = Job.objects.order_by("-created_at").values_list("model_slug", flat=True).first()
    return job or "google/gemini-2.5-flash-image"


def _json_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """One of ninja's views, public to ``LoginRequiredMiddleware`` (the API
    authenticates itself), with HEAD answered as GET and a JSON 405."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        response = view(request, *args, **kwargs)
        if head:
            request.method = "HEAD"
        if response.status_code == 405 and "Allow" in response:
            allowed = [method.strip() for method in response["Allow"].split(",")]
            allowed = sorted(allowed) + (["HEAD"] if "GET" in allowed else [])
            return errors.method_not_allowed(request.method or "", allowed)
        return response

    return login_not_required(csrf_exempt(wrapper))


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return errors.error_response(404, "not_found", f"No API endpoint at {request.path}.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(reverse("api:index")):
        return errors.error_response(500, "internal", "Something went wrong on our side.")
    return html_server_error(request)


def _patterns() -> list[Any]:
    """Ninja's patterns, one per route (it repeats a route once per method), less
    its bare root view: ``index`` is the root."""
    patterns, _app_name, _namespace = api.urls
    adapted: list[Any] = []
    seen: set[str] = set()
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route in seen or pattern.name == "api-root":
            continue
        seen.add(route)
        adapted.append(
            URLPattern(
                pattern.pattern, _json_view(pattern.callback), pattern.default_args, pattern.name
            )
        )
    return adapted


app_name = "api"
urlpatterns = [*_patterns(), re_path(r"^(?P<rest>.*)$", not_found, name="not-found")]
