"""The sync against the emulator over HTTP, and against payload shapes at the HTTP edge."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Endpoint, ImageModel, Price, PriceSource, SyncRun, SyncStatus
from catalog.sync import SyncAlreadyRunning, sync_catalog
from emulator import catalog_data
from tests.catalog.conftest import (
    FakeOpenRouter,
    endpoint,
    fake_client,
    image_model,
    models_entry,
)

pytestmark = pytest.mark.django_db

EMULATED_MODELS = {model["id"] for model in catalog_data.IMAGE_MODELS}


def run_command(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("sync_catalog", *args, stdout=out, stderr=out)
    return out.getvalue()


class TestAgainstTheEmulator:
    def test_the_command_fills_the_catalog(self, emulator: Any) -> None:
        output = run_command()

        assert f"Catalog sync succeeded: {len(EMULATED_MODELS)} added, 0 changed" in output
        assert set(ImageModel.objects.values_list("slug", flat=True)) == EMULATED_MODELS
        flux = ImageModel.objects.get(slug="black-forest-labs/flux.2-pro")
        assert flux.image_api
        assert flux.context_length == 46864
        assert flux.input_modalities == ["image", "text"]
        assert flux.supported_parameters["resolution"] == {
            "type": "enum",
            "values": ["512", "1K", "2K"],
        }
        assert flux.created_upstream is not None
        assert set(flux.endpoints.values_list("provider_slug", flat=True)) == {
            "black-forest-labs",
            "together",
        }
        bfl = flux.endpoints.get(provider_slug="black-forest-labs")
        assert bfl.allowed_passthrough_parameters == [
            "steps",
            "guidance",
            "safety_tolerance",
            "prompt_upsampling",
        ]
        assert {(p.billable, p.unit, p.cost_usd) for p in bfl.current_prices()} == {
            ("output_image", "megapixel", Decimal("0.03")),
            ("input_reference", "megapixel", Decimal("0.015")),
        }
        # Cheapest endpoint for one 1K square: 1.048576 MP x $0.03 beats Together's $0.04.
        assert flux.headline_price == Decimal("0.03145728")
        gemini = ImageModel.objects.get(slug="google/gemini-2.5-flash-image")
        assert {
            (p.billable, p.unit, p.cost_usd)
            for p in gemini.prices.filter(source=PriceSource.MODELS)
        } >= {("image_output", "token", Decimal("0.00003")), ("image", "image", Decimal("3E-7"))}
        assert gemini.prices.get(
            billable="output_image", endpoint__provider_slug="google-vertex"
        ).cost_usd == Decimal("0.00003")
        run = SyncRun.objects.get()
        assert (run.status, run.trigger, run.errors) == (SyncStatus.SUCCEEDED, "command", [])

    def test_a_second_run_on_unchanged_data_writes_nothing(self, synced: Any) -> None:
        before = {
            model.slug: (model.last_seen, model.headline_price)
            for model in ImageModel.objects.all()
        }
        prices = Price.objects.count()

        with CaptureQueriesContext(connection) as queries:
            run = sync_catalog("command")

        assert (run.added, run.changed, run.retired, run.status) == (0, 0, 0, "succeeded")
        writes = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        ]
        assert writes, "the run records itself"
        assert all('"catalog_syncrun"' in sql for sql in writes), writes
        assert Price.objects.count() == prices
        assert {
            model.slug: (model.last_seen, model.headline_price)
            for model in ImageModel.objects.all()
        } == before
        assert "0 added, 0 changed, 0 retired, 0 errors" in run_command()

    def test_a_changed_price_becomes_history(self, synced: Any) -> None:
        old = Price.objects.get(
            model__slug="bytedance-seed/seedream-4.5", billable="output_image", variant=""
        )
        synced.patch_catalog(
            {"set_price": [{"model": "bytedance-seed/seedream-4.5", "cost_usd": 0.045}]}
        )

        run = sync_catalog("command")

        assert (run.added, run.changed, run.retired) == (0, 1, 0)
        old.refresh_from_db()
        new = Price.objects.get(
            model__slug="bytedance-seed/seedream-4.5",
            billable="output_image",
            variant="",
            valid_until__isnull=True,
        )
        assert old.cost_usd == Decimal("0.04")
        assert old.valid_until == new.valid_from
        assert new.cost_usd == Decimal("0.045")
        # The 4K line did not change and stays open.
        assert (
            Price.objects.get(model__slug="bytedance-seed/seedream-4.5", variant="4k").valid_until
            is None
        )
        assert ImageModel.objects.get(slug="bytedance-seed/seedream-4.5").headline_price == Decimal(
            "0.045"
        )

    def test_a_removed_model_is_retired_and_comes_back(self, synced: Any, user_client: Any) -> None:
        synced.patch_catalog({"remove": ["recraft/recraft-v4"]})

        run = sync_catalog("command")

        assert (run.added, run.changed, run.retired) == (0, 0, 1)
        model = ImageModel.objects.get(slug="recraft/recraft-v4")
        assert model.is_retired
        assert model.endpoints.count() == 1  # kept, with its last prices
        assert model.last_seen == SyncRun.objects.order_by("started_at").first().started_at  # type: ignore[union-attr]
        page = user_client.get("/models/recraft/recraft-v4/")
        assert page.status_code == 200
        assert b"retired-notice" in page.content

        synced.reset()
        back = sync_catalog("command")

        assert (back.added, back.changed, back.retired) == (1, 0, 0)
        assert not ImageModel.objects.get(slug="recraft/recraft-v4").is_retired

    def test_a_removed_endpoint_is_retired_and_a_new_one_added(self, synced: Any) -> None:
        flux = synced.http.get("/__emulator__/catalog").json()["image_models"]
        pro = next(m for m in flux if m["id"] == "black-forest-labs/flux.2-pro")
        pro["endpoints"] = [pro["endpoints"][0], {**pro["endpoints"][1], "provider_slug": "fal"}]
        synced.patch_catalog({"add": [pro]})

        run = sync_catalog("command")

        assert run.changed == 1
        endpoints = {
            e.provider_slug: e.is_retired
            for e in Endpoint.objects.filter(model__slug="black-forest-labs/flux.2-pro")
        }
        assert endpoints == {"black-forest-labs": False, "together": True, "fal": False}


class TestOneSyncAtATime:
    def test_a_running_sync_blocks_another(self, make_model: Any) -> None:
        SyncRun.objects.create(started_at=timezone.now(), trigger="nightly")

        with pytest.raises(SyncAlreadyRunning):
            sync_catalog("button")

        assert SyncRun.objects.count() == 1

    def test_an_abandoned_run_is_closed_and_the_sync_proceeds(
        self, fake_openrouter: FakeOpenRouter
    ) -> None:
        stale = SyncRun.objects.create(
            started_at=timezone.now() - timedelta(hours=1), trigger="nightly"
        )
        fake_openrouter.image_models = [image_model("acme/a")]
        fake_openrouter.endpoints = {"acme/a": []}

        run = sync_catalog("command", client_factory=fake_client)

        stale.refresh_from_db()
        assert stale.status == SyncStatus.FAILED
        assert "Abandoned" in stale.errors[0]["message"]
        assert run.status == SyncStatus.SUCCEEDED


class TestPayloadShapes:
    """Real shapes of recorded OpenRouter answers, served at the HTTP edge."""

    def test_pure_image_models_exponent_prices_and_missing_optional_keys(
        self, fake_openrouter: FakeOpenRouter
    ) -> None:
        fake_openrouter.image_models = [
            image_model("acme/tokens", supports_streaming=True),
            # Only what identifies it: no name, description, created, streaming flag.
            {"id": "acme/bare", "architecture": {"output_modalities": ["image"]}},
        ]
        fake_openrouter.endpoints = {
            "acme/tokens": [
                endpoint(
                    "acme",
                    [
                        {"billable": "output_image", "unit": "token", "cost_usd": 3e-05},
                        {"billable": "input_text", "unit": "token", "cost_usd": 7.5e-08},
                    ],
                    supports_streaming=True,
                )
            ],
            # Optional keys absent: tag, passthrough list, streaming flag, variant.
            "acme/bare": [
                {
                    "provider_slug": "bare",
                    "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.05}],
                }
            ],
        }
        fake_openrouter.models = [
            models_entry("acme/tokens", {"prompt": "0.0000003", "image_output": "0.00003"}),
            models_entry(
                "acme/bare", {"prompt": "0", "completion": "0"}, context_length=None, created=0
            ),
        ]

        run = sync_catalog("command", client_factory=fake_client)

        assert (run.status, run.added) == (SyncStatus.SUCCEEDED, 2)
        tokens = Price.objects.get(model__slug="acme/tokens", billable="output_image")
        assert tokens.cost_usd == Decimal("0.00003")
        assert Price.objects.get(billable="input_text").cost_usd == Decimal("0.000000075")
        bare = ImageModel.objects.get(slug="acme/bare")
        assert (bare.name, bare.description, bare.created_upstream, bare.supports_streaming) == (
            "acme/bare",
            "",
            None,
            False,
        )
        assert bare.input_modalities == []
        bare_endpoint = bare.endpoints.get()
        assert (bare_endpoint.provider_name, bare_endpoint.provider_tag) == ("bare", "")
        assert bare_endpoint.to_spec().provider_tag is None
        # A pure image model prices at 0 on /models; its real price is on the endpoint.
        assert {
            (p.billable, p.cost_usd) for p in bare.prices.filter(source=PriceSource.MODELS)
        } == {("prompt", Decimal(0)), ("completion", Decimal(0))}
        assert bare.headline_price == Decimal("0.05")
        assert ImageModel.objects.get(slug="acme/tokens").headline_price == Decimal("0.0387")

    @pytest.mark.parametrize("page_size", [None, 1, 2])
    def test_models_list_with_or_without_paging_fields(
        self, fake_openrouter: FakeOpenRouter, page_size: int | None
    ) -> None:
        fake_openrouter.models_page_size = page_size
        fake_openrouter.image_models = [image_model(f"acme/m{i}") for i in range(3)]
        fake_openrouter.endpoints = {f"acme/m{i}": [] for i in range(3)}
        fake_openrouter.models = [
            models_entry(f"acme/m{i}", {"prompt": "0"}, context_length=1000 + i) for i in range(3)
        ] + [
            # A text model slipping through the filter is not an image model.
            models_entry(
                "acme/chatty",
                {"prompt": "0.000001"},
                architecture={"input_modalities": ["text"], "output_modalities": ["text"]},
            )
        ]

        run = sync_catalog("command", client_factory=fake_client)

        assert run.status == SyncStatus.SUCCEEDED
        assert dict(ImageModel.objects.values_list("slug", "context_length")) == {
            "acme/m0": 1000,
            "acme/m1": 1001,
            "acme/m2": 1002,
        }

    def test_a_model_only_in_models_is_kept_as_chat_only(
        self, fake_openrouter: FakeOpenRouter
    ) -> None:
        fake_openrouter.image_models = [image_model("acme/a")]
        fake_openrouter.endpoints = {"acme/a": []}
        fake_openrouter.models = [
            models_entry("acme/a", {"prompt": "0"}),
            models_entry(
                "acme/chat-draw",
                {"prompt": "0.0000005", "image_output": "0.00006"},
                architecture={"input_modalities": ["text"], "output_modalities": ["image", "text"]},
            ),
        ]

        sync_catalog("command", client_factory=fake_client)

        chat = ImageModel.objects.get(slug="acme/chat-draw")
        assert not chat.image_api
        assert chat.endpoints.count() == 0
        # 1290 tokens x $0.00006
        assert chat.headline_price == Decimal("0.0774")


class TestFailures:
    def test_one_models_endpoints_failing_is_recorded_and_the_rest_synced(
        self, fake_openrouter: FakeOpenRouter
    ) -> None:
        fake_openrouter.image_models = [image_model(f"acme/m{i}") for i in range(4)]
        good = [endpoint("acme", [{"billable": "output_image", "unit": "image", "cost_usd": 0.01}])]
        fake_openrouter.endpoints = {
            "acme/m0": good,
            "acme/m1": httpx.Response(500, json={"error": {"code": 500, "message": "boom"}}),
            "acme/m2": httpx.Response(
                200, content=b'{"endpoints": [', headers={"content-type": "application/json"}
            ),
            "acme/m3": good,
        }

        run = sync_catalog("command", client_factory=fake_client)

        assert run.status == SyncStatus.PARTIAL
        assert [error["model"] for error in run.errors] == ["acme/m1", "acme/m2"]
        assert "boom" in run.errors[0]["message"]
        assert "unreadable JSON" in run.errors[1]["message"]
        assert run.added == 4
        assert Endpoint.objects.filter(model__slug__in=["acme/m0", "acme/m3"]).count() == 2
        assert "1 error" not in run.summary()
        assert "2 errors" in run.summary()

    def test_a_failed_model_keeps_its_endpoints_and_prices(
        self, fake_openrouter: FakeOpenRouter
    ) -> None:
        fake_openrouter.image_models = [image_model("acme/a")]
        fake_openrouter.endpoints = {
            "acme/a": [
                endpoint("acme", [{"billable": "output_image", "unit": "image", "cost_usd": 0.01}])
            ]
        }
        sync_catalog("command", client_factory=fake_client)
        fake_openrouter.endpoints["acme/a"] = httpx.Response(503)

        run = sync_catalog("command", client_factory=fake_client)

        assert (run.status, run.changed) == (SyncStatus.PARTIAL, 0)
        assert not Endpoint.objects.get().is_retired
        assert Price.objects.filter(valid_until__isnull=True, source="endpoint").count() == 1

    def test_discovery_failing_fails_the_run_and_retires_nothing(
        self, fake_openrouter: FakeOpenRouter, make_model: Any
    ) -> None:
        make_model("acme/kept")
        fake_openrouter.images_response = httpx.Response(502, json={"error": {"message": "down"}})

        run = sync_catalog("command", client_factory=fake_client)

        assert run.status == SyncStatus.FAILED
        assert "Could not read /images/models" in run.errors[0]["message"]
        assert not ImageModel.objects.get(slug="acme/kept").is_retired

    def test_an_empty_listing_retires_nothing(
        self, fake_openrouter: FakeOpenRouter, make_model: Any
    ) -> None:
        make_model("acme/kept")

        run = sync_catalog("command", client_factory=fake_client)

        assert run.status == SyncStatus.FAILED
        assert not ImageModel.objects.get().is_retired

    def test_models_list_failing_is_partial_and_retires_nothing(
        self, fake_openrouter: FakeOpenRouter, make_model: Any
    ) -> None:
        make_model("acme/gone")
        fake_openrouter.image_models = [image_model("acme/a")]
        fake_openrouter.endpoints = {"acme/a": []}
        fake_openrouter.models_response = httpx.Response(500)

        run = sync_catalog("command", client_factory=fake_client)

        assert run.status == SyncStatus.PARTIAL
        assert run.errors[0]["model"] == ""
        assert "/models" in run.errors[0]["message"]
        assert not ImageModel.objects.get(slug="acme/gone").is_retired
        assert ImageModel.objects.filter(slug="acme/a").exists()

    def test_the_failure_is_printed_and_the_command_fails(
        self, fake_openrouter: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from django.core.management import CommandError

        monkeypatch.setattr("catalog.sync.client_from_settings", fake_client)
        # sync_catalog's default argument was bound at import: patch where it is used.
        monkeypatch.setattr(
            "catalog.management.commands.sync_catalog.sync_catalog",
            lambda trigger: sync_catalog(trigger, client_factory=fake_client),
        )
        fake_openrouter.images_response = httpx.Response(500)

        with pytest.raises(CommandError, match="failed"):
            run_command()
        # On first start the same failure does not stop the app.
        output = run_command("--if-empty")
        assert "Catalog sync failed" in output
        assert SyncRun.objects.filter(trigger="first-run", status="failed").exists()


def test_endpoints_are_read_concurrently_but_bounded(fake_openrouter: FakeOpenRouter) -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    ids = [f"acme/m{i}" for i in range(12)]
    fake_openrouter.image_models = [image_model(model_id) for model_id in ids]

    fake_openrouter.endpoints = {model_id: [] for model_id in ids}

    def slow(request: httpx.Request) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1

    fake_openrouter.before_endpoints = slow

    run = sync_catalog("command", client_factory=fake_client, workers=4)

    assert run.status == SyncStatus.SUCCEEDED
    assert 1 < state["peak"] <= 4


def test_if_empty_skips_a_filled_catalog(make_model: Any) -> None:
    make_model("acme/a")

    assert "not syncing" in run_command("--if-empty")
    assert not SyncRun.objects.exists()


def test_calls_past_the_time_budget_are_skipped_and_recorded(
    fake_openrouter: FakeOpenRouter,
) -> None:
    from catalog.fetching import fetch_catalog

    fake_openrouter.image_models = [image_model("acme/a"), image_model("acme/b")]
    fake_openrouter.endpoints = {"acme/a": [], "acme/b": []}

    fetched = fetch_catalog(fake_client, budget_seconds=0)

    assert fetched.endpoints == {}
    assert [error["model"] for error in fetched.errors] == ["acme/a", "acme/b"]
    assert all("ran out of time" in error["message"] for error in fetched.errors)
