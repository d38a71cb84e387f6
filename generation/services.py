"""Everything that changes a job: submit, run, cancel, retry, sweep.

Every change of status is a conditional UPDATE on the current status, so a
redelivered task, a concurrent cancel and the sweep can never overwrite each
other; zero rows updated means "someone else has moved this job on".
Nothing here holds a database transaction open across an OpenRouter call.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
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
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from catalog.models import Endpoint, ImageModel
from generation import heartbeat, imaging, progress, spending, storage
from generation.models import ACTIVE_STATUSES, Batch, Image, Job, Status, Style
from generation.openrouter import (
    GenerationResult,
    OpenRouterError,
    PartialImage,
    RequestInvalid,
    client_from_settings,
)

logger = logging.getLogger(__name__)

# Transient upstream failures (429, 5xx before any charge, network) are retried
# this many times, with exponential backoff honouring Retry-After.
MAX_TRANSIENT_RETRIES = 3
BACKOFF_CAP_SECONDS = 120.0
# A queued job nobody claimed for this long was lost by the broker: send it again.
LOST_AFTER = timedelta(minutes=2)
# A queued job never sent (the broker was down at submit) is sent by the next sweep.
UNSENT_AFTER = timedelta(seconds=10)
# A worker that died before calling OpenRouter: its job runs again, this many times at most.
MAX_ATTEMPTS = 3
# Storage retries back off from 1 s to 30 s between tries.
STORAGE_FIRST_DELAY_SECONDS = 1.0
STORAGE_MAX_DELAY_SECONDS = 30.0


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


# Submitting


def submit(author: User, requests: Sequence[JobRequest]) -> list[Job]:
    """Create the jobs (several models = one batch) and queue them after commit.

    Their estimates are reserved against the budgets first; raises
    ``spending.SpendRefused`` (nothing created) when they do not fit.
    """
    if not requests:
        raise ValueError("nothing to submit")
    with transaction.atomic():
        spending.reserve(author, sum((r.estimated_cost for r in requests), Decimal(0)))
        batch = (
            Batch.objects.create(author=author, prompt=requests[0].prompt)
            if len(requests) > 1
            else None
        )
        jobs = [
            Job.objects.create(
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
            transaction.on_commit(partial(enqueue, job.pk))
    return jobs


def enqueue(job_id: uuid.UUID, countdown: float = 0) -> None:
    """Send the job to the generation queue. A broker that is down leaves the job
    queued in the database with no ``enqueued_at``, and the next sweep (every
    30 s) sends it once the broker is back. One try, no retries: a submit must
    not wait on a broker that does not answer (``CELERY_TASK_PUBLISH_RETRY``)."""
    from generation import tasks

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


# Running


def _update(job_id: uuid.UUID, statuses: Iterable[str], **fields: Any) -> bool:
    changed = Job.objects.filter(pk=job_id, status__in=list(statuses)).update(**fields)
    if changed and "status" in fields:
        progress.publish(job_id, fields["status"])
    elif changed:
        progress.publish(job_id, "progress")
    return bool(changed)


def claim(job_id: uuid.UUID) -> Job | None:
    """Take a queued job for this worker, or None if someone else has it (or it
    was canceled, or a redelivered message arrives after it ran)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        stage="Starting",
        progress=5,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    progress.publish(job_id, Status.RUNNING)
    return Job.objects.select_related("model", "endpoint").get(pk=job_id)


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
            _fail(job, "internal", "Something went wrong on our side; the error has been logged.")
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
        _fail(job, "invalid_request", f"{exc.field}: {exc.message}")
        return
    except OpenRouterError as exc:
        seconds = time.monotonic() - began
        _despite_database_outage(job.pk, partial(_handle_upstream_error, job, exc, seconds))
        return
    seconds = time.monotonic() - began
    _despite_database_outage(job.pk, partial(_store_result, job, result, seconds))


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
        _update(
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
        requeued = _update(
            job.pk,
            (Status.RUNNING, Status.STREAMING),
            status=Status.QUEUED,
            upstream_started_at=None,
            transient_failures=F("transient_failures") + 1,
            stage=f"{exc.user_message} Trying again in {delay:.0f} s.",
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
    message = _sentence(exc.user_message)
    if unknown_charge and "charged" not in message:
        message += " OpenRouter may still have charged for it."
    _fail(job, exc.kind.value, message)


def _sentence(text: str) -> str:
    """``text`` ending with a full stop, so that sentences never run together."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _fail(job: Job, code: str, message: str) -> None:
    """End the job as failed. Its reservation is left as the caller set it: released
    once the charge is known, kept where the call may have been charged unknowingly."""
    _update(
        job.pk,
        ACTIVE_STATUSES,
        status=Status.FAILED,
        stage="Failed",
        error_code=code,
        error_message=message,
        finished_at=timezone.now(),
    )


def _store_result(job: Job, result: GenerationResult, seconds: float) -> None:
    accounting: dict[str, Any] = {
        "reserved_cost": Decimal(0) if result.cost is not None else job.estimated_cost,
        "upstream_seconds": seconds,
        "actual_cost": result.cost,
        "usage": result.usage.raw if result.usage else {},
        "upstream_id": result.generation_id or "",
        "provider": result.provider or (job.endpoint.provider_name if job.endpoint else ""),
        "text": result.text[:10_000],
    }
    count = len(result.images)
    # STORING too: a try cut short by a database outage is run again (see
    # _despite_database_outage), and only this worker moves its job to STORING.
    if not _update(
        job.pk,
        (Status.RUNNING, Status.STREAMING, Status.STORING),
        status=Status.STORING,
        stage=f"Storing {count} image{'s' if count != 1 else ''}",
        progress=85,
        **accounting,
    ):
        # Canceled meanwhile: keep what it cost, drop the images.
        Job.objects.filter(pk=job.pk).update(**accounting)
        return
    rejected: list[str] = []
    stored = 0
    try:
        for index, image in enumerate(result.images):
            try:
                verified = imaging.verify(image.data, image.media_type)
            except imaging.ImageRejected as exc:
                rejected.append(str(exc))
                continue
            _save_image(job, index, verified)
            stored += 1
    except StorageUnavailable:
        _fail(
            job,
            "storage",
            f"The images were generated (and charged) but the image store did not answer "
            f"for {settings.DARKROOM_STORAGE_RETRY_SECONDS} s, so they could not be kept. "
            "Ask an administrator to check the storage service.",
        )
        return
    if not stored:
        _fail(
            job, "invalid_image", _sentence(f"The model's answer could not be used: {rejected[0]}")
        )
        return
    note = f"; {len(rejected)} unusable image(s) skipped" if rejected else ""
    _update(
        job.pk,
        (Status.STORING,),
        status=Status.SUCCEEDED,
        stage=f"Done{note}",
        progress=100,
        finished_at=timezone.now(),
    )


class StorageUnavailable(Exception):
    """The image store kept failing for the whole retry window."""


def _put_durably(job: Job, key: str, data: bytes) -> str:
    """``storage.put``, retried with backoff while the store is down.

    The bytes are paid for and held in memory, so an outage of seconds or
    minutes must not lose them: the job shows "Storing delayed" meanwhile
    (its heartbeat keeps the sweep away) and finishes once the store answers.
    Raises ``StorageUnavailable`` after ``DARKROOM_STORAGE_RETRY_SECONDS``.
    """
    give_up_at = time.monotonic() + settings.DARKROOM_STORAGE_RETRY_SECONDS
    delay = STORAGE_FIRST_DELAY_SECONDS
    delayed = False
    while True:
        try:
            stored = storage.put(key, data)
        except Exception as exc:  # boto3, botocore and the file system raise many types
            if time.monotonic() + delay > give_up_at:
                logger.error("Storage still failing for job %s; giving up", job.pk)
                raise StorageUnavailable from exc
            logger.warning("Storing %s for job %s failed (%s); retrying", key, job.pk, exc)
            if not delayed:
                delayed = _update(
                    job.pk,
                    (Status.STORING,),
                    stage="Storing delayed: the image store is not answering; retrying",
                )
            db.connection.close()  # nothing to do with the database while waiting
            time.sleep(delay)
            delay = min(delay * 2, STORAGE_MAX_DELAY_SECONDS)
            continue
        if delayed:
            _update(job.pk, (Status.STORING,), stage="Storing images")
        return stored


def _save_image(job: Job, index: int, verified: imaging.VerifiedImage) -> Image:
    sha = verified.sha256
    original = _put_durably(job, storage.original_key(sha, verified.media_type), verified.data)
    thumbnail = (
        original
        if verified.thumbnail is verified.data
        else _put_durably(
            job, storage.thumbnail_key(sha, verified.thumbnail_media_type), verified.thumbnail
        )
    )
    image, _ = Image.objects.get_or_create(
        job=job,
        index=index,
        defaults={
            "original_key": original,
            "thumbnail_key": thumbnail,
            "media_type": verified.media_type,
            "width": verified.width,
            "height": verified.height,
            "bytes": len(verified.data),
            "sha256": sha,
        },
    )
    return image


# Housekeeping


@dataclass(frozen=True)
class SweepReport:
    timed_out: int
    resent: int
    interrupted: int = 0
    restarted: int = 0


_WORKING = (Status.RUNNING, Status.STREAMING, Status.STORING)
INTERRUPTED_MESSAGE = (
    "The worker running this job stopped before it finished. OpenRouter may have "
    "charged for it: the charge is confirmed with OpenRouter automatically where it "
    "can be, so check the job's cost before you retry."
)


def sweep() -> SweepReport:
    """End or restart jobs whose worker died, end jobs that overstayed their time
    limit, and resend queued jobs the broker lost.

    A job whose heartbeat stopped (``heartbeat.STALE_AFTER``) lost its worker:
    if it never reached OpenRouter it is queued again (up to ``MAX_ATTEMPTS``
    claims); otherwise it may have been charged, so it fails as
    ``interrupted`` and keeps its reservation until reconciliation (or an
    administrator) settles the charge.
    """
    now = timezone.now()
    stale_before = now - heartbeat.STALE_AFTER
    orphaned = Job.objects.filter(status__in=_WORKING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    interrupted = restarted = 0
    for job_id, upstream_started_at, attempts in orphaned.values_list(
        "pk", "upstream_started_at", "attempts"
    ):
        if upstream_started_at is None and attempts < MAX_ATTEMPTS:
            if _update(
                job_id,
                _WORKING,
                status=Status.QUEUED,
                stage="Waiting for a worker (the previous one stopped)",
                progress=0,
                previews=0,
            ):
                enqueue(job_id)
                restarted += 1
            continue
        fields: dict[str, Any] = {}
        if upstream_started_at is None:
            # Never sent: nothing can have been charged.
            fields["reserved_cost"] = Decimal(0)
            message = "The job's worker stopped before it could start, several times. Retry it."
        else:
            message = INTERRUPTED_MESSAGE
        interrupted += _update(
            job_id,
            _WORKING,
            status=Status.FAILED,
            stage="Failed",
            error_code="interrupted",
            error_message=message,
            finished_at=now,
            **fields,
        )

    # A live worker whose call outlived every bound (the client enforces its own,
    # so this is a last resort). Storing is exempt while its heartbeat is fresh:
    # storage retries may take longer than a generation.
    deadline = now - timedelta(seconds=settings.GENERATION_OVERSTAY_SECONDS)
    timed_out = 0
    stuck = Job.objects.filter(
        status__in=[Status.RUNNING, Status.STREAMING], started_at__lt=deadline
    ).values_list("pk", flat=True)
    for job_id in stuck:
        timed_out += _update(
            job_id,
            (Status.RUNNING, Status.STREAMING),
            status=Status.FAILED,
            stage="Failed",
            error_code="timeout",
            error_message=(
                f"The generation did not finish within {settings.GENERATION_TIME_LIMIT} s "
                "and was stopped. OpenRouter may have charged for it: check the job's cost "
                "before you retry."
            ),
            finished_at=now,
        )
    # Lost by the broker (sent, never claimed), or never sent: the broker was
    # down at submit (a job not sent yet is seconds old: its submit commits first).
    lost = Job.objects.filter(
        Q(status=Status.QUEUED)
        & (
            Q(enqueued_at__lt=now - LOST_AFTER)
            | Q(enqueued_at__isnull=True, created_at__lt=now - UNSENT_AFTER)
        )
    ).values_list("pk", flat=True)
    resent = 0
    for job_id in lost:
        enqueue(job_id)
        resent += 1
    return SweepReport(
        timed_out=timed_out, resent=resent, interrupted=interrupted, restarted=restarted
    )
