"""Favourites and boards moved to ``gallery``, budgets to ``costs``: a database filled
by the old layout keeps every row, key and relation when it migrates forward.

The database is taken back to the migrations before the move, filled through the
historical models (the old layout as it was), then migrated to the latest state
and read through today's models. Runs on whichever database the suite uses
(PostgreSQL by default, SQLite with DARKROOM_TEST_DATABASE=sqlite).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from costs.models import Budget
from gallery.models import Board, BoardItem, Favourite
from generation.models import Image, Job

BEFORE_MOVE = [
    ("generation", "0003_job_heartbeat_and_settlement"),
    ("gallery", None),
    ("costs", None),
]
MOVED = {"board": "gallery", "boarditem": "gallery", "favourite": "gallery", "budget": "costs"}

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate the test database to ``targets``; return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    # Apps the targets leave alone stay at their latest migration.
    named = {app for app, _ in targets}
    reached = [target for target in targets if target[1] is not None]
    reached += [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] not in named]
    return executor.loader.project_state(reached).apps


def _latest() -> list[tuple[str, str | None]]:
    executor = MigrationExecutor(connection)
    return list(executor.loader.graph.leaf_nodes())


@pytest.fixture
def old_layout() -> Iterator[Any]:
    """The database as the pre-move code left it; migrated back to the latest state after."""
    try:
        yield _migrate(BEFORE_MOVE)
    finally:
        _migrate(_latest())
        ContentType.objects.clear_cache()


def _fill(apps: Any) -> dict[str, Any]:
    user_model = apps.get_model("auth", "User")
    image_model = apps.get_model("catalog", "ImageModel")
    job_model = apps.get_model("generation", "Job")
    image_row = apps.get_model("generation", "Image")
    board_model = apps.get_model("generation", "Board")
    item_model = apps.get_model("generation", "BoardItem")
    favourite_model = apps.get_model("generation", "Favourite")
    budget_model = apps.get_model("generation", "Budget")
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")

    now = timezone.now()
    alice = user_model.objects.create(username="alice")
    bob = user_model.objects.create(username="bob")
    model = image_model.objects.create(
        slug="openai/gpt-image-1", name="gpt-image-1", first_seen=now, last_seen=now
    )
    job = job_model.objects.create(
        author=alice,
        model=model,
        model_slug=model.slug,
        style="images",
        prompt="a blue door at noon",
        status="succeeded",
        estimated_cost=Decimal("0.05"),
        actual_cost=Decimal("0.04123456"),
    )
    images = [
        image_row.objects.create(
            job=job,
            index=index,
            original_key=f"originals/{index}.png",
            thumbnail_key=f"thumbnails/{index}.webp",
            media_type="image/png",
            width=1024,
            height=1024,
            bytes=1000 + index,
            sha256=f"{index:064x}",
        )
        for index in range(3)
    ]
    doors = board_model.objects.create(name="Doors", description="Blue ones", created_by=alice)
    empty = board_model.objects.create(name="Empty", created_by=bob)
    item_model.objects.create(board=doors, image=images[0], added_by=alice)
    item_model.objects.create(board=doors, image=images[2], added_by=bob)
    favourite_model.objects.create(user=alice, image=images[0])
    favourite_model.objects.create(user=bob, image=images[0])
    favourite_model.objects.create(user=bob, image=images[1])
    budget_model.objects.create(user=None, is_team=True, monthly_usd=Decimal("250.00"))
    budget_model.objects.create(user=alice, monthly_usd=Decimal("15.50"))

    # Content types and a granted permission as the old layout had them.
    grants = {}
    for name in MOVED:
        ct, _ = content_type.objects.get_or_create(app_label="generation", model=name)
        perm, _ = permission.objects.get_or_create(
            content_type=ct, codename=f"change_{name}", defaults={"name": f"Can change {name}"}
        )
        grants[name] = (ct.pk, perm.pk)
    user_through = user_model.user_permissions.through
    for _ct_pk, perm_pk in grants.values():
        user_through.objects.get_or_create(user_id=bob.pk, permission_id=perm_pk)
    return {
        "alice": alice.pk,
        "bob": bob.pk,
        "job": job.pk,
        "images": [image.pk for image in images],
        "doors": doors.pk,
        "empty": empty.pk,
        "grants": grants,
    }


def test_rows_and_relations_survive_the_move(old_layout: Any) -> None:
    ids = _fill(old_layout)
    _migrate(_latest())
    ContentType.objects.clear_cache()

    alice, bob = User.objects.get(pk=ids["alice"]), User.objects.get(pk=ids["bob"])
    job = Job.objects.get(pk=ids["job"])
    assert job.actual_cost == Decimal("0.04123456")
    images = [Image.objects.get(pk=pk) for pk in ids["images"]]
    assert [image.job_id for image in images] == [job.pk] * 3

    doors = Board.objects.get(pk=ids["doors"])
    assert (doors.name, doors.description, doors.created_by) == ("Doors", "Blue ones", alice)
    assert Board.objects.get(pk=ids["empty"]).created_by == bob
    assert set(doors.images.values_list("pk", flat=True)) == {images[0].pk, images[2].pk}
    assert {(item.image_id, item.added_by_id) for item in BoardItem.objects.all()} == {
        (images[0].pk, alice.pk),
        (images[2].pk, bob.pk),
    }
    assert set(images[0].boards.values_list("name", flat=True)) == {"Doors"}

    assert {(f.user_id, f.image_id) for f in Favourite.objects.all()} == {
        (alice.pk, images[0].pk),
        (bob.pk, images[0].pk),
        (bob.pk, images[1].pk),
    }
    assert images[0].favourites.count() == 2

    team = Budget.objects.get(is_team=True)
    assert (team.user, team.monthly_usd) == (None, Decimal("250.00"))
    assert Budget.objects.get(user=alice).monthly_usd == Decimal("15.50")
    assert alice.budget.monthly_usd == Decimal("15.50")

    # The tables carry the new apps' names, and the moved content types keep their
    # ids, so the permission granted before the move is still granted.
    tables = set(connection.introspection.table_names())
    assert {"gallery_board", "gallery_boarditem", "gallery_favourite", "costs_budget"} <= tables
    assert not tables & {
        "generation_board",
        "generation_boarditem",
        "generation_favourite",
        "generation_budget",
    }
    for name, app in MOVED.items():
        ct_pk, perm_pk = ids["grants"][name]
        ct = ContentType.objects.get(pk=ct_pk)
        assert (ct.app_label, ct.model) == (app, name)
        assert not ContentType.objects.filter(app_label="generation", model=name).exists()
        assert Permission.objects.get(pk=perm_pk).content_type_id == ct_pk
        assert bob.has_perm(f"{app}.change_{name}")


def test_new_rows_after_the_move_get_fresh_keys(old_layout: Any) -> None:
    ids = _fill(old_layout)
    _migrate(_latest())

    alice = User.objects.get(pk=ids["alice"])
    board = Board.objects.create(name="Windows", created_by=alice)
    assert board.pk not in (ids["doors"], ids["empty"])
    image = Image.objects.get(pk=ids["images"][1])
    BoardItem.objects.create(board=board, image=image, added_by=alice)
    assert list(board.images.all()) == [image]
    assert Favourite.objects.create(user=alice, image=image).pk > 0
