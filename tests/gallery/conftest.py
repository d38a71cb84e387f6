"""Factories for gallery and history tests: jobs and stored images made directly,
without running a worker (the generation path has its own tests)."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from catalog.models import Endpoint, ImageModel
from generation import imaging, storage
from generation.models import Image, Job, Status, Style
from tests.factories import ImageModelFactory, JobFactory
from tests.generation.conftest import catalog  # noqa: F401 - the synced catalog, for Run again

_colours = itertools.count(1)


def png(colour: int | None = None, size: tuple[int, int] = (32, 32)) -> bytes:
    """A real PNG, different for every call unless ``colour`` is given."""
    value = next(_colours) if colour is None else colour
    out = io.BytesIO()
    rgb = (value % 251, (value // 251) % 251, (value // 63001) % 251)
    PILImage.new("RGB", size, rgb).save(out, format="PNG")
    return out.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="#f00"/></svg>'
)


def image_model(slug: str = "openai/gpt-image-1", name: str | None = None) -> ImageModel:
    return ImageModelFactory.create(slug=slug, **({"name": name} if name else {}))


def make_job(
    author: User,
    prompt: str = "a blue door at noon",
    *,
    model: str = "openai/gpt-image-1",
    style: str = Style.IMAGES,
    provider: str = "OpenAI",
    private: bool = False,
    status: str = Status.SUCCEEDED,
    created_at: datetime | None = None,
    params: dict[str, Any] | None = None,
    cost: Decimal | None = Decimal("0.04"),
) -> Job:
    """A finished job (``tests.factories.JobFactory``) that took 4 s, on the
    catalog's endpoint when the catalog has one; ``created_at`` back-dates it."""
    catalog_model = image_model(model)
    started = created_at or timezone.now()
    return JobFactory.create(
        author=author,
        model=catalog_model,
        endpoint=Endpoint.objects.filter(model=catalog_model).first(),
        style=style,
        prompt=prompt,
        params=params or {},
        is_private=private,
        status=status,
        provider=provider,
        estimated_cost=Decimal("0.05"),
        actual_cost=cost,
        upstream_seconds=3.25,
        started_at=timezone.now(),
        finished_at=started + timedelta(seconds=4),
        created_at=created_at,
    )


def add_image(
    job: Job,
    *,
    index: int | None = None,
    data: bytes | None = None,
    created_at: datetime | None = None,
) -> Image:
    """Store real bytes content-addressed, as the worker does, and record the image."""
    verified = imaging.verify(data if data is not None else png(), "")
    original = storage.put(
        storage.original_key(verified.sha256, verified.media_type), verified.data
    )
    thumbnail = (
        original
        if verified.thumbnail is verified.data
        else storage.put(
            storage.thumbnail_key(verified.sha256, verified.thumbnail_media_type),
            verified.thumbnail,
        )
    )
    image = Image.objects.create(
        job=job,
        index=job.images.count() if index is None else index,
        original_key=original,
        thumbnail_key=thumbnail,
        media_type=verified.media_type,
        width=verified.width,
        height=verified.height,
        bytes=len(verified.data),
        sha256=verified.sha256,
    )
    if created_at is not None:
        Image.objects.filter(pk=image.pk).update(created_at=created_at)
        image.refresh_from_db()
    return image


def make_image(author: User, prompt: str = "a blue door at noon", **kwargs: Any) -> Image:
    """One job with one image; ``created_at`` sets both."""
    data = kwargs.pop("data", None)
    job = make_job(author, prompt, **kwargs)
    return add_image(job, data=data, created_at=kwargs.get("created_at"))


@pytest.fixture
def bob(make_user: Any) -> User:
    return make_user("bob")


@pytest.fixture
def bob_client(bob: User) -> Client:
    client = Client()
    client.force_login(bob)
    return client
