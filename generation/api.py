"""The JSON API under /api/v1/: create, read, list and cancel generation jobs.

Thin views over the same form, services and selectors as the pages. A request
is authenticated by a personal API token (``Authorization: Bearer drk_…``,
resolved by ``webapp.middleware.ApiTokenMiddleware``) or by the session; a
session POST must carry the CSRF token like any form. Every error is JSON of
one shape, ``{"error": {"code", "message", "fields"?}}``; bad input is a 4xx,
never a 500. The schema is ``generation.api_schema``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.request import RawPostDataException
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path, reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error as html_server_error

from generation import api_schema, selectors, services, spending
from generation.models import Image, Job, Status, Style
from webapp import inputs

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The request body's keys, with the form field each one feeds.
BODY_FIELDS = {
    "prompt": "prompt",
    "model": "model",
    "style": "style",
    "options": None,
    "reference_urls": "reference_urls",
    "private": "is_private",
    "compare": "compare",
}
# Form field -> API name, for error messages. Uploads cannot come through the
# API, so the form's "references" errors (count, model support) are about URLs.
API_NAMES = {
    "prompt": "prompt",
    "model": "model",
    "style": "style",
    "compare": "compare",
    "references": "reference_urls",
    "reference_urls": "reference_urls",
    "is_private": "private",
}


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


View = Callable[..., HttpResponse]


def _csrf_rejected(request: HttpRequest) -> bool:
    """Whether Django's CSRF check refuses this request (token requests are
    exempt: the middleware marks them). Run here, not by the middleware, so the
    refusal is JSON."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    return check.process_view(request, lambda _request: HttpResponse(), (), {}) is not None


def api_view(*methods: str) -> Callable[[View], View]:
    """An API endpoint: the allowed methods, authentication by token or session
    (CSRF for session writes), and errors as JSON."""
    allowed = (*methods, "HEAD") if "GET" in methods else methods

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {' or '.join(methods)}.",
                )
                response["Allow"] = ", ".join(allowed)
                return response
            if not request.user.is_authenticated:
                return error_response(
                    401,
                    "unauthorized",
                    "Authenticate with an API token (Authorization: Bearer drk_…) "
                    "or a logged-in session.",
                )
            if request.method not in SAFE_METHODS and _csrf_rejected(request):
                return error_response(
                    403,
                    "csrf_failed",
                    "A session request that changes something needs the CSRF token "
                    "(X-CSRFToken header); API clients should use a token instead.",
                )
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return exc.response()
            except Http404:
                return error_response(404, "not_found", "No such job.")

        # The API does its own authentication and CSRF check, with JSON answers.
        return login_not_required(csrf_exempt(wrapper))

    return decorator


# Representations


def money(value: Decimal | None) -> str | None:
    """A cost as a decimal string: at least 4 decimals, at most the 8 the
    database keeps (so a job reads the same before and after it is saved)."""
    if value is None:
        return None
    value = value.quantize(Decimal("0.00000001"))
    if value == value.quantize(Decimal("0.0001")):
        return str(value.quantize(Decimal("0.0001")))
    return format(value.normalize(), "f")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def image_json(request: HttpRequest, image: Image) -> dict[str, Any]:
    original = request.build_absolute_uri(reverse("generation:original", args=[image.pk]))
    return {
        "id": str(image.pk),
        "index": image.index,
        "url": original,
        "thumbnail_url": request.build_absolute_uri(
            reverse("generation:thumbnail", args=[image.pk])
        ),
        "download_url": f"{original}?download=1",
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "sha256": image.sha256,
    }


