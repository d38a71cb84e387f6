"""Reads behind the Generate page: the default model and queue places."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import ImageModel
from generation.models import Job, Status

# "The team's most used" looks at this much recent history, so that a model the
# team has moved away from stops being the default.
POPULAR_WINDOW = timedelta(days=30)


def default_model(models: Sequence[ImageModel]) -> ImageModel | None:
    """The model a newcomer starts with: the one the team used most in the last
    30 days, else the cheapest with a known price (the team pays while someone
    finds their way), else the first."""
    if not models:
        return None
    by_slug = {model.slug: model for model in models}
    since = timezone.now() - POPULAR_WINDOW
    popular = (
        Job.objects.filter(created_at__gte=since, model_slug__in=list(by_slug))
        .values("model_slug")
        .annotate(uses=Count("pk"))
        .order_by("-uses", "model_slug")
        .first()
    )
    if popular:
        return by_slug[popular["model_slug"]]
    priced = [(model.headline_price, model.slug) for model in models if model.headline_price]
    if priced:
        return by_slug[min(priced)[1]]
    return models[0]


def queue_position(job: Job) -> int | None:
    """The job's place among the jobs waiting for a worker now (1: next), or None
    when it is not waiting (running, finished, or waiting out a retry delay)."""
    now = timezone.now()
    if job.status != Status.QUEUED or (job.enqueued_at and job.enqueued_at > now):
        return None
    mark = job.enqueued_at or job.created_at
    ahead = (
        Job.objects.filter(status=Status.QUEUED)
        .filter(Q(enqueued_at__lte=now) | Q(enqueued_at__isnull=True))
        .filter(Q(enqueued_at__lt=mark) | Q(enqueued_at__isnull=True, created_at__lt=mark))
        .count()
    )
    return ahead + 1
