"""The per-process catalog copy: reused while the catalog is unchanged, rebuilt
after any change, in this process and (through the shared version) in others."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import snapshot
from catalog.models import ImageModel

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unchanged_catalog_is_read_once(make_model: Any) -> None:
    make_model("acme/painter")
    first = snapshot.current()

    with CaptureQueriesContext(connection) as queries:
        again = snapshot.current()

    assert again is first
    assert len(queries) == 0
    assert list(first.by_slug) == ["acme/painter"]


def test_a_saved_model_is_seen_at_once(make_model: Any) -> None:
    painter = make_model("acme/painter")
    snapshot.current()

    painter.retired_at = timezone.now()
    painter.save()

    assert "acme/painter" not in snapshot.current().by_slug


def test_another_process_changing_the_catalog_is_seen(make_model: Any) -> None:
    make_model("acme/painter")
    before = snapshot.current()
    # What another process's change leaves behind: a bulk write (no signal here)
    # and a new shared version.
    ImageModel.objects.filter(slug="acme/painter").update(name="Renamed elsewhere")
    assert snapshot.current().by_slug["acme/painter"].name != "Renamed elsewhere"

    cache.set(snapshot.VERSION_KEY, "changed-by-another-process", timeout=None)

    after = snapshot.current()
    assert after is not before
    assert after.by_slug["acme/painter"].name == "Renamed elsewhere"


def test_a_sync_run_renews_every_process_copy(emulator: Any) -> None:
    call_command("sync_catalog", stdout=io.StringIO())
    version = snapshot.current().version
    ImageModel.objects.update(name="Stale")  # bulk, as a sync writes

    call_command("sync_catalog", stdout=io.StringIO())

    renewed = snapshot.current()
    assert renewed.version != version
    assert all(model.name != "Stale" for model in renewed.models)


def test_inside_a_transaction_nothing_is_kept(make_model: Any) -> None:
    from django.db import transaction

    make_model("acme/painter")
    with transaction.atomic():
        make_model("acme/uncommitted")
        assert "acme/uncommitted" in snapshot.current().by_slug
        transaction.set_rollback(True)

    assert "acme/uncommitted" not in snapshot.current().by_slug
