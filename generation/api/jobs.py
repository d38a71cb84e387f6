"""The jobs endpoints: create (one or a batch), list, read, cancel.

Thin operations over the Generate page's form, the services and the
selectors. A request's types are checked by ``generation.api.schemas``; its
values by ``GenerateForm``, whose errors are answered under the API's names.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from ninja import Query, Router, Status
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from generation import selectors, services, spending
from generation.api import schemas
from generation.api.auth import caller
from generation.api.errors import ApiError, invalid
from generation.api.representation import job_json, jobs_with_relations
from generation.api.schemas import MAX_BATCH, BatchIn, CreatedJobs, Error, JobCreate, JobList
from generation.models import Job
from generation.models import Status as JobStatus
from webapp import inputs, permissions

SOME_FIELDS_INVALID = "Some fields are invalid."
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
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

router = Router(tags=["jobs"])


def _limit(raw: Any) -> Any:
    """``limit`` by ``inputs.whole_number``'s rules (ASCII digits only)."""
    number = inputs.whole_number(raw) if isinstance(raw, str) else raw
    if not isinstance(number, int) or not 1 <= number <= MAX_LIMIT:
        raise PydanticCustomError(
            "limit", "Must be a whole number from 1 to {maximum}.", {"maximum": MAX_LIMIT}
        )
    return number


def _blank_is_none(raw: Any) -> Any:
    return raw or None


Limit = Annotated[int, BeforeValidator(_limit)]
StatusFilter = Annotated[JobStatus | None, BeforeValidator(_blank_is_none)]
Before = Annotated[str | None, BeforeValidator(_blank_is_none)]
BEFORE_HELP = (
    "Only jobs older than this job (an id of one of your jobs) or this time (ISO 8601). "
    "`next` sets it for you."
)

ERRORS_FOR_CREATE: dict[int, Any] = {
    400: Error,
    401: Error,
    402: Error,
    403: Error,
    413: Error,
}


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


def _option_form_name(name: str) -> str:
    from generation.forms import OPTION_PREFIX

    return OPTION_PREFIX + name.replace(".", "__")


def form_data(job: JobCreate) -> tuple[QueryDict, dict[str, str]]:
    """The form's data for a create request, and the option names asked for
    (form field -> API name)."""
    data = QueryDict(mutable=True)
    data["prompt"] = job.prompt
    data["model"] = job.model
    data["style"] = job.style.value
    if job.private:
        data["is_private"] = "on"
    if job.reference_urls:
        data["reference_urls"] = "\n".join(job.reference_urls)
    if job.compare:
        data.setlist("compare", job.compare)
    requested: dict[str, str] = {}
    for name, value in (job.options or {}).items():
        form_name = _option_form_name(name)
        requested[form_name] = name
        text = _option_value(value)
        if text is not None:
            data[form_name] = text
    return data, requested


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


def validated_requests(user: User, job: JobCreate) -> list[services.JobRequest]:
    """The job requests for ``job`` (several with ``compare``); ``ApiError``
    naming every invalid field otherwise."""
    from generation.forms import GenerateForm

    data, requested = form_data(job)
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
        message = " ".join(general) or SOME_FIELDS_INVALID
        raise invalid(message, fields)
    return form.job_requests()


def _submit(user: User, groups: list[list[services.JobRequest]]) -> list[list[Job]]:
    try:
        return services.submit_groups(user, groups)
    except spending.SpendRefused as exc:
        # 402 as OpenRouter answers when credit runs out: the request was fine.
        raise ApiError(402, "budget_exceeded", exc.message) from None
    except permissions.SpendingNotAllowed as exc:
        raise ApiError(403, "forbidden", exc.message) from None


def _created(request: HttpRequest, group: list[Job]) -> dict[str, Any]:
    job = group[0]
    # Nothing to read back: a new job has no images, and its batch is ``group``.
    return job_json(request, job, images=[], batch_jobs=group if job.batch_id else None)


@router.post(
    "/jobs",
    url_name="jobs",
    operation_id="createJob",
    summary="Queue a generation (several with `compare`)",
    response={201: schemas.Job, **ERRORS_FOR_CREATE},
    by_alias=True,
    openapi_extra={
        "responses": {
            201: {
                "description": "Queued. With `compare`, the first model's job; `batch` lists "
                "them all.",
                "headers": {
                    "Location": {
                        "description": "The job's URL.",
                        "schema": {"type": "string", "format": "uri"},
                    }
                },
            }
        }
    },
)
def create_job(request: HttpRequest, response: HttpResponse, payload: JobCreate) -> Any:
    user = caller(request)
    (group,) = _submit(user, [validated_requests(user, payload)])
    response["Location"] = request.build_absolute_uri(reverse("api:job", args=[group[0].pk]))
    return Status(201, _created(request, group))


