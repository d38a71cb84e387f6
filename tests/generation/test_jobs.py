"""Jobs end to end: a real Celery worker, Redis, S3 server and the OpenRouter emulator."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from generation import services
from generation.models import Job, Status, Style
from generation.openrouter.sizes import STANDARD_1K
from tests.generation.conftest import charges_for, submit, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "catalog"),
]


def stored_image(job: Job, index: int = 0) -> PILImage.Image:
    image = job.images.get(index=index)
    with default_storage.open(image.original_key) as handle:
        data = handle.read()
    assert len(data) == image.bytes
    picture = PILImage.open(io.BytesIO(data))
    assert picture.size == (image.width, image.height)
    return picture


@pytest.mark.parametrize(
    ("slug", "style", "params"),
    [
        ("openai/gpt-image-1", Style.IMAGES, {"quality": "low"}),
        ("bytedance-seed/seedream-4.5", Style.IMAGES, {"resolution": "2K", "seed": 7}),
        ("google/gemini-2.5-flash-image", Style.CHAT, {"image_config": {"aspect_ratio": "16:9"}}),
        ("openai/gpt-5-image-mini", Style.TOOL_CHAT, {"quality": "low"}),
        ("openai/gpt-5-image-mini", Style.TOOL_RESPONSES, {}),
    ],
)
def test_each_style_stores_real_images_and_the_real_charge(
    user: User, emulator: Any, slug: str, style: str, params: dict[str, Any]
) -> None:
    prompt = f"a lighthouse at dusk via {style} {slug}"

    job = wait_for(submit(user, slug, prompt, style=style, params=params).pk)

    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.images.count() >= 1
    picture = stored_image(job)
    assert picture.format in {"PNG", "JPEG", "WEBP"}
    charges = charges_for(emulator, prompt)
    assert len(charges) == 1
    assert job.actual_cost == Decimal(charges[0]["cost"])
    assert job.provider
    assert job.progress == 100
    if style == Style.CHAT:
        assert picture.size == STANDARD_1K["16:9"]  # what the client and catalog expect
        assert job.upstream_id.startswith("gen-")


def test_streaming_endpoint_pushes_partial_previews(user: User, emulator: Any) -> None:
    job = wait_for(submit(user, "openai/gpt-image-1", "a fox in snow [emulator:latency=0.5]").pk)

    assert job.status == Status.SUCCEEDED
    assert job.previews == 2


def test_n_images_are_stored_once_each(user: User, emulator: Any) -> None:
    job = wait_for(submit(user, "openai/gpt-image-1", "three pears", params={"n": 3}, n=3).pk)

    assert job.status == Status.SUCCEEDED
    images = list(job.images.all())
    assert [image.index for image in images] == [0, 1, 2]
    assert len({image.sha256 for image in images}) == 3
    for image in images:
        assert default_storage.exists(image.original_key)
        assert default_storage.exists(image.thumbnail_key)


def test_vector_model_stores_sanitised_svg(user: User, emulator: Any) -> None:
    job = wait_for(submit(user, "recraft/recraft-v4-vector", "a logo [emulator:svg=hostile]").pk)

    assert job.status == Status.SUCCEEDED, job.error_message
    image = job.images.get()
    assert image.media_type == "image/svg+xml"
    with default_storage.open(image.original_key) as handle:
        svg = handle.read().decode()
    assert "<script" not in svg
    assert "onload" not in svg


@pytest.mark.parametrize(
    ("directive", "code", "message"),
    [
        ("[emulator:fail=402]", "credits", "out of credits"),
        ("[emulator:fail=403]", "moderation", "moderation"),
        ("[emulator:refuse]", "refused", "did not produce an image"),
        ("[emulator:fail=429,retry_after=0]", "rate_limited", "rate limit"),
        ("[emulator:fail=502]", "upstream", ""),
        ("[emulator:fail=503]", "unavailable", ""),
        ("[emulator:bytes=garbage]", "invalid_image", "not a valid image"),
        ("[emulator:bomb]", "invalid_image", "megapixels, more than the 64 allowed"),
        ("[emulator:malformed]", "malformed", "may have been charged"),
    ],
)
def test_upstream_failures_end_with_a_clear_message(
    user: User, emulator: Any, directive: str, code: str, message: str
) -> None:
    prompt = f"a cat {directive}"

    job = wait_for(submit(user, "google/gemini-2.5-flash-image", prompt, style=Style.CHAT).pk)

    assert job.status == Status.FAILED
    assert job.error_code == code
    assert message.lower() in job.error_message.lower()
    assert job.images.count() == 0
    charged = sum((Decimal(c["cost"]) for c in charges_for(emulator, prompt)), Decimal(0))
    if code == "malformed":
        # The answer was unreadable, so was its cost: the job says it may have been charged.
        assert job.actual_cost is None
    else:
        assert (job.actual_cost or Decimal(0)) == charged


def test_transient_failures_are_retried_then_succeed(user: User, emulator: Any) -> None:
    prompt = "a tree [emulator:fail=503,fail_times=2]"

    job = wait_for(submit(user, "google/gemini-2.5-flash-image", prompt, style=Style.CHAT).pk)

    assert job.status == Status.SUCCEEDED
    assert job.transient_failures == 2
    assert len(charges_for(emulator, prompt)) == 1


def test_rate_limit_is_retried_a_bounded_number_of_times(user: User, emulator: Any) -> None:
    prompt = "a storm [emulator:fail=429,retry_after=0]"

    job = wait_for(submit(user, "openai/gpt-image-1", prompt).pk)

    assert job.status == Status.FAILED
    assert job.transient_failures == services.MAX_TRANSIENT_RETRIES
    requests = emulator.requests()
    assert requests  # the emulator saw the calls
    assert charges_for(emulator, prompt) == []


def test_cancel_a_running_job_keeps_its_cost_and_drops_images(user: User, emulator: Any) -> None:
    prompt = "a slow river [emulator:latency=2]"
    job = submit(user, "google/gemini-2.5-flash-image", prompt, style=Style.CHAT)
    wait_for(job.pk, statuses=("running", "streaming"))

    assert services.cancel(Job.objects.get(pk=job.pk))

    job = wait_for(job.pk)
    assert job.status == Status.CANCELED
    # The upstream call is left to finish so that what it cost is known.
    job = _wait_for_cost(job.pk)
    assert job.status == Status.CANCELED
    assert job.images.count() == 0
    assert job.actual_cost == Decimal(charges_for(emulator, prompt)[0]["cost"])


def test_redelivered_task_never_pays_twice(user: User, emulator: Any) -> None:
    from generation import tasks

    prompt = "a single red apple [emulator:latency=0.5]"
    job = submit(user, "google/gemini-2.5-flash-image", prompt, style=Style.CHAT)
    # The broker hands the same message out again (visibility timeout, lost ack…).
    tasks.run_job.delay(str(job.pk))
    tasks.run_job.delay(str(job.pk))

    job = wait_for(job.pk)
    services.run(job.pk)  # and once more, late, in this process

    assert job.status == Status.SUCCEEDED
    assert len(charges_for(emulator, prompt)) == 1
    assert job.images.count() == 1
    assert job.attempts == 1


def _wait_for_cost(job_id: Any, timeout: float = 15) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.actual_cost is not None:
            return job
        time.sleep(0.1)
    raise AssertionError("the canceled job's cost was never recorded")
