"""Fixtures for the Costs tests: jobs written straight to the database, and a clean /key cache."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from catalog.models import ImageModel
from costs import key_check
from generation.models import Image, Job, Status, Style
from tests.factories import ImageModelFactory, JobFactory
from tests.generation.conftest import catalog  # noqa: F401 - the synced-catalog fixture

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    """The /key answer is cached in Redis, which outlives a test: start each test without it."""
    cache.delete(key_check.cache_key())
    yield
    cache.delete(key_check.cache_key())


def image_model(slug: str = "openai/gpt-image-1") -> ImageModel:
    return ImageModelFactory.create(slug=slug)


def make_job(
    author: User,
    *,
    slug: str = "openai/gpt-image-1",
    prompt: str | None = None,
    style: str = Style.IMAGES,
    status: str = Status.SUCCEEDED,
    estimated: str = "0.04",
    actual: str | None = "0.04",
    confirmed: str | None = None,
    reserved: str = "0",
    provider: str = "OpenAI",
    images: int = 0,
    created_at: datetime | None = None,
    **fields: Any,
) -> Job:
    """A finished job as the worker would have left it (``tests.factories.JobFactory``),
    amounts given as strings; ``images`` rows that name files never stored."""
    if prompt:
        fields["prompt"] = prompt
    job = JobFactory.create(
        author=author,
        model=image_model(slug),
        style=style,
        status=status,
        estimated_cost=Decimal(estimated),
        actual_cost=None if actual is None else Decimal(actual),
        confirmed_cost=None if confirmed is None else Decimal(confirmed),
        reserved_cost=Decimal(reserved),
        provider=provider,
        created_at=created_at,
        **fields,
    )
    for index in range(images):
        Image.objects.create(
            job=job,
            index=index,
            original_key=f"originals/{job.pk}-{index}.png",
            thumbnail_key=f"thumbnails/{job.pk}-{index}.webp",
            media_type="image/png",
            width=1024,
            height=1024,
            bytes=1000 + index,
            sha256=f"{job.pk.hex}{index:02d}".ljust(64, "0")[:64],
        )
    return job
