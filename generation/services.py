"""Everything that changes a job: submit, run, cancel, retry.

Every change of status is a conditional UPDATE on the current status
(``generation.transitions``), so a redelivered task, a concurrent cancel and
the sweep (``generation.sweep``) can never overwrite each other. Nothing here
holds a database transaction open across an OpenRouter call; storing the
images is ``generation.storing``.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django import db
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from catalog import snapshot
from catalog.models import Endpoint, ImageModel
from generation import heartbeat, imaging, progress, spending, storage
from generation.models import ACTIVE_STATUSES, Batch, Job, Status, Style
from generation.openrouter import (
    ErrorKind,
    GenerationResult,
    OpenRouterError,
    PartialImage,
    RequestInvalid,
    client_from_settings,
)
from generation.storing import STORAGE_FIRST_DELAY_SECONDS, STORAGE_MAX_DELAY_SECONDS, store_result
from generation.transitions import fail_job, sentence, update_job
from webapp import permissions

logger = logging.getLogger(__name__)


# Transient upstream failures (429, 5xx before any charge, network) are retried
# this many times, with exponential backoff honouring Retry-After.
MAX_TRANSIENT_RETRIES = 3
BACKOFF_CAP_SECONDS = 120.0


@dataclass
class JobRequest:
    """One validated generation request, ready to be queued."""

    model: ImageModel
    endpoint: Endpoint | None
    style: str
    prompt: str
    params: dict[str, Any] = field(default_factory=dict)
    n: int = 1
    references: list[dict[str, Any]] = field(default_factory=list)
    is_private: bool = False
    estimated_cost: Decimal = Decimal(0)
    remix_of: Job | None = None
    retry_of: Job | None = None


def submit(author: User, requests: Sequence[JobRequest]) -> list[Job]:
    """Create the jobs (several models = one batch) and queue them after commit.

    Their estimates are reserved against the budgets first; raises
    ``spending.SpendRefused`` (nothing created) when they do not fit, and
    ``permissions.SpendingNotAllowed`` when the author may not spend (a viewer).
    """
    return submit_groups(author, [requests])[0]


def submit_groups(author: User, groups: Sequence[Sequence[JobRequest]]) -> list[list[Job]]:
    """``submit`` for several groups at once, all or none: the total estimate is
    reserved once (``spending.SpendRefused``, nothing created, when it does not
    fit) and every job is created in one transaction. Returns each group's jobs.
    Raises ``permissions.SpendingNotAllowed`` when the author may not spend."""
    if not groups or not all(groups):
        raise ValueError("nothing to submit")
    permissions.require_spend(author)
    total = sum((r.estimated_cost for group in groups for r in group), Decimal(0))
    with transaction.atomic():
        spending.reserve(author, total)
        return [_create(author, group) for group in groups]


def _create(author: User, requests: Sequence[JobRequest]) -> list[Job]:
    batch = (
        Batch.objects.create(author=author, prompt=requests[0].prompt)
        if len(requests) > 1
        else None
    )
    # Stamped as sent now, since it is sent as soon as this commits: no second write.
    now = timezone.now()
    jobs = [
        Job.objects.create(
            enqueued_at=now,
            author=author,
            batch=batch,
            model=request.model,
            model_slug=request.model.slug,
            endpoint=request.endpoint,
            style=request.style,
            prompt=request.prompt,
            params=request.params,
            n=request.n,
            references=request.references,
            is_private=request.is_private,
            estimated_cost=request.estimated_cost,
            reserved_cost=request.estimated_cost,
            remix_of=request.remix_of,
            retry_of=request.retry_of,
        )
        for request in requests
    ]
    for job in jobs:
        transaction.on_commit(partial(enqueue, job.pk, stamp=False))
    return jobs


def enqueue(job_id: uuid.UUID, countdown: float = 0, *, stamp: bool = True) -> None:
    """Send the job to the generation queue. A broker that is down leaves the job
    queued in the database with no ``enqueued_at``, and the next sweep (every
    30 s) sends it once the broker is back. One try, no retries: a submit must
    not wait on a broker that does not answer (``CELERY_TASK_PUBLISH_RETRY``).
    ``stamp=False``: the caller already set ``enqueued_at`` to when it is sent."""
    from generation import tasks

    if stamp:
        eta = timezone.now() + timedelta(seconds=countdown)
        Job.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued_at=eta)
    try:
        tasks.run_job.apply_async((str(job_id),), countdown=countdown)
    except Exception:  # kombu raises many types for a broker that does not answer
        logger.warning("Could not queue job %s; the sweep will resend it", job_id, exc_info=True)
        Job.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued_at=None)


def retry(job: Job, by: User) -> Job:
    """A failed or canceled job, submitted again as a new attempt."""
    if job.status not in (Status.FAILED, Status.CANCELED):
        raise ValueError("only a failed or canceled job can be retried")
    request = JobRequest(
        model=job.model,
        endpoint=job.endpoint,
        style=job.style,
        prompt=job.prompt,
        params=job.params,
        n=job.n,
        references=job.references,
        is_private=job.is_private,
        estimated_cost=job.estimated_cost,
        remix_of=job.remix_of,
        retry_of=job,
    )
    return submit(by, [request])[0]


def cancel(job: Job) -> bool:
    """Cancel a queued or running job. A running call may still be charged; its
    cost is recorded when it returns, and its images are discarded."""
    now = timezone.now()
    changed = Job.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=Status.CANCELED,
        stage="Canceled",
        finished_at=now,
        error_code="canceled",
        error_message="Canceled before it finished.",
        # A call already sent may still be charged: its reservation stays until
        # the charge is recorded.
        reserved_cost=Case(
            When(upstream_started_at__isnull=True, then=Value(Decimal(0))),
            default=F("reserved_cost"),
        ),
    )
    if changed:
        progress.publish(job.pk, Status.CANCELED)
    return bool(changed)


def claim(job_id: uuid.UUID) -> Job | None:
    """Take a queued job for this worker, or None if someone else has it (or it
    was canceled, or a redelivered message arrives after it ran)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": Status.RUNNING,
        "stage": "Starting",
        "progress": 5,
        "started_at": now,
        "heartbeat_at": now,
    }
    if db.connection.features.can_return_columns_from_insert:
        job = _claim_returning(job_id, fields)
        if job is None:
            return None
    else:
        claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
            attempts=F("attempts") + 1, **fields
        )
        if not claimed:
            return None
        job = Job.objects.get(pk=job_id)
    progress.publish(job_id, Status.RUNNING)
    # Its model and endpoint from the process's catalog copy; a retired one
    # (not in it) is read when first used.
    catalog = snapshot.current()
    model = catalog.by_id.get(job.model_id) if job.model_id else None
    if model is not None:
        job.model = model
    endpoint = catalog.endpoints.get(job.endpoint_id) if job.endpoint_id else None
    if endpoint is not None:
        job.endpoint = endpoint
    return job


