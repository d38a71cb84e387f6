"""Boards keep their image counts: stored, filled here, then kept by triggers.

Counting a board's visible images took 700 ms at 1,000,000 images. Each item
now records the author of a private image (``private_author``, looked up from
the job by a trigger), each board its item count and private item count, and
triggers on the items table keep the counts on every insert, delete and move,
whatever does it (the app, the cascade when an image or job is deleted, the
admin, SQL).

SQLite rebuilds a table to alter it and the rebuild drops its triggers: a
later migration that alters ``gallery_boarditem`` on SQLite must create them
again (``create_triggers``).
"""

# Only this module's constant SQL and the models' table names are formatted in.
# ruff: noqa: S608
from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# A private image's author, looked up from its job (the truth; whatever the
# insert said). BEFORE INSERT: also run for rows an ON CONFLICT then skips,
# which is harmless; the counts change AFTER, only for rows really inserted.
_PRIVATE_AUTHOR = (
    "(SELECT j.author_id FROM generation_image i JOIN generation_job j ON j.id = i.job_id "
    "WHERE i.id = NEW.image_id AND j.is_private)"
)
POSTGRESQL_TRIGGERS = f"""
CREATE OR REPLACE FUNCTION gallery_boarditem_private_author() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.private_author_id := {_PRIVATE_AUTHOR};
    RETURN NEW;
END
$$;
CREATE TRIGGER gallery_boarditem_private_author
BEFORE INSERT ON gallery_boarditem
FOR EACH ROW EXECUTE FUNCTION gallery_boarditem_private_author();

-- Once per statement, from its transition tables, not once per row: updating
-- the same board row once per item in one transaction walks an ever longer
-- chain of row versions (adding 100,000 items took minutes).
CREATE OR REPLACE FUNCTION gallery_board_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE gallery_board b
        SET image_count = b.image_count - gone.items,
            private_count = b.private_count - gone.private
        FROM (SELECT board_id, count(*) AS items, count(private_author_id) AS private
              FROM old_items GROUP BY board_id) gone
        WHERE b.id = gone.board_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE gallery_board b
        SET image_count = b.image_count + came.items,
            private_count = b.private_count + came.private
        FROM (SELECT board_id, count(*) AS items, count(private_author_id) AS private
              FROM new_items GROUP BY board_id) came
        WHERE b.id = came.board_id;
    END IF;
    RETURN NULL;
END
$$;
-- One trigger per event: PostgreSQL allows transition tables only so.
CREATE TRIGGER gallery_boarditem_added AFTER INSERT ON gallery_boarditem
REFERENCING NEW TABLE AS new_items
FOR EACH STATEMENT EXECUTE FUNCTION gallery_board_counts();
CREATE TRIGGER gallery_boarditem_removed AFTER DELETE ON gallery_boarditem
REFERENCING OLD TABLE AS old_items
FOR EACH STATEMENT EXECUTE FUNCTION gallery_board_counts();
CREATE TRIGGER gallery_boarditem_moved AFTER UPDATE ON gallery_boarditem
REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
FOR EACH STATEMENT EXECUTE FUNCTION gallery_board_counts();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS gallery_boarditem_added ON gallery_boarditem;
DROP TRIGGER IF EXISTS gallery_boarditem_removed ON gallery_boarditem;
DROP TRIGGER IF EXISTS gallery_boarditem_moved ON gallery_boarditem;
DROP FUNCTION IF EXISTS gallery_board_counts();
DROP TRIGGER IF EXISTS gallery_boarditem_private_author ON gallery_boarditem;
DROP FUNCTION IF EXISTS gallery_boarditem_private_author();
"""
# SQLite cannot change NEW: the inserted row is updated right after instead.
_SQLITE_LESS = (
    "UPDATE gallery_board SET image_count = image_count - 1, "
    "private_count = private_count - (OLD.private_author_id IS NOT NULL) WHERE id = OLD.board_id;"
)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER gallery_boarditem_added AFTER INSERT ON gallery_boarditem BEGIN "
    f"UPDATE gallery_boarditem SET private_author_id = {_PRIVATE_AUTHOR} WHERE id = NEW.id; "
    "UPDATE gallery_board SET image_count = image_count + 1, "
    f"private_count = private_count + ({_PRIVATE_AUTHOR} IS NOT NULL) WHERE id = NEW.board_id; "
    "END",
    f"CREATE TRIGGER gallery_boarditem_removed AFTER DELETE ON gallery_boarditem "
    f"BEGIN {_SQLITE_LESS} END",
    "CREATE TRIGGER gallery_boarditem_moved AFTER UPDATE OF board_id ON gallery_boarditem "
    f"BEGIN {_SQLITE_LESS} "
    "UPDATE gallery_board SET image_count = image_count + 1, "
    "private_count = private_count + (NEW.private_author_id IS NOT NULL) WHERE id = NEW.board_id; "
    "END",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS gallery_boarditem_{name}" for name in ("added", "removed", "moved")
]


def create_triggers(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TRIGGERS)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError("board counts need triggers for this database")


def fill(apps: Any, schema_editor: Any) -> None:
    """Record the private images' authors, count every board, then let the
    triggers keep the counts."""
    item = apps.get_model("gallery", "BoardItem")._meta.db_table
    board = apps.get_model("gallery", "Board")._meta.db_table
    image = apps.get_model("generation", "Image")._meta.db_table
    job = apps.get_model("generation", "Job")._meta.db_table
    schema_editor.execute(
        f"UPDATE {item} SET private_author_id = ("
        f"SELECT j.author_id FROM {image} i JOIN {job} j ON j.id = i.job_id "
        f"WHERE i.id = {item}.image_id AND j.is_private)"
    )
    schema_editor.execute(
        f"UPDATE {board} SET "
        f"image_count = (SELECT COUNT(*) FROM {item} b WHERE b.board_id = {board}.id), "
        f"private_count = (SELECT COUNT(*) FROM {item} b WHERE b.board_id = {board}.id "
        "AND b.private_author_id IS NOT NULL)"
    )
    create_triggers(schema_editor)


def unfill(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0003_board_cover"),
        ("generation", "0004_move_gallery_and_budgets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="board",
            name="image_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="board",
            name="private_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="boarditem",
            name="private_author",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="boarditem",
            index=models.Index(
                condition=models.Q(("private_author__isnull", False)),
                fields=["board", "private_author"],
                name="boarditem_private_idx",
            ),
        ),
        migrations.RunPython(fill, unfill),
    ]
