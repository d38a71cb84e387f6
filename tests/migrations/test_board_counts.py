"""Migrating to stored board counts fills them (and the private items' authors)
from the rows already there, and the triggers keep them from then on."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from gallery.models import Board, BoardItem
from generation.models import Image

BEFORE_COUNTS = [("gallery", "0002_rename_tables")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    # Apps the targets leave alone stay at their latest migration.
    named = {app for app, _ in targets}
    reached = targets + [
        leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] not in named
    ]
    return executor.loader.project_state(reached).apps


@pytest.fixture
def before_counts() -> Iterator[Any]:
    try:
        yield _migrate(BEFORE_COUNTS)
    finally:
        _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))


def test_counts_are_filled_from_existing_items_and_kept_after(before_counts: Any) -> None:
    apps = before_counts
    users = apps.get_model("auth", "User")
    alice, bob = users.objects.create(username="alice"), users.objects.create(username="bob")
    now = timezone.now()
    model = apps.get_model("catalog", "ImageModel").objects.create(
        slug="openai/gpt-image-1", name="gpt-image-1", first_seen=now, last_seen=now
    )

    def image(author: Any, private: bool, index: int) -> Any:
        job = apps.get_model("generation", "Job").objects.create(
            author=author,
            model=model,
            model_slug=model.slug,
            style="images",
            prompt=f"door {index}",
            status="succeeded",
            is_private=private,
            estimated_cost=Decimal("0.05"),
        )
        return apps.get_model("generation", "Image").objects.create(
            job=job,
            index=0,
            original_key=f"originals/{index}.png",
            thumbnail_key=f"thumbnails/{index}.webp",
            media_type="image/png",
            width=1024,
            height=1024,
            bytes=1000,
            sha256=f"{index:064x}",
        )

    images = [image(alice, False, 0), image(alice, False, 1), image(bob, True, 2)]
    boards = apps.get_model("gallery", "Board")
    items = apps.get_model("gallery", "BoardItem")
    doors = boards.objects.create(name="Doors", created_by=alice)
    empty = boards.objects.create(name="Empty", created_by=bob)
    for picture in images:
        items.objects.create(board=doors, image=picture, added_by=alice)

    _migrate(list(MigrationExecutor(connection).loader.graph.leaf_nodes()))

    doors_now, empty_now = Board.objects.get(pk=doors.pk), Board.objects.get(pk=empty.pk)
    assert (doors_now.image_count, doors_now.private_count) == (3, 1)
    assert (empty_now.image_count, empty_now.private_count) == (0, 0)
    assert BoardItem.objects.get(image_id=images[2].pk).private_author_id == bob.pk
    assert BoardItem.objects.filter(private_author__isnull=True).count() == 2
    BoardItem.objects.create(
        board=empty_now,
        image=Image.objects.get(pk=images[0].pk),
        added_by=User.objects.get(pk=bob.pk),
    )
    empty_now.refresh_from_db()
    assert empty_now.image_count == 1