def _claim_returning(job_id: uuid.UUID, fields: dict[str, Any]) -> Job | None:
    """The conditional claim and the read of the claimed row as one statement
    (UPDATE … RETURNING): the worker's first query instead of two."""
    connection = db.connection
    meta = Job._meta
    by_name = {field.name: field for field in meta.concrete_fields}

    def column(name: str) -> str:
        return connection.ops.quote_name(str(by_name[name].column))

    values = [by_name[name].get_db_prep_save(value, connection) for name, value in fields.items()]
    # Only the model's own table and column names go into the text; values are parameters.
    table = connection.ops.quote_name(meta.db_table)
    assignments = ", ".join(f"{column(name)} = %s" for name in fields)
    returning = ", ".join(column(name) for name in by_name)
    sql = f"UPDATE {table} SET {assignments}, {column('attempts')} = {column('attempts')} + 1 "  # noqa: S608
    sql += f"WHERE {column('id')} = %s AND {column('status')} = %s RETURNING {returning}"
    pk = by_name["id"].get_db_prep_value(job_id, connection)
    rows = list(Job.objects.raw(sql, [*values, pk, Status.QUEUED]))
    return rows[0] if rows else None


def run(job_id: uuid.UUID) -> None:
    """Run one job from claim to a final state. Safe to call twice for one job."""
    job = claim(job_id)
    if job is None:
        logger.info("Job %s is not queued any more; nothing to do", job_id)
        return
    try:
        with heartbeat.beating(job.pk):
            _run_claimed(job)
    except Exception:
        # A bug must end the job, not leave it "running" until the sweep.
        logger.exception("Job %s failed unexpectedly", job.pk)
        try:
            fail_job(
                job, "internal", "Something went wrong on our side; the error has been logged."
            )
        except db.Error:
            # The database stayed away: the stopped heartbeat lets the sweep end
            # (or restart) the job once it is back.
            logger.error("Could not record the failure of job %s", job.pk)


