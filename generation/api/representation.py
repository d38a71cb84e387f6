"""The API's view of jobs and images, as plain dicts shaped like
``generation.api.schemas.JobOut`` (which checks them on the way out)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse

from generation.models import Image, Job


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
