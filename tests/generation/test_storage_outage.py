"""Paid images survive an image store that is down for a while.

The job runs in this process against a bucket endpoint where nothing listens
yet; a real S3-compatible server is started there a few seconds later, as a
store coming back after an outage would be.
"""

from __future__ import annotations

import subprocess
import threading
import time
from decimal import Decimal
from typing import Any

import boto3
import pytest
from django.contrib.auth.models import User

from generation import services
from generation.models import Job, Status
from tests import services as test_services
from tests.generation.conftest import charges_for, unsent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


@pytest.fixture
def dead_store(settings: Any) -> str:
    """Point storage at a free port with nothing on it; yields the endpoint."""
    endpoint = f"http://127.0.0.1:{test_services.free_port()}"
    settings.S3_ENDPOINT_URL = endpoint
    settings.S3_OPTIONS = {**settings.S3_OPTIONS, "endpoint_url": endpoint}
    settings.S3_BUCKET = "outage-test"
    return endpoint


def _start_store_later(
    endpoint: str, delay: float
) -> tuple[threading.Thread, list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        time.sleep(delay)
        port = endpoint.rsplit(":", 1)[1]
        binary = test_services.VENV_BIN / "moto_server"
        started.append(
            subprocess.Popen(
                [str(binary), "-H", "127.0.0.1", "-p", port],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        test_services.wait_for(lambda: test_services.port_open(int(port)), "S3 server")
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        ).create_bucket(Bucket="outage-test")

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    return thread, started


def _watch_stages(job_id: Any, stop: threading.Event) -> list[str]:
    seen: list[str] = []

    def watch() -> None:
        from django import db

        while not stop.is_set():
            stage = Job.objects.filter(pk=job_id).values_list("stage", flat=True).first()
            if stage and (not seen or seen[-1] != stage):
                seen.append(stage)
            time.sleep(0.05)
        db.connection.close()

    threading.Thread(target=watch, daemon=True).start()
    return seen


def test_images_wait_for_the_store_and_the_job_finishes_when_it_is_back(
    user: User, emulator: Any, dead_store: str
) -> None:
    job = unsent(user, "openai/gpt-image-1", "kept through an outage")
    starter, started = _start_store_later(dead_store, delay=3.0)
    stop = threading.Event()
    stages = _watch_stages(job.pk, stop)
    try:
        services.run(job.pk)
        starter.join(timeout=30)
    finally:
        stop.set()
        for process in started:
            process.terminate()
            process.wait(timeout=10)

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.images.count() == 1
    assert any(stage.startswith("Storing delayed") for stage in stages), stages
    (charge,) = charges_for(emulator, "kept through an outage")
    assert job.actual_cost == Decimal(str(charge["cost"]))
    assert job.reserved_cost == 0


def test_a_store_down_for_the_whole_window_fails_the_job_but_keeps_its_charge(
    user: User, emulator: Any, dead_store: str, settings: Any
) -> None:
    settings.DARKROOM_STORAGE_RETRY_SECONDS = 2
    job = unsent(user, "openai/gpt-image-1", "store never came back")

    services.run(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error_code) == (Status.FAILED, "storage")
    assert "did not answer for 2 s" in job.error_message
    (charge,) = charges_for(emulator, "store never came back")
    assert job.actual_cost == Decimal(str(charge["cost"]))  # the charge is not forgotten
    assert job.reserved_cost == 0
