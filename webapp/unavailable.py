"""A service that is down answers 503 with a message a person can act on, never a 500.

The database, Redis and image storage can each be away for seconds (a restart,
a failover). Requests that need one of them then get "unavailable, try again"
as a page, or as the API's JSON error envelope under /api/, and the next
request after the service is back is served as usual: nothing here is cached.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import botocore.exceptions
import kombu.exceptions
import psycopg
import redis.exceptions
from django.db import utils as db_utils
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from webapp.logging import redact

logger = logging.getLogger(__name__)

DATABASE = "database"
REDIS = "redis"
STORAGE = "storage"

MESSAGES = {
    DATABASE: "Darkroom's database is not answering right now.",
    REDIS: "Darkroom's live-progress and queue service (Redis) is not answering right now.",
    STORAGE: "Darkroom's image storage is not answering right now.",
}
ADVICE = "Try again in a minute; if this keeps happening, tell whoever runs Darkroom."
RETRY_AFTER_SECONDS = 10

_REQUEST_ATTRIBUTE = "_darkroom_unavailable"


# psycopg's pool errors (PoolTimeout, PoolClosed, TooManyRequests) are
# OperationalErrors, and Django wraps driver errors in its own classes.
_DATABASE_ERRORS = (
    db_utils.OperationalError,
    db_utils.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_REDIS_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
_STORAGE_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


def service_of(exc: BaseException | None) -> str | None:
    """Which service ``exc`` (or an exception it was raised from) says is down, if any.

    Only errors of reaching a service count: a connection refused, dropped or
    timed out, a pool with no connection to give, a storage server answering
    5xx. A programming error (a bad query, a missing key) is not an outage.
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _DATABASE_ERRORS):
            return DATABASE
        if isinstance(exc, _REDIS_ERRORS):
            return REDIS
        if isinstance(exc, _STORAGE_ERRORS):
            return STORAGE
        if isinstance(exc, botocore.exceptions.ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if int(status) >= 500:
                return STORAGE
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def response(request: HttpRequest, service: str) -> HttpResponse:
    """The 503 for ``service``: JSON under /api/, a page elsewhere.

    The page is rendered without the request's context processors: they read
    the session and the user, which live in the database that may be down.
    """
    message = MESSAGES[service]
    if request.path.startswith("/api/"):
        from generation.api import error_response

        answer: HttpResponse = error_response(503, "unavailable", f"{message} {ADVICE}")
    else:
        answer = HttpResponse(
            render_to_string(
                "webapp/unavailable.html",
                {"message": message, "advice": ADVICE, "again": request.get_full_path()},
            ),
            status=503,
        )
    answer["Retry-After"] = str(RETRY_AFTER_SECONDS)
    answer["Cache-Control"] = "no-store"
    return answer


def mark_request(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception receiver: remember that the request failed for an outage.

    Django turns an exception raised in a middleware (the session or user
    lookup, for one) into a 500 where it happens; the outermost
    UnavailableMiddleware sees the mark and answers 503 instead.
    """
    service = service_of(sys.exc_info()[1])
    if request is not None and service is not None:
        setattr(request, _REQUEST_ATTRIBUTE, service)


def marked_service(request: HttpRequest) -> str | None:
    service: str | None = getattr(request, _REQUEST_ATTRIBUTE, None)
    return service


def log(request: HttpRequest, service: str, exc: BaseException) -> None:
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    logger.warning(
        "Service unavailable (%s) for %s: %s",
        service,
        request.path,
        redact(f"{type(exc).__name__}: {first_line}")[:300],
    )
