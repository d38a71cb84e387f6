"""The Models page, a model's page, and the staff-only Sync now button."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import ImageModel, SyncRun, SyncStatus

pytestmark = pytest.mark.django_db


def slugs(client: Client, **query: str) -> list[str]:
    response = client.get(f"/models/?{urlencode(query)}")
    assert response.status_code == 200
    return [model.slug for model in response.context["models"]]


class TestModelsPage:
    def test_needs_a_login(self, client: Client) -> None:
        response = client.get("/models/")

        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_lists_every_current_model(self, synced: Any, user_client: Client) -> None:
        response = user_client.get("/models/")

        assert response.status_code == 200
        assert len(response.context["models"]) == ImageModel.objects.count()
        assert b"Black Forest Labs: FLUX.2 [pro]" in response.content
        assert b"$0.0315" in response.content  # 1.048576 MP x $0.03
        assert b'data-testid="sync-status"' in response.content
        assert b"Sync now" not in response.content  # staff only

    def test_filters_combine(self, synced: Any, user_client: Client) -> None:
        assert slugs(user_client, streaming="yes") == [
            "openai/gpt-image-1",
            "openai/gpt-image-1-mini",
            "openai/gpt-image-2",
            "openai/gpt-5-image",
            "openai/gpt-5-image-mini",
            "openai/gpt-5.4-image-2",
        ]
        assert set(slugs(user_client, output="text")) == {
            "google/gemini-2.5-flash-image",
            "google/gemini-2.5-flash-image-preview",
            "google/gemini-3-pro-image-preview",
            "google/gemini-3.1-flash-image-preview",
            "openai/gpt-5-image",
            "openai/gpt-5-image-mini",
            "openai/gpt-5.4-image-2",
        }
        assert slugs(user_client, output="text", streaming="yes", q="mini") == [
            "openai/gpt-5-image-mini"
        ]
        assert set(slugs(user_client, input="file")) == {
            "openai/gpt-5-image",
            "openai/gpt-5-image-mini",
            "openai/gpt-5.4-image-2",
        }
        assert set(slugs(user_client, param="input_references", q="flux")) == {
            "black-forest-labs/flux.2-klein-4b",
            "black-forest-labs/flux.2-max",
            "black-forest-labs/flux.2-pro",
            "black-forest-labs/flux.2-flex",
        }
        assert slugs(user_client, q="SEEDREAM") == ["bytedance-seed/seedream-4.5"]

    def test_price_range_and_sort(self, synced: Any, user_client: Client) -> None:
        cheap = slugs(user_client, max_price="0.03", sort="price")
        # $0.01, $0.0147 (1.048576 MP x $0.014), $0.019, $0.02.
        assert cheap == [
            "x-ai/grok-imagine-image-quality",
            "black-forest-labs/flux.2-klein-4b",
            "sourceful/riverflow-v2.5-fast",
            "sourceful/riverflow-v2-fast",
        ]
        ranged = slugs(user_client, min_price="0.12", max_price="0.17", sort="-price")
        # Equal prices ($0.1664, 4160 high-quality tokens; $0.1248): then by name.
        assert ranged == [
            "openai/gpt-image-1",
            "openai/gpt-5-image",
            "sourceful/riverflow-v2-pro",
            "sourceful/riverflow-v2.5-pro",
            "google/gemini-3-pro-image-preview",
            "openai/gpt-image-2",
            "openai/gpt-5.4-image-2",
        ]
        by_price = slugs(user_client, sort="price")
        prices = [ImageModel.objects.get(slug=s).headline_price for s in by_price]
        assert prices == sorted(prices)  # type: ignore[type-var]
        by_name = slugs(user_client, sort="-name")
        names = [ImageModel.objects.get(slug=s).name for s in by_name]
        assert names == sorted(names, reverse=True)

    def test_bad_filter_values_are_shown_not_a_500(self, synced: Any, user_client: Client) -> None:
        response = user_client.get("/models/?min_price=abc&max_price=0.005&param=nope&sort=weird")

        assert response.status_code == 200
        form = response.context["form"]
        assert {"min_price", "param", "sort"} <= set(form.errors)
        assert [m.slug for m in response.context["models"]] == []  # max 0.005 still applies

        inverted = user_client.get("/models/?min_price=1&max_price=0.5")
        assert "max_price" in inverted.context["form"].errors

    def test_retired_models_are_hidden_unless_asked_for(
        self, synced: Any, user_client: Client
    ) -> None:
        ImageModel.objects.filter(slug="recraft/recraft-v4").update(retired_at=timezone.now())

        assert "recraft/recraft-v4" not in slugs(user_client)
        response = user_client.get("/models/?retired=on&q=recraft-v4")
        assert [m.slug for m in response.context["models"]] == [
            "recraft/recraft-v4",
            "recraft/recraft-v4-pro",
            "recraft/recraft-v4-pro-vector",
            "recraft/recraft-v4-vector",
        ]
        assert b">retired</span>" in response.content

    def test_htmx_gets_only_the_results(self, synced: Any, user_client: Client) -> None:
        headers = {"HX-Request": "true", "HX-Target": "model-results"}

        partial = user_client.get("/models/?streaming=yes", headers=headers)
        restore = user_client.get(
            "/models/?streaming=yes", headers={**headers, "HX-History-Restore-Request": "true"}
        )

        assert partial.content.lstrip().startswith(b'<section id="model-results"')
        assert b"<html" not in partial.content
        assert b"6 models" in partial.content
        assert b"<html" in restore.content


class TestModelPage:
    def test_describes_endpoints_capabilities_and_prices_in_words(
        self, synced: Any, user_client: Client
    ) -> None:
        response = user_client.get("/models/bytedance-seed/seedream-4.5/")

        assert response.status_code == 200
        html = response.content.decode()
        assert "$0.04 per image, $0.06 at 4K" in html
        assert "Resolution: one of 1K, 2K, 4K" in html
        assert "Seed: supported" in html
        assert "Input references: up to 10" in html
        assert "Number of images: 1 to 10" in html
        assert "<code>watermark</code>" in html
        assert "$0.00 per token of input" in html  # a pure image model on /models

    def test_megapixel_tokens_and_additions_in_words(
        self, synced: Any, user_client: Client
    ) -> None:
        flux = user_client.get("/models/black-forest-labs/flux.2-pro/").content.decode()
        gemini = user_client.get("/models/google/gemini-2.5-flash-image/").content.decode()
        riverflow = user_client.get("/models/sourceful/riverflow-v2-fast/").content.decode()

        assert "$0.03 per megapixel" in flux
        assert "+$0.015 per megapixel of reference image" in flux
        assert "$0.04 per image" in flux  # the Together endpoint
        assert "Provider options: <code>steps</code>" in flux
        assert "$0.00003 per token of output image" in gemini
        assert "$0.0000003 per token of input text" in gemini
        assert "$0.00003 per token of image output" in gemini  # /models image_output
        assert "+$0.03 per font input" in riverflow
        assert "+$0.20 per reference image" in riverflow
        assert "$0.02 per image, $0.04 at 2K" in riverflow

    def test_shows_the_price_history(self, synced: Any, user_client: Client) -> None:
        from catalog.sync import sync_catalog

        synced.patch_catalog(
            {"set_price": [{"model": "bytedance-seed/seedream-4.5", "cost_usd": 0.05}]}
        )
        sync_catalog("command")

        response = user_client.get("/models/bytedance-seed/seedream-4.5/")

        history = response.context["history"]
        output = [p for p in history if p.billable == "output_image" and not p.variant]
        assert [str(p.cost_usd.normalize()) for p in output] == ["0.05", "0.04"]
        assert output[1].valid_until == output[0].valid_from
        assert "$0.05 per image" in response.content.decode()

    def test_unknown_model_is_a_404(self, user_client: Client, db: None) -> None:
        assert user_client.get("/models/nobody/nothing/").status_code == 404


class TestSyncNow:
    def test_only_staff_may_sync(self, user_client: Client) -> None:
        response = user_client.post("/models/sync/")

        assert response.status_code == 403
        assert not SyncRun.objects.exists()

    def test_get_is_not_allowed(self, staff_client: Client) -> None:
        assert staff_client.get("/models/sync/").status_code == 405

    def test_a_running_sync_is_not_started_twice(self, staff_client: Client) -> None:
        SyncRun.objects.create(started_at=timezone.now(), trigger="nightly")

        response = staff_client.post("/models/sync/", follow=True)

        assert b"already running" in response.content
        assert b"Syncing" in response.content

    def test_the_task_is_sent_only_after_commit(
        self, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from django.db import transaction

        from catalog import sync

        # Only the send is replaced: a message left in Redis would be run later by the
        # suite's worker against another test's data. The real path is tested below.
        sent: list[dict[str, str]] = []
        monkeypatch.setattr("catalog.tasks.sync_catalog.delay", lambda **kw: sent.append(kw))
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            sync.request_sync("button")
            assert sent == []

        assert len(callbacks) == 1
        assert sent == [{"trigger": "button"}]


@pytest.mark.django_db(transaction=True)
def test_sync_now_runs_the_sync_on_a_real_worker(
    celery_worker: Any, emulator: Any, staff_client: Client
) -> None:
    response = staff_client.post("/models/sync/", follow=True)

    assert b"Catalog sync started" in response.content
    deadline = time.monotonic() + 30
    run = None
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(trigger="button").exclude(status=SyncStatus.RUNNING).first()
        if run:
            break
        time.sleep(0.2)
    assert run is not None, "the worker did not finish the sync"
    assert run.status == SyncStatus.SUCCEEDED
    assert run.added == ImageModel.objects.count() > 0
    page = staff_client.get("/models/")
    assert b"Sync now button" in page.content or b"sync now button" in page.content
    assert f"{run.added} added".encode() in page.content
