"""Scenario "gallery": how long a gallery page takes to build with 1,000,000 images.

Starts the services from ``tests.services`` (PostgreSQL is the one that
matters here), migrates a fresh database with production settings
(``DJANGO_DEBUG=0``), seeds ``--images`` images (default 1,000,000) with
``tests.gallery.seed`` (INSERT … SELECT generate_series), then builds pages
through Django's test Client in this process, ``--requests`` times each
(default 30, after one warm-up), and prints p50/p95 build time and the number
of queries for: page 1, a deep page, a filtered page, a search, a deep search
with filters, a board, and the prompt history, each p95 against the goal of
50 ms, and whether each kind of page needs the same queries deep or not.
Each request opens its own database connection, as the production settings
do (``conn_max_age=0``).

What it does not measure: the network, uvicorn and the browser fetching the
thumbnails (each a separate authenticated request to /media/).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Any

from tests import services as test_services

ROUNDING = 1
GOAL_P95_MS = 50.0


@dataclass(frozen=True)
class Result:
    name: str
    queries: int
    items: int
    p50_ms: float
    p95_ms: float


def run(args: argparse.Namespace) -> int:
    services = test_services.start_all()
    try:
        from bench.stack import app_env

        database_url = services.env["DATABASE_URL"]
        _create_database(database_url)
        # Nothing is generated: the emulator's address is never called.
        os.environ.update(app_env(services, "http://127.0.0.1:9/unused"))
        print(f"Seeding {args.images:,} images…", flush=True)
        results, seeded_in = _measure(args.images, args.requests)
    finally:
        services.stop()
    print(f"Seeded {args.images:,} images in {seeded_in:.1f} s; {args.requests} requests each.")
    print(f"{'page':<34} {'queries':>7} {'items':>6} {'p50 ms':>8} {'p95 ms':>8}  goal p95")
    for result in results:
        verdict = "met" if result.p95_ms <= GOAL_P95_MS else "not met"
        print(
            f"{result.name:<34} {result.queries:>7} {result.items:>6} "
            f"{result.p50_ms:>8.{ROUNDING}f} {result.p95_ms:>8.{ROUNDING}f}  "
            f"≤ {GOAL_P95_MS:.0f} ms: {verdict}"
        )
    # Constant: every page of one kind needs the same queries, deep or not.
    families: dict[str, set[int]] = {}
    for result in results:
        families.setdefault(result.name.split(",")[0], set()).add(result.queries)
    constant = all(len(found) == 1 for found in families.values())
    slowest = max(result.p95_ms for result in results)
    print(
        f"Slowest p95 {slowest:.{ROUNDING}f} ms (goal ≤ {GOAL_P95_MS:.0f} ms: "
        f"{'met' if slowest <= GOAL_P95_MS else 'not met'}); queries per kind of page "
        + ", ".join(f"{name} {sorted(found)}" for name, found in families.items())
        + f" ({'constant' if constant else 'NOT constant'})"
    )
    return 0


def _create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def _measure(images: int, requests: int) -> tuple[list[Result], float]:
    import django

    # WhiteNoise notes that collectstatic has not run: irrelevant to page building.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from gallery import selectors
    from gallery.selectors import Cursor, Filters
    from generation.models import Job
    from tests.gallery.seed import seed_gallery

    call_command("migrate", verbosity=0)
    alice = User.objects.create_user("alice", password=None)
    bob = User.objects.create_user("bob", password=None)
    started = time.perf_counter()
    seeded = seed_gallery(alice, bob, images=images)
    seeded_in = time.perf_counter() - started

    def deep(queryset: object, position: int) -> str:
        rows = queryset.order_by("-created_at", "-pk").values("created_at", "pk")  # type: ignore[attr-defined]
        count = rows.count()
        row = rows[min(position, max(0, count - 1))]
        return Cursor(row["created_at"], row["pk"]).encode()

    everything = selectors.gallery_images(alice, Filters())
    searched = selectors.gallery_images(alice, Filters(q="fox", author_id=bob.pk, style="images"))
    on_board = selectors.gallery_images(alice, Filters(board_id=seeded.board.pk))
    jobs = Job.objects.all()
    pages = {
        "gallery, page 1": "/gallery/",
        "gallery, 90% deep": f"/gallery/?after={deep(everything, images * 9 // 10)}",
        "gallery, 5 filters": "/gallery/?author=bob&model=openai%2Fgpt-image-1"
        "&provider=OpenAI&style=images&media_type=image%2Fpng",
        "gallery, search": "/gallery/?q=lighthouse",
        "gallery, search + filters, deep": "/gallery/?q=fox&author=bob&style=images"
        f"&after={deep(searched, images // 50)}",
        "gallery, my favourites": "/gallery/?favourites=1",
        "board, deep": f"/gallery/boards/{seeded.board.pk}/?after={deep(on_board, images // 20)}",
        "history, page 1": "/history/",
        "history, search, deep": f"/history/?q=lighthouse&after={deep(jobs, images * 3 // 20)}",
    }
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(alice)
    results = []
    # Production serves static files from collectstatic's manifest, which a
    # fresh checkout does not have; plain storage renders the same pages.
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**_storages(), "staticfiles": static}):
        for name, url in pages.items():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            query_count = len(queries)  # now: the next request clears the connection's log
            assert response.status_code == 200, f"{name}: {response.status_code}"
            items = response.text.count('data-testid="gallery-tile"') or response.text.count(
                'data-testid="prompt-group"'
            )
            timings = []
            for _ in range(requests):
                began = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            results.append(Result(name, query_count, items, statistics.median(timings), p95))
    return results, seeded_in


def _storages() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.STORAGES)
