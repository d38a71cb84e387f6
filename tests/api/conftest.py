"""Fixtures for the API tests: tokens, clients that carry them, jobs made directly."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from catalog.models import ImageModel
from generation import storage
from generation.models import Image, Job, Status
from tests.factories import JobFactory
from webapp import tokens


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def token(user: User) -> str:
    """A live API token of ``user`` (alice)."""
    return tokens.create(user, "tests")[1]


@pytest.fixture
def api(token: str) -> Client:
    """A client that authenticates with alice's token and no session, and that
    enforces CSRF like a browser would, so a passing POST proves tokens skip it."""
    return Client(enforce_csrf_checks=True, headers=bearer(token))


@pytest.fixture
def catalog(emulator: Any, db: None) -> None:
    """The emulator's models, synced into the catalog the way `make run` does."""
    call_command("sync_catalog", stdout=io.StringIO())
    assert ImageModel.objects.exists()


@pytest.fixture
def image_model(db: None) -> ImageModel:
    now = timezone.now()
    return ImageModel.objects.create(
        slug="test/painter", name="Test painter", first_seen=now, last_seen=now
    )


@pytest.fixture
def make_job(image_model: ImageModel) -> Any:
    """A job row as the services would leave it, without running anything."""

    def make(author: User, *, private: bool = False, **fields: Any) -> Job:
        values: dict[str, Any] = {
            "model": image_model,
            "prompt": "a lighthouse at dusk",
            "params": {"aspect_ratio": "16:9"},
            "status": Status.QUEUED,
            "provider": "",
            "actual_cost": None,
            **fields,
        }
        return JobFactory.create(author=author, is_private=private, **values)

    return make


def png_bytes(size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, (200, 80, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def make_image() -> Any:
    """A stored image (in the test S3 bucket) attached to a job."""

    def make(job: Job, index: int = 0) -> Image:
        data = png_bytes()
        sha = f"{index:02d}" + "ab" * 31
        key = storage.put(storage.original_key(sha, "image/png"), data)
        return Image.objects.create(
            job=job,
            index=index,
            original_key=key,
            thumbnail_key=key,
            media_type="image/png",
            width=8,
            height=6,
            bytes=len(data),
            sha256=sha,
        )

    return make


def succeeded(job: Job) -> Job:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=Status.SUCCEEDED,
        stage="Done",
        progress=100,
        started_at=now,
        finished_at=now,
        actual_cost=Decimal("0.0387"),
        provider="Test provider",
        upstream_id="gen-123",
        upstream_seconds=1.5,
        usage={"cost": 0.0387},
    )
    job.refresh_from_db()
    return job
