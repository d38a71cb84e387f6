"""Indexes for the team gallery and the shared prompt history (issue 6).

The B-tree indexes are declared on the models. The two below are PostgreSQL
expression indexes, created only there: SQLite (development) has no
full-text search or md5() of its own, and an index on a function SQLite does
not know would break other tools that open the database file.
"""

from django.conf import settings
from django.db import migrations, models

# Must stay the expression generation.gallery queries with (Django compiles
# SearchVector("prompt", config="english") to exactly this), or the planner
# cannot match the index and falls back to scanning every prompt.
CREATE_FTS = (
    "CREATE INDEX IF NOT EXISTS job_prompt_fts_idx ON generation_job "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(prompt, '')))"
)
# Identical prompts are grouped by md5(prompt): prompts may be longer than a
# B-tree entry can hold, their hash never is. created_at and id follow so that
# "is there a newer run of this prompt?" is one index range probe.
CREATE_MD5 = (
    "CREATE INDEX IF NOT EXISTS job_prompt_md5_idx ON generation_job (md5(prompt), created_at, id)"
)


def create_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FTS)
        schema_editor.execute(CREATE_MD5)


def drop_postgres_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS job_prompt_fts_idx")
        schema_editor.execute("DROP INDEX IF EXISTS job_prompt_md5_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("generation", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="image",
            index=models.Index(
                fields=["media_type", "-created_at", "-id"], name="image_media_order_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["-created_at", "-id"], name="job_history_order_idx"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["provider"], name="job_provider_idx"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["style"], name="job_style_idx"),
        ),
        migrations.RunPython(create_postgres_indexes, drop_postgres_indexes, elidable=False),
    ]
