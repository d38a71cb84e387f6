"""Keeping a finished job's images: verify, store content-addressed (retrying while
storage is down), record the rows, settle the job's charge.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

from django import db
from django.conf import settings
from django.utils import timezone

from generation import imaging, storage
from generation.models import Image, Job, Status
from generation.openrouter import (
    GenerationResult,
)
from generation.transitions import fail_job, sentence, update_job

logger = logging.getLogger(__name__)


# Storage retries back off from 1 s to 30 s between tries.
STORAGE_FIRST_DELAY_SECONDS = 1.0
STORAGE_MAX_DELAY_SECONDS = 30.0


def store_result(job: Job, result: GenerationResult, seconds: float) -> None:
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
    # services._despite_database_outage), and only this worker moves its job to STORING.
    if not update_job(
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
        fail_job(
            job,
            "storage",
            f"The images were generated (and charged) but the image store did not answer "
            f"for {settings.DARKROOM_STORAGE_RETRY_SECONDS} s, so they could not be kept. "
            "Ask an administrator to check the storage service.",
        )
        return
    if not stored:
        fail_job(
            job, "invalid_image", sentence(f"The model's answer could not be used: {rejected[0]}")
        )
        return
    note = f"; {len(rejected)} unusable image(s) skipped" if rejected else ""
    update_job(
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
                delayed = update_job(
                    job.pk,
                    (Status.STORING,),
                    stage="Storing delayed: the image store is not answering; retrying",
                )
            db.connection.close()  # nothing to do with the database while waiting
            time.sleep(delay)
            delay = min(delay * 2, STORAGE_MAX_DELAY_SECONDS)
            continue
        if delayed:
            update_job(job.pk, (Status.STORING,), stage="Storing images")
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
    try:
        # One INSERT: a job's images are stored once (its status moved to storing
        # conditionally), so the unique (job, index) only guards against a bug.
        return Image.objects.create(
            job=job,
            index=index,
            original_key=original,
            thumbnail_key=thumbnail,
            media_type=verified.media_type,
            width=verified.width,
            height=verified.height,
            bytes=len(verified.data),
            sha256=sha,
        )
    except db.IntegrityError:
        return Image.objects.get(job=job, index=index)