@router.post(
    "/jobs/batch",
    url_name="jobs-batch",
    operation_id="createJobs",
    summary="Queue several generations at once, all or none",
    description="Every job is validated first and the total estimate is checked against the "
    "budgets; then all are created in one transaction. One error anywhere and nothing is "
    "queued: the fields are named `jobs[<index>].<name>`. `jobs[i]` of the answer is the "
    f"job for the i-th one asked for (with `compare`, its first model's). At most "
    f"{MAX_BATCH} jobs.",
    response={201: CreatedJobs, **ERRORS_FOR_CREATE},
    by_alias=True,
)
def create_jobs(request: HttpRequest, payload: BatchIn) -> Any:
    user = caller(request)
    groups: list[list[services.JobRequest]] = []
    fields: dict[str, list[str]] = {}
    for index, job in enumerate(payload.jobs):
        try:
            groups.append(validated_requests(user, job))
        except ApiError as exc:
            prefix = f"jobs[{index}]"
            for name, messages in (exc.fields or {}).items():
                fields[f"{prefix}.{name}"] = messages
            if not exc.fields or exc.message != SOME_FIELDS_INVALID:
                fields.setdefault(prefix, []).append(exc.message)
    if fields:
        raise invalid(f"Some jobs are invalid; nothing was queued: {', '.join(fields)}.", fields)
    created = _submit(user, groups)
    return Status(201, {"jobs": [_created(request, group) for group in created]})


def _parse_before(user: User, raw: str) -> Q:
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


@router.get(
    "/jobs",
    url_name="jobs",
    operation_id="listJobs",
    summary="My jobs, newest first",
    description="Keyset pagination on (created_at, id): follow `next` for older jobs.",
    response={200: JobList, 400: Error, 401: Error},
    by_alias=True,
)
def list_jobs(
    request: HttpRequest,
    limit: Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),  # noqa: B008 - ninja's way
    status: StatusFilter = Query(None),  # noqa: B008
    before: Before = Query(None, description=BEFORE_HELP),  # noqa: B008
) -> Any:
    user = caller(request)
    query = Job.objects.filter(author_id=user.pk)
    if status:
        query = query.filter(status=status)
    if before:
        query = query.filter(_parse_before(user, before))
    page = list(jobs_with_relations(query.order_by("-created_at", "-pk"))[: limit + 1])
    next_url = None
    if len(page) > limit:
        page = page[:limit]
        params = QueryDict(mutable=True)
        params["limit"] = str(limit)
        if status:
            params["status"] = status.value
        params["before"] = str(page[-1].pk)
        next_url = request.build_absolute_uri(f"{reverse('api:jobs')}?{params.urlencode()}")
    return {"jobs": [job_json(request, job) for job in page], "next": next_url}


def _job(user: User, job_id: uuid.UUID) -> Job:
    """The job if the user may see it; Http404 otherwise, as on the pages (a
    private job of someone else does not exist for the API either)."""
    return get_object_or_404(jobs_with_relations(selectors.visible_jobs(user)), pk=job_id)


@router.get(
    "/jobs/{uuid:job_id}",
    url_name="job",
    operation_id="getJob",
    summary="A job: status, progress, images, cost",
    response={200: schemas.Job, 401: Error, 404: Error},
    by_alias=True,
)
def get_job(request: HttpRequest, job_id: uuid.UUID) -> Any:
    return job_json(request, _job(caller(request), job_id))


@router.post(
    "/jobs/{uuid:job_id}/cancel",
    url_name="job-cancel",
    operation_id="cancelJob",
    summary="Cancel a queued or running job",
    description="A call already sent to OpenRouter may still be charged; its cost is "
    "recorded and its images are discarded.",
    response={200: schemas.Job, 401: Error, 403: Error, 404: Error, 409: Error},
    by_alias=True,
)
def cancel_job(request: HttpRequest, job_id: uuid.UUID) -> Any:
    user = caller(request)
    job = _job(user, job_id)
    if not permissions.can_manage(user, job):
        raise ApiError(403, "forbidden", "Only the job's author or an admin can cancel it.")
    if job.is_final or not services.cancel(job):
        current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        raise ApiError(409, "conflict", f"The job has already ended ({current}).")
    return job_json(request, _job(user, job_id))
