"""Reads of jobs and images, with the visibility rule applied in one place."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from generation.models import Image, Job

User = AbstractBaseUser | AnonymousUser


def visible_jobs(user: User) -> QuerySet[Job]:
    """Team-visible jobs plus the viewer's own private ones. A private job is
    invisible to everyone else, staff included, everywhere but the admin."""
    return Job.objects.filter(Q(is_private=False) | Q(author_id=user.pk))


def visible_images(user: User) -> QuerySet[Image]:
    return Image.objects.filter(Q(job__is_private=False) | Q(job__author_id=user.pk))


def job_for(user: User, job_id: uuid.UUID) -> Job:
    """The job if the user may see it; 404 otherwise (not 403: no existence leak)."""
    return get_object_or_404(
        visible_jobs(user).select_related("model", "author", "endpoint"), pk=job_id
    )


def image_for(user: User, image_id: uuid.UUID) -> Image:
    return get_object_or_404(visible_images(user).select_related("job"), pk=image_id)


def cards(user: User, job_ids: Iterable[uuid.UUID]) -> list[Job]:
    """Jobs for job cards, in the order asked, with their images, in two queries."""
    ids = list(job_ids)
    found = {
        job.pk: job
        for job in visible_jobs(user)
        .filter(pk__in=ids)
        .select_related("model", "author")
        .prefetch_related("images")
    }
    return [found[job_id] for job_id in ids if job_id in found]


def recent_jobs(user: User, limit: int = 12) -> list[Job]:
    return list(
        Job.objects.filter(author_id=user.pk)
        .select_related("model", "author")
        .prefetch_related("images")
        .order_by("-created_at")[:limit]
    )
