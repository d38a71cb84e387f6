"""A large gallery in a few statements, for the scale test and ``python -m bench
--scenario gallery``: jobs and images by INSERT … SELECT generate_series on
PostgreSQL (seconds, where the ORM would take minutes).

The images' storage keys point at nothing: listings never read the files.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from catalog.models import ImageModel
from gallery.models import Board
from generation.models import Job

MODELS = ["openai/gpt-image-1", "google/gemini-2.5-flash-image", "black-forest-labs/flux.2-pro"]
PROVIDERS = ["OpenAI", "Google", "Black Forest Labs"]


@dataclass(frozen=True)
class Seeded:
    images: int
    board: Board


def seed_gallery(alice: User, bob: User, *, images: int = 100_000) -> Seeded:
    """``images`` images, two per job, one job a minute into the past.

    Every third job is bob's (the rest alice's), models and providers rotate,
    one job in ten uses Chat Completions, one in fifty is private, one image in
    twenty is SVG. Prompts are five subjects by four settings by a number, each
    run two or three times. Alice favourites about one image in seven; a
    board ("Every tenth") holds about one in ten.
    """
    if connection.vendor != "postgresql":
        raise RuntimeError("seeding uses PostgreSQL's generate_series")
    jobs = max(1, int(images) // 2)
    now = timezone.now()
    model_ids = [
        ImageModel.objects.get_or_create(
            slug=slug, defaults={"name": slug.split("/")[-1], "first_seen": now, "last_seen": now}
        )[0].pk
        for slug in MODELS
    ]
    distinct_prompts = max(1, jobs * 2 // 5)
    values = {
        "id": "md5('job' || g)::uuid",
        "author_id": f"CASE WHEN g % 3 = 0 THEN {int(bob.pk)} ELSE {int(alice.pk)} END",
        "model_id": f"(ARRAY{model_ids})[1 + g % 3]",
        "model_slug": f"(ARRAY{MODELS})[1 + g % 3]",
        "style": "CASE WHEN g % 10 = 0 THEN 'chat' ELSE 'images' END",
        "prompt": (
            "(ARRAY['a red fox', 'a grey wolf', 'a lighthouse', 'a paper boat', 'a city'])"
            "[1 + g % 5] || ' ' || (ARRAY['at dawn', 'in the rain', 'at night', 'in snow'])"
            f"[1 + (g / 5) % 4] || ' no. ' || (g % {distinct_prompts})"
        ),
        "params": "'{}'::jsonb",
        "n": "2",
        "references": "'[]'::jsonb",
        "is_private": "g % 50 = 0",
        "status": "'succeeded'",
        "stage": "'Done'",
        "progress": "100",
        "previews": "0",
        "error_code": "''",
        "error_message": "''",
        "upstream_id": "''",
        "provider": f"(ARRAY{PROVIDERS})[1 + g % 3]",
        "estimated_cost": "0.05",
        "actual_cost": "0.04",
        "reserved_cost": "0",
        "usage": "'{}'::jsonb",
        "text": "''",
        "attempts": "1",
        "transient_failures": "0",
        "created_at": "now() - g * interval '1 minute'",
        "upstream_seconds": "3.5",
        "finished_at": "now() - g * interval '1 minute' + interval '5 seconds'",
    }
    columns = []
    for field in Job._meta.concrete_fields:
        if field.column in values:
            columns.append(field.column)
        elif not field.null:  # a new required column must be seeded here too
            raise RuntimeError(f"seed_gallery does not fill generation_job.{field.column}")
    board = Board.objects.create(name="Every tenth", created_by=alice)
    quoted = ", ".join(f'"{column}"' for column in columns)
    # Only our own column names and integers are formatted into these statements.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO generation_job ({quoted}) "  # noqa: S608
            f"SELECT {', '.join(values[c] for c in columns)} FROM generate_series(1, {jobs}) AS g"
        )
        cursor.execute(
            'INSERT INTO generation_image (id, job_id, "index", original_key, thumbnail_key, '  # noqa: S608
            "media_type, width, height, bytes, sha256, created_at) "
            "SELECT md5('image' || g || '.' || i)::uuid, md5('job' || g)::uuid, i, "
            "'images/00/seed.png', 'thumbs/00/seed.webp', "
            "CASE WHEN g % 20 = 0 THEN 'image/svg+xml' ELSE 'image/png' END, "
            "1024, 1024, 100000, md5(g || '.' || i) || md5(i || '.' || g), "
            "now() - g * interval '1 minute' + i * interval '1 second' "
            f"FROM generate_series(1, {jobs}) AS g, generate_series(0, 1) AS i"
        )
        # Pseudo-random but deterministic subsets, from the images' fake hashes.
        cursor.execute(
            "INSERT INTO gallery_favourite (user_id, image_id, created_at) "  # noqa: S608
            f"SELECT {int(alice.pk)}, id, now() FROM generation_image "
            "WHERE original_key = 'images/00/seed.png' "
            "AND (('x' || substr(sha256, 1, 4))::bit(16)::int) % 7 = 0"
        )
        cursor.execute(
            "INSERT INTO gallery_boarditem (board_id, image_id, added_by_id, added_at) "  # noqa: S608
            f"SELECT {int(board.pk)}, id, {int(alice.pk)}, now() FROM generation_image "
            "WHERE original_key = 'images/00/seed.png' "
            "AND (('x' || substr(sha256, 1, 4))::bit(16)::int) % 10 = 0"
        )
        cursor.execute("ANALYZE")
    board.refresh_from_db()  # its counts, kept by the database
    return Seeded(jobs * 2, board)
