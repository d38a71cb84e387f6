"""A worker keeps what it was paid for through blips of the database and Redis,
and leaves the generation id behind the moment OpenRouter names it."""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django import db
from django.contrib.auth.models import User
from django.test import override_settings

from generation import services, storing
from generation.models import ACTIVE_STATUSES, Job, Status
from generation.openrouter import GeneratedImage, GenerationResult, PartialImage
from tests import services as test_services
from tests.generation.conftest import unsent
from tests.openrouter.payloads import PNG

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


def test_the_generation_id_is_on_the_job_while_the_answer_is_still_coming(
    user: User, emulator: Any
) -> None:
    job = unsent(
        user, "google/gemini-2.5-flash-image", "[emulator:latency=3] id first", style="chat"
    )

    def run() -> None:
        try:
            services.run(job.pk)
        finally:
            db.connection.close()  # this thread's own connection

    worker = threading.Thread(target=run)
    worker.start()
    seen_while_running = ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not seen_while_running:
            row = Job.objects.filter(pk=job.pk).values("status", "upstream_id").get()
            if row["status"] not in ACTIVE_STATUSES:
                break
            seen_while_running = row["upstream_id"]
            time.sleep(0.05)
    finally:
        worker.join(timeout=60)
        db.connection.close()
    job.refresh_from_db()
    assert seen_while_running.startswith("gen-")
    assert job.status == Status.SUCCEEDED
    assert job.upstream_id == seen_while_running


def test_recording_an_answer_waits_out_a_database_that_is_away(settings: Any) -> None:
    settings.DARKROOM_STORAGE_RETRY_SECONDS = 30
    tries: list[int] = []

    def record() -> None:
        tries.append(len(tries))
        if len(tries) < 3:
            raise db.OperationalError("connection refused")

    services._despite_database_outage(uuid.uuid4(), record)

    assert tries == [0, 1, 2]


def test_a_database_away_for_the_whole_window_raises(settings: Any) -> None:
    settings.DARKROOM_STORAGE_RETRY_SECONDS = 0

    def record() -> None:
        raise db.InterfaceError("connection already closed")

    with pytest.raises(db.InterfaceError):
        services._despite_database_outage(uuid.uuid4(), record)


def test_a_try_cut_short_while_storing_is_finished_by_the_next(user: User) -> None:
    """The database broke after the job reached STORING: recording again stores
    the images and ends the job, charged once."""
    job = unsent(user, "openai/gpt-image-1", "cut short")
    Job.objects.filter(pk=job.pk).update(status=Status.STORING)
    job.refresh_from_db()
    result = GenerationResult(
        images=[GeneratedImage(data=PNG, media_type="image/png")],
        cost=Decimal("0.04"),
        model="openai/gpt-image-1",
    )

    storing.store_result(job, result, 2.0)

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert job.images.count() == 1
    assert (job.actual_cost, job.reserved_cost) == (Decimal("0.04"), 0)


def test_a_preview_is_skipped_when_redis_is_away(user: User) -> None:
    job = unsent(user, "google/gemini-2.5-flash-image", "no cache", style="chat")
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING)
    dead = f"redis://127.0.0.1:{test_services.free_port()}/0"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        services._record_partial(job.pk, PartialImage(0, PNG, "image/png"))

    job.refresh_from_db()
    assert (job.status, job.previews) == (Status.RUNNING, 0)
