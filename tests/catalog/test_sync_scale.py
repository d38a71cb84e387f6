"""The sync reads endpoints on as many threads as configured and writes every
changed headline price in one statement."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ImageModel, SyncStatus
from catalog.sync import sync_catalog
from tests.catalog.conftest import FakeOpenRouter, endpoint, fake_client, image_model

pytestmark = pytest.mark.django_db

MODELS = [f"acme/m{i:02}" for i in range(30)]


def priced(fake_openrouter: FakeOpenRouter, cost: str) -> None:
    fake_openrouter.image_models = [image_model(model_id) for model_id in MODELS]
    fake_openrouter.endpoints = {
        model_id: [
            endpoint(
                provider,
                [{"billable": "output_image", "unit": "image", "cost_usd": cost}],
            )
            for provider in ("acme", "beta", "gamma")
        ]
        for model_id in MODELS
    }


def overlapping_calls(fake_openrouter: FakeOpenRouter, wait_for: int) -> dict[str, int]:
    """Counts endpoint calls in flight at once. Each call waits until
    ``wait_for`` are in flight (or half a second passed, for the last few),
    so the pool fills up whatever the machine's load; a pool larger than
    ``wait_for`` would show in the peak."""
    changed = threading.Condition()
    state = {"now": 0, "peak": 0}

    def slow(request: httpx.Request) -> None:
        with changed:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            changed.notify_all()
            changed.wait_for(lambda: state["now"] >= wait_for, timeout=0.5)
        with changed:
            state["now"] -= 1

    fake_openrouter.before_endpoints = slow
    return state


def test_endpoint_threads_follow_the_setting(
    fake_openrouter: FakeOpenRouter, settings: object
) -> None:
    settings.DARKROOM_CATALOG_SYNC_THREADS = 12  # type: ignore[attr-defined]
    priced(fake_openrouter, "0.04")
    state = overlapping_calls(fake_openrouter, wait_for=12)

    run = sync_catalog("command", client_factory=fake_client)

    assert run.status == SyncStatus.SUCCEEDED
    # All 12 configured at once (the old pool had 4), never more.
    assert state["peak"] == 12


def test_changed_headline_prices_are_written_in_one_update(
    fake_openrouter: FakeOpenRouter,
) -> None:
    priced(fake_openrouter, "0.04")
    sync_catalog("command", client_factory=fake_client)
    assert set(ImageModel.objects.values_list("headline_price", flat=True)) == {Decimal("0.04")}

    priced(fake_openrouter, "0.05")
    with CaptureQueriesContext(connection) as queries:
        run = sync_catalog("command", client_factory=fake_client)

    assert run.status == SyncStatus.SUCCEEDED
    assert run.changed == len(MODELS)
    headline_updates = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "catalog_imagemodel"')
        and "headline_price" in query["sql"]
    ]
    assert len(headline_updates) == 1
    assert set(ImageModel.objects.values_list("headline_price", flat=True)) == {Decimal("0.05")}


def test_a_sync_with_nothing_changed_writes_no_headline_price(
    fake_openrouter: FakeOpenRouter,
) -> None:
    priced(fake_openrouter, "0.04")
    sync_catalog("command", client_factory=fake_client)

    with CaptureQueriesContext(connection) as queries:
        sync_catalog("command", client_factory=fake_client)

    assert not [
        query
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "catalog_imagemodel"')
    ]
