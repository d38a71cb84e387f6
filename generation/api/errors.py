"""The API's one error shape, ``{"error": {"code", "message", "fields"?}}``, and
the exception handlers that give every failure that shape.

Handlers cover our own ``ApiError``, ninja's validation errors (pydantic's
messages are replaced by plain sentences keyed by the request's own names),
authentication failures, 404s, bodies that cannot be read, and the body
parser's refusals (``webapp.inputs.BadInput``, which ninja re-raises as an
``HttpError`` caused by it). Anything else is left to Django: handler500
answers JSON under /api/, and ``UnavailableMiddleware`` turns an outage into
a 503.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from webapp import inputs

# Every code an error can carry; the OpenAPI document lists them.
CODES = (
    "invalid_request",
    "unauthorized",
    "csrf_failed",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "budget_exceeded",
    "payload_too_large",
    "unavailable",
    "internal",
)
STATUS_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
}
UNAUTHORIZED_MESSAGE = (
    "Authenticate with an API token (Authorization: Bearer drk_…) or a logged-in session."
)
BODY_NOT_OBJECT = "The request body must be a JSON object."


class ApiError(Exception):
    """An error answered as ``{"error": {...}}`` with its HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields) if fields else None

    def response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message, self.fields)


def error_response(
    status: int, code: str, message: str, fields: Mapping[str, list[str]] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    response = JsonResponse({"error": body}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="darkroom"'
    return response


def invalid(message: str, fields: Mapping[str, list[str]] | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, fields)


def method_not_allowed(method: str, allowed: Sequence[str]) -> JsonResponse:
    shown = [name for name in allowed if name != "HEAD"]
    response = error_response(
        405,
        "method_not_allowed",
        f"{method} is not allowed here; use {' or '.join(shown)}.",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def field_message(error: Mapping[str, Any], known_fields: Sequence[str] = ()) -> str:
    """A pydantic error as a sentence about the value the client sent."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    loc = error.get("loc", ())
    in_list = bool(loc) and isinstance(loc[-1], int)  # an item of a list field
    if kind == "missing":
        return "This field is required."
    if kind == "string_type":
        return "Must be a list of strings." if in_list else "Must be a string."
    if kind == "bool_type":
        return "Must be true or false."
    if kind == "list_type":
        return "Must be a list of strings."
    if kind in ("dict_type", "model_type"):
        return "Must be an object of option name to value."
    if kind == "extra_forbidden":
        return f"Unknown field; known fields: {', '.join(known_fields)}."
    if kind == "enum":
        return f"One of {context.get('expected', '').replace("'", '')}."
    if kind == "too_long":
        return f"At most {context.get('max_length')} items."
    if kind == "too_short":
        return f"At least {context.get('min_length')} item."
    # Our own validators raise PydanticCustomError with a sentence as the message.
    return str(error.get("msg", "Invalid value."))


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "payload", "jobs", 2, "prompt")`` -> ``jobs[2].prompt``;
    ``("query", "limit")`` -> ``limit``. A list index of a leaf value is dropped:
    the message says "a list of strings" for the field itself."""
    parts = list(loc[2:] if loc and loc[0] == "body" else loc[1:])
    while parts and isinstance(parts[-1], int):
        parts.pop()
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name


def validation_fields(
    errors: Sequence[Mapping[str, Any]], known_fields: Mapping[str, Sequence[str]]
) -> tuple[dict[str, list[str]], bool]:
    """Messages per field for ninja's errors, and whether the body itself was
    wrong (not a JSON object at all). ``known_fields`` lists, per object in the
    body (``""`` for the body, ``"jobs[]"`` for an item of its ``jobs``), the
    names an unknown-field message offers."""
    fields: dict[str, list[str]] = {}
    body_wrong = False
    for error in errors:
        name = _field_name(error.get("loc", ()))
        if not name:
            body_wrong = True
            continue
        parent = re.sub(r"\[\d+\]", "[]", name.rpartition(".")[0])
        message = field_message(error, known_fields.get(parent, ()))
        messages = fields.setdefault(name, [])
        if message not in messages:
            messages.append(message)
    return fields, body_wrong


def summary(fields: Mapping[str, list[str]]) -> str:
    if len(fields) == 1:
        name, messages = next(iter(fields.items()))
        return f"{name}: {messages[0]}"
    return f"Some fields are invalid: {', '.join(fields)}."


KnownFields = Mapping[str, Mapping[str, Sequence[str]]]


def install(api: NinjaAPI, known_fields: KnownFields) -> None:
    """Register the handlers on ``api`` (which has no default ones).
    ``known_fields`` maps a route's URL name to what ``validation_fields`` takes."""

    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return exc.response()

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        match = request.resolver_match
        known = known_fields.get(match.url_name or "", {}) if match else {}
        fields, body_wrong = validation_fields(exc.errors, known)
        if body_wrong and not fields:
            return error_response(400, "invalid_request", BODY_NOT_OBJECT)
        return error_response(400, "invalid_request", summary(fields), fields)

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(401, "unauthorized", UNAUTHORIZED_MESSAGE)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if isinstance(cause, inputs.BodyTooLarge):
            return error_response(413, "payload_too_large", cause.message)
        if isinstance(cause, inputs.BadInput):
            return error_response(400, "invalid_request", cause.message, cause.fields)
        status = exc.status_code
        code = STATUS_CODES.get(status, "invalid_request" if status < 500 else "internal")
        return error_response(status, code, str(exc.message))

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "No such job.")

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(413, "payload_too_large", "The request body is too large.")

    def on_form_body(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
        # A multipart body, already read as a form by the CSRF check.
        return error_response(
            400,
            "invalid_request",
            "The request body must be JSON (Content-Type: application/json).",
        )

    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (ApiError, on_api_error),
        (ValidationError, on_validation),
        (AuthenticationError, on_unauthenticated),
        (HttpError, on_http_error),
        (Http404, on_not_found),
        (RequestDataTooBig, on_too_big),
        (RawPostDataException, on_form_body),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)
