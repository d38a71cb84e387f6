"""A board's chosen cover image (empty: the newest image added is the cover)."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0002_rename_tables"),
        ("generation", "0004_move_gallery_and_budgets"),
    ]

    operations = [
        migrations.AddField(
            model_name="board",
            name="cover",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="generation.image",
            ),
        ),
    ]