def _run_claimed(job: Job) -> None:
    # The one place the job becomes "possibly charged": set once, conditionally.
    started = Job.objects.filter(
        pk=job.pk, status=Status.RUNNING, upstream_started_at__isnull=True
    ).update(upstream_started_at=timezone.now(), stage="Waiting for OpenRouter", progress=10)
    if not started:
        return
    progress.publish(job.pk, "progress")
    # The call takes seconds to minutes: give the database connection back (to
    # the pool) meanwhile, or a worker's threads queue for connections instead
    # of waiting on OpenRouter side by side.
    db.connection.close()
    began = time.monotonic()
    try:
        result = _call_openrouter(job)
    except RequestInvalid as exc:
        Job.objects.filter(pk=job.pk).update(reserved_cost=Decimal(0))  # never sent
        fail_job(job, "invalid_request", f"{exc.field}: {exc.message}")
        return
    except OpenRouterError as exc:
        seconds = time.monotonic() - began
        _despite_database_outage(job.pk, partial(_handle_upstream_error, job, exc, seconds))
        return
    seconds = time.monotonic() - began
    _despite_database_outage(job.pk, partial(store_result, job, result, seconds))


def _despite_database_outage(job_id: uuid.UUID, action: Callable[[], None]) -> None:
    """Run ``action``, which records a paid answer, retrying while the database is away.

    The answer (its images, its charge) is paid for and held in memory, so a
    database restart of seconds must not turn it into an interrupted job:
    ``action`` is tried again with the storage retries' backoff for up to
    ``DARKROOM_STORAGE_RETRY_SECONDS``, then the error is raised. Every write
    in ``action`` must be conditional or idempotent, since a try may have
    committed some of them before the connection broke.
    """
    give_up_at = time.monotonic() + settings.DARKROOM_STORAGE_RETRY_SECONDS
    delay = STORAGE_FIRST_DELAY_SECONDS
    while True:
        try:
            action()
            return
        except (db.OperationalError, db.InterfaceError):
            if time.monotonic() + delay > give_up_at:
                raise
            logger.warning(
                "The database is not answering; keeping job %s's answer, retrying in %.0f s",
                job_id,
                delay,
            )
        with suppress(db.Error):
            db.connection.close()  # a broken connection must not be used again
        time.sleep(delay)
        delay = min(delay * 2, STORAGE_MAX_DELAY_SECONDS)


def reference_urls(job: Job) -> list[str]:
    """The job's reference images as URLs OpenRouter accepts (uploads as data URLs)."""
    urls = []
    for reference in job.references:
        if reference.get("kind") == "upload":
            data = storage.read(reference["key"])
            encoded = base64.b64encode(data).decode("ascii")
            urls.append(f"data:{reference['media_type']};base64,{encoded}")
        else:
            urls.append(reference["url"])
    return urls


def _call_openrouter(job: Job) -> GenerationResult:
    def on_partial(partial: PartialImage) -> None:
        _record_partial(job.pk, partial)

    with client_from_settings() as client:
        # The threads pool enforces no time limit: the client bounds the whole call.
        client.max_duration = settings.GENERATION_CALL_LIMIT
        client.on_generation_id = partial(_keep_generation_id, job.pk)
        params = dict(job.params)
        if job.style == Style.IMAGES:
            provider_options = params.pop("provider_options", None)
            if job.n > 1 or "n" in params:
                params["n"] = job.n
            return client.generate_image(
                job.model_slug,
                job.prompt,
                params=params,
                input_references=reference_urls(job),
                provider_options=provider_options,
                stream=bool(job.endpoint and job.endpoint.supports_streaming),
                on_partial=on_partial,
                endpoint=job.endpoint.to_spec(with_pricing=False) if job.endpoint else None,
            )
        if job.style == Style.CHAT:
            return client.chat_image(
                job.model_slug,
                job.prompt,
                output_modalities=list(job.model.output_modalities or ["image"]),
                image_config=params.get("image_config") or None,
                input_images=reference_urls(job),
                stream=True,
                on_partial=on_partial,
            )
        tool_parameters = {"model": job.model_slug, **params}
        return client.tool_image(
            settings.DARKROOM_TOOL_TEXT_MODEL,
            job.prompt,
            tool_parameters=tool_parameters,
            api="responses" if job.style == Style.TOOL_RESPONSES else "chat",
        )