def job_json(
    request: HttpRequest,
    job: Job,
    *,
    images: list[Image] | None = None,
    batch_jobs: list[Job] | None = None,
) -> dict[str, Any]:
    """The API's view of a job. ``images`` and ``batch_jobs`` default to the
    job's own, which ``jobs_with_relations`` prefetches; a job just created
    passes them, having none to fetch."""
    if images is None:
        images = list(job.images.all())
    batch = None
    if job.batch_id is not None:
        if batch_jobs is None:
            batch_jobs = list(job.batch.jobs.all()) if job.batch is not None else []
        batch = {"id": str(job.batch_id), "jobs": [str(other.pk) for other in batch_jobs]}
    return {
        "id": str(job.pk),
        "status": job.status,
        "stage": job.stage,
        "progress": job.progress,
        "model": job.model_slug,
        "style": job.style,
        "prompt": job.prompt,
        "options": job.params,
        "n": job.n,
        "private": job.is_private,
        "author": job.author.get_username(),
        "batch": batch,
        "retry_of": str(job.retry_of_id) if job.retry_of_id else None,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "error": (
            {"code": job.error_code, "message": job.error_message} if job.error_code else None
        ),
        "cost": {
            "estimated": money(job.estimated_cost),
            "actual": money(job.actual_cost),
            "currency": "USD",
        },
        "provider": job.provider or None,
        "upstream_id": job.upstream_id or None,
        "upstream_seconds": job.upstream_seconds,
        "usage": job.usage or None,
        "text": job.text or None,
        "images": [image_json(request, image) for image in images],
        "links": {
            "self": request.build_absolute_uri(reverse("api:job", args=[job.pk])),
            "page": request.build_absolute_uri(reverse("generation:job", args=[job.pk])),
            "cancel": request.build_absolute_uri(reverse("api:job-cancel", args=[job.pk])),
        },
    }


def jobs_with_relations(jobs: QuerySet[Job]) -> QuerySet[Job]:
    return jobs.select_related("author", "batch").prefetch_related(
        Prefetch("images", queryset=Image.objects.order_by("index")),
        Prefetch("batch__jobs", queryset=Job.objects.only("id", "batch_id").order_by("created_at")),
    )


def _job(user: Any, job_id: uuid.UUID) -> Job:
    """The job if the user may see it; Http404 otherwise, as on the pages (a
    private job of someone else does not exist for the API either)."""
    return get_object_or_404(jobs_with_relations(selectors.visible_jobs(user)), pk=job_id)


def _job_response(request: HttpRequest, job: Job, status: int = 200) -> JsonResponse:
    return JsonResponse(job_json(request, job), status=status)


# Creating a job: JSON in, the Generate page's form does the validating.


def _read_json(request: HttpRequest) -> Any:
    """The body as JSON, read by ``webapp.inputs.parse_json_body`` (size and depth
    limits, no text that cannot be stored); ``ApiError`` otherwise."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "payload_too_large", "The request body is too large.") from None
    except RawPostDataException:  # a multipart body, already read as a form
        raise invalid("The request body must be JSON (Content-Type: application/json).") from None
    try:
        return inputs.parse_json_body(raw)
    except inputs.BodyTooLarge as exc:
        raise ApiError(413, "payload_too_large", exc.message) from None
    except inputs.BadInput as exc:
        raise invalid(exc.message, exc.fields) from None


def _option_value(value: Any) -> str | None:
    """An option value as its form field receives it from the page: text. Lists
    and objects become JSON text, which the structured (JSON) options read; any
    other option refuses them with a message on the field."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value)


