"""The catalog in the admin (read-only), the task, and the beat entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog import tasks
from catalog.models import ImageModel, SyncRun
from webapp.celery import app

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["imagemodel", "endpoint", "price", "syncrun"])
def test_admin_lists_are_read_only(synced: Any, staff_client: Client, name: str) -> None:
    listing = staff_client.get(f"/admin/catalog/{name}/")
    add = staff_client.get(f"/admin/catalog/{name}/add/")

    assert listing.status_code == 200
    assert add.status_code == 403


def test_admin_shows_a_model_without_editing_it(synced: Any, staff_client: Client) -> None:
    model = ImageModel.objects.get(slug="openai/gpt-image-1")

    response = staff_client.get(f"/admin/catalog/imagemodel/{model.pk}/change/")

    assert response.status_code == 200
    assert b"openai/gpt-image-1" in response.content
    assert b'name="_save"' not in response.content


def test_the_task_runs_the_sync_and_skips_when_one_is_running(emulator: Any) -> None:
    result = tasks.sync_catalog("nightly")

    assert result is not None
    assert result["status"] == "succeeded"
    assert result["added"] > 0
    assert SyncRun.objects.get().trigger == "nightly"

    SyncRun.objects.create(started_at=timezone.now(), trigger="button")
    assert tasks.sync_catalog("nightly") is None


def test_the_nightly_beat_entry() -> None:
    app.loader.import_default_modules()
    [entry] = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "catalog.tasks.sync_catalog"
    ]

    assert entry["task"] in app.tasks
    assert entry["kwargs"] == {"trigger": "nightly"}
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {17})