def _keep_generation_id(job_id: uuid.UUID, generation_id: str) -> None:
    """Write the generation id the moment OpenRouter names it, before the answer
    is read: a worker killed mid-answer leaves what reconciliation needs to
    confirm the charge. Best effort, like previews: it must never end the call."""
    try:
        Job.objects.filter(pk=job_id, upstream_id="").update(upstream_id=generation_id)
    except db.Error:
        logger.warning("Could not keep the generation id of job %s yet", job_id)
    finally:
        with suppress(db.Error):
            db.connection.close()  # back to waiting on the answer: see run()


def _record_partial(job_id: uuid.UUID, partial: PartialImage) -> None:
    """Keep a small render of a streamed preview and tell the watchers.

    Best effort: a database or Redis that is away skips the preview, never
    the paid call it belongs to.
    """
    try:
        preview = imaging.verify(partial.data, partial.media_type)
    except imaging.ImageRejected:
        logger.info("Skipping an unreadable partial image for job %s", job_id)
        return
    try:
        # A canceled job's stream is not cut short: cancelling does not stop billing
        # on every provider, and letting the call end is how its cost gets recorded.
        job = Job.objects.filter(pk=job_id).only("status", "previews").first()
        if job is None or job.status not in (Status.RUNNING, Status.STREAMING):
            return
        index = job.previews + 1
        if not progress.store_preview(job_id, index, preview.thumbnail):
            return
        update_job(
            job_id,
            (Status.RUNNING, Status.STREAMING),
            status=Status.STREAMING,
            previews=index,
            stage=f"Preview {index} received",
            progress=min(80, 20 + 15 * index),
        )
    except db.Error:
        logger.warning("Skipping a preview of job %s: the database is not answering", job_id)
    finally:
        with suppress(db.Error):
            db.connection.close()  # back to waiting on the stream: see run()


def _handle_upstream_error(job: Job, exc: OpenRouterError, seconds: float) -> None:
    cost_fields: dict[str, Any] = {"upstream_seconds": seconds}
    if exc.cost is not None:
        cost_fields["actual_cost"] = exc.cost
    if exc.generation_id:
        cost_fields["upstream_id"] = exc.generation_id
    if exc.provider:
        cost_fields["provider"] = exc.provider
    if exc.retryable and job.transient_failures < MAX_TRANSIENT_RETRIES:
        delay = min(
            BACKOFF_CAP_SECONDS,
            max(
                exc.retry_after or 0.0,
                settings.DARKROOM_RETRY_BACKOFF_SECONDS * 2**job.transient_failures,
            ),
        )
        # The card counts down to enqueued_at itself: the stage names only the
        # reason, so that it never states a second, different wait.
        requeued = update_job(
            job.pk,
            (Status.RUNNING, Status.STREAMING),
            status=Status.QUEUED,
            upstream_started_at=None,
            transient_failures=F("transient_failures") + 1,
            enqueued_at=timezone.now() + timedelta(seconds=delay),
            stage=_retry_reason(exc),
            progress=0,
            previews=0,
            **cost_fields,
        )
        if requeued:
            enqueue(job.pk, countdown=delay)
        return
    # Whatever it cost is recorded, even when the job cannot end as failed (canceled).
    # A charge that may have happened at an unknown price keeps the estimate
    # reserved: the budget counts it rather than pretend it was free.
    unknown_charge = exc.may_be_charged and exc.cost is None
    if not unknown_charge:
        cost_fields["reserved_cost"] = Decimal(0)
    Job.objects.filter(pk=job.pk).update(**cost_fields)
    message = sentence(exc.user_message)
    if unknown_charge and "charged" not in message:
        message += " OpenRouter may still have charged for it."
    fail_job(job, exc.kind.value, message)


def _retry_reason(exc: OpenRouterError) -> str:
    """Why a job waits to be tried again, without the provider's own "try again in"."""
    if exc.kind == ErrorKind.RATE_LIMITED:
        return "OpenRouter is rate limiting us."
    return sentence(exc.user_message)[:200]