def form_data(payload: Any) -> tuple[QueryDict, dict[str, str]]:
    """The form's data for a create request, and the option names asked for
    (form field -> API name). Raises ApiError naming every mistyped field."""
    if not isinstance(payload, dict):
        raise invalid("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(payload) - set(BODY_FIELDS))
    for name in unknown:
        errors[name] = [f"Unknown field; known fields: {', '.join(BODY_FIELDS)}."]
    data = QueryDict(mutable=True)
    for name in ("prompt", "model", "style"):
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = ["Must be a string."]
            continue
        data[name] = value
    data.setdefault("style", Style.IMAGES)

    private = payload.get("private", False)
    if not isinstance(private, bool):
        errors["private"] = ["Must be true or false."]
    elif private:
        data["is_private"] = "on"

    for name in ("reference_urls", "compare"):
        value = payload.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            errors[name] = ["Must be a list of strings."]
            continue
        if name == "reference_urls":
            if any("\n" in item or "\r" in item for item in value):
                errors[name] = ["A URL cannot contain a line break."]
                continue
            data[name] = "\n".join(value)
        else:
            data.setlist(name, value)

    requested: dict[str, str] = {}
    options = payload.get("options") or {}
    if not isinstance(options, dict):
        errors["options"] = ["Must be an object of option name to value."]
        options = {}
    for name, value in options.items():
        form_name = _option_form_name(name)
        requested[form_name] = name
        text = _option_value(value)
        if text is not None:
            data[form_name] = text
    if errors:
        raise invalid("Some fields have the wrong type.", errors)
    return data, requested


def _option_form_name(name: str) -> str:
    from generation.forms import OPTION_PREFIX

    return OPTION_PREFIX + name.replace(".", "__")


def form_errors(form: Any) -> dict[str, list[str]]:
    """The form's errors keyed by API names (``opt__a__b`` -> ``options.a.b``)."""
    fields: dict[str, list[str]] = {}
    for form_name, errors in form.errors.get_json_data().items():
        if form_name == "__all__":
            continue
        if form_name in form.option_names:
            api_name = f"options.{form.option_names[form_name]}"
        else:
            api_name = API_NAMES.get(form_name, form_name)
        fields.setdefault(api_name, []).extend(error["message"] for error in errors)
    return fields


def _validated_requests(user: Any, payload: Any) -> list[services.JobRequest]:
    from generation.forms import GenerateForm

    data, requested = form_data(payload)
    form = GenerateForm(data, files=None, user=user)
    fields: dict[str, list[str]] = {}
    chosen = form.chosen_model
    if chosen is not None and chosen.slug == data.get("model"):
        # The form ignores what it does not know; the API says so instead.
        known = sorted(form.option_names.values())
        for form_name, name in requested.items():
            if form_name not in form.option_names:
                fields[f"options.{name}"] = [
                    f"{chosen.slug} ({form.chosen_style}) has no option {name!r}; "
                    f"its options: {', '.join(known) or 'none'}."
                ]
    if not form.is_valid() or fields:
        fields = {**form_errors(form), **fields}
        general = [str(message) for message in form.non_field_errors()]
        message = " ".join(general) or "Some fields are invalid."
        raise invalid(message, fields)
    return form.job_requests()


# Views


@api_view("GET", "POST")
def jobs(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return create_job(request)
    return list_jobs(request)


def create_job(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # api_view let only authenticated users in
    requests = _validated_requests(user, _read_json(request))
    try:
        created = services.submit(user, requests)
    except spending.SpendRefused as exc:
        # 402 as OpenRouter answers when credit runs out: the request was fine.
        raise ApiError(402, "budget_exceeded", exc.message) from None
    job = created[0]
    # Nothing to read back: a new job has no images, and its batch is ``created``.
    body = job_json(request, job, images=[], batch_jobs=created if job.batch_id else None)
    response = JsonResponse(body, status=201)
    response["Location"] = request.build_absolute_uri(reverse("api:job", args=[job.pk]))
    return response


def _parse_before(user: Any, raw: str) -> Q:
    """The keyset condition for ``before``: a job id (of one of my jobs) or a time."""
    try:
        job_id = uuid.UUID(raw)
    except ValueError:
        pass
    else:
        anchor = Job.objects.filter(pk=job_id, author_id=user.pk).values("created_at").first()
        if anchor is None:
            raise invalid("before is not one of your jobs.", {"before": ["Unknown job id."]})
        created_at = anchor["created_at"]
        return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=job_id)
    try:
        moment = parse_datetime(raw.replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise invalid(
            "before must be a job id or an ISO 8601 time.",
            {"before": ["Not a job id or an ISO 8601 time."]},
        )
    try:
        moment = inputs.bounded_datetime(moment)
    except inputs.BadInput as exc:
        raise invalid(f"before: {exc.message}", {"before": [exc.message]}) from None
    return Q(created_at__lt=moment)


def list_jobs(request: HttpRequest) -> HttpResponse:
    """My jobs, newest first; keyset pagination on (created_at, id), never OFFSET."""
    limit = inputs.whole_number(request.GET.get("limit", str(DEFAULT_LIMIT))) or 0
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(
            f"limit must be a whole number from 1 to {MAX_LIMIT}.",
            {"limit": [f"Between 1 and {MAX_LIMIT}."]},
        )
    query = Job.objects.filter(author_id=request.user.pk)
    status = request.GET.get("status")
    if status:
        if status not in Status.values:
            raise invalid("Unknown status.", {"status": [f"One of {', '.join(Status.values)}."]})
        query = query.filter(status=status)
    before = request.GET.get("before")
    if before:
        query = query.filter(_parse_before(request.user, before))
    page = list(jobs_with_relations(query.order_by("-created_at", "-pk"))[: limit + 1])
    next_url = None
    if len(page) > limit:
        page = page[:limit]
        params = QueryDict(mutable=True)
        params["limit"] = str(limit)
        if status:
            params["status"] = status
        params["before"] = str(page[-1].pk)
        next_url = request.build_absolute_uri(f"{reverse('api:jobs')}?{params.urlencode()}")
    return JsonResponse({"jobs": [job_json(request, job) for job in page], "next": next_url})


@api_view("GET")
def job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _job_response(request, _job(request.user, job_id))


@api_view("POST")
def cancel_job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = _job(request.user, job_id)
    if job.author_id != request.user.pk and not request.user.is_staff:
        raise ApiError(403, "forbidden", "Only the job's author or staff can cancel it.")
    if job.is_final or not services.cancel(job):
        current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        raise ApiError(409, "conflict", f"The job has already ended ({current}).")
    return _job_response(request, _job(request.user, job_id))


@login_not_required
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 schema; public, like any API's documentation."""
    if request.method not in SAFE_METHODS:
        response = error_response(405, "method_not_allowed", "Use GET.")
        response["Allow"] = "GET, HEAD"
        return response
    server = request.build_absolute_uri(reverse("api:index")).rstrip("/")
    return JsonResponse(api_schema.schema(server), json_dumps_params={"indent": 2})


@login_not_required
def index(request: HttpRequest) -> HttpResponse:
    """Browsers get the API's documentation page; other clients a JSON index."""
    if request.method not in SAFE_METHODS:
        response = error_response(405, "method_not_allowed", "Use GET.")
        response["Allow"] = "GET, HEAD"
        return response
    links = {
        "openapi": request.build_absolute_uri(reverse("api:openapi")),
        "jobs": request.build_absolute_uri(reverse("api:jobs")),
    }
    if "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse({"name": "Darkroom API", "version": "v1", "links": links})
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    profile_url = _reverse_or_none("profile")
    return render(
        request,
        "generation/api_docs.html",
        {
            "links": links,
            "api_base": request.build_absolute_uri(reverse("api:index")),
            "profile_url": profile_url,
            "example_model": _example_model(),
        },
    )


def _reverse_or_none(name: str) -> str | None:
    from django.urls import NoReverseMatch

    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _example_model() -> str:
    job = Job.objects.order_by("-created_at").values_list("model_slug", flat=True).first()
    return job or "google/gemini-2.5-flash-image"


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response(404, "not_found", f"No API endpoint at {request.path}.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(reverse("api:index")):
        return error_response(500, "internal", "Something went wrong on our side.")
    return html_server_error(request)


app_name = "api"
urlpatterns = [
    path("", index, name="index"),
    path("openapi.json", openapi, name="openapi"),
    path("jobs", jobs, name="jobs"),
    path("jobs/<uuid:job_id>", job, name="job"),
    path("jobs/<uuid:job_id>/cancel", cancel_job, name="job-cancel"),
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
