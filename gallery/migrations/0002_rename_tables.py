"""Favourites and boards: the tables take this app's names.

The rows stay where they are: PostgreSQL and SQLite rename a table in place,
keys, indexes and constraints with it. The content types follow the models
to this app, so permissions granted on them (and admin history) stay attached.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

MODELS = ["board", "boarditem", "favourite"]


def _move_content_types(apps: Any, schema_editor: Any, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = content_type.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = content_type.objects.using(db).filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
        else:
            # Both exist only if something created the new one early; the old one
            # carries the granted permissions, so it wins.
            new.delete()
            old.app_label = target
            old.save(update_fields=["app_label"])
    content_type.objects.clear_cache()


def forwards(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, schema_editor, "generation", "gallery")


def backwards(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, schema_editor, "gallery", "generation")


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0001_initial"),
        ("generation", "0004_move_gallery_and_budgets"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="board", table=None),
        migrations.AlterModelTable(name="boarditem", table=None),
        migrations.AlterModelTable(name="favourite", table=None),
        migrations.RunPython(forwards, backwards),
    ]
