"""Through the API with a token, against a real Celery worker, Redis, S3 and the emulator."""

from __future__ import annotations

import io
import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image as PILImage

from tests.api.conftest import bearer
from tests.settings import SERVICES
from webapp import tokens

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "catalog"),
]


def poll(client: Client, url: str, timeout: float = 45) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = dict(client.get(url).json())
        if data["status"] in {"succeeded", "failed", "canceled"}:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job stayed {data['status']} ({data['stage']}) for {timeout} s; "
                f"worker log:\n{SERVICES.log('celery')}"
            )
        time.sleep(0.2)


def test_a_job_made_through_the_api_with_a_token(user: User, emulator: Any) -> None:
    _, raw = tokens.create(user, "e2e")
    client = Client(enforce_csrf_checks=True, headers=bearer(raw))
    prompt = "a lighthouse at dusk, through the API"

    created = client.post(
        "/api/v1/jobs",
        json.dumps(
            {"prompt": prompt, "model": "openai/gpt-image-1", "options": {"quality": "low"}}
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content

    job = poll(client, created["Location"])

    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 100
    assert job["images"]
    image = job["images"][0]
    response = client.get(image["url"])
    assert response.status_code == 200
    data = response.getvalue()
    assert len(data) == image["bytes"]
    picture = PILImage.open(io.BytesIO(data))
    assert picture.format in {"PNG", "WEBP"}
    assert picture.size == (image["width"], image["height"])
    charges = [entry for entry in emulator.ledger()["entries"] if entry["prompt"] == prompt]
    assert len(charges) == 1
    assert Decimal(job["cost"]["actual"]) == Decimal(charges[0]["cost"])
