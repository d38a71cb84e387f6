"""With 100,000 images, a gallery page (and a history page) is built with the same
number of queries whether it is the first page or one deep in the listing,
filtered or searched, and no query reads the whole table."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gallery import history, paging, selectors
from gallery.paging import Cursor
from generation.models import Image, Job
from tests.gallery.seed import seed_gallery

pytestmark = pytest.mark.django_db


def deep_cursor(images: Any, position: int) -> str:
    row = images.order_by("-created_at", "-pk").values("created_at", "pk")[position]
    return Cursor(row["created_at"], row["pk"]).encode()


def measure(client: Client, url: str) -> tuple[int, int, list[dict[str, Any]], float]:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    tiles = response.text.count('data-testid="gallery-tile"') or response.text.count(
        'data-testid="prompt-group"'
    )
    return len(queries), tiles, queries.captured_queries, elapsed


def full_scans(captured: list[dict[str, Any]], tables: str = "generation_(image|job)") -> list[str]:
    """The plans of the captured queries that read a whole table of ``tables``
    (a pattern; by default images and jobs)."""
    found = []
    with connection.cursor() as cursor:
        for query in captured:
            if not query["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN {query['sql']}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if re.search(rf"Seq Scan on {tables}\b", plan):
                found.append(f"{query['sql'][:300]}\n{plan}")
    return found


def test_query_count_is_constant_from_the_first_page_to_deep_ones_at_100k(
    user: User, bob: User, user_client: Client
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("seeds with PostgreSQL's generate_series")
    started = time.perf_counter()
    board = seed_gallery(user, bob, images=100_000).board
    seeded = time.perf_counter() - started
    assert Image.objects.count() == 100_000
    visible = selectors.gallery_images(user, paging.Filters())
    bob_fox = selectors.gallery_images(
        user, paging.Filters(author_id=bob.pk, q="fox", style="images")
    )
    on_board = selectors.gallery_images(user, paging.Filters(board_id=board.pk))

    listings = {
        "page 1": "/gallery/",
        "deep page": f"/gallery/?after={deep_cursor(visible, 90_000)}",
        "filtered": "/gallery/?author=bob&model=openai%2Fgpt-image-1&provider=OpenAI"
        "&style=images&media_type=image%2Fpng&date_from=2000-01-01",
        "search": "/gallery/?q=fox",
        "search and filters, deep": "/gallery/?q=fox&author=bob&style=images"
        f"&after={deep_cursor(bob_fox, 2_000)}",
        "favourites": "/gallery/?favourites=1",
    }
    counts = {}
    for name, url in listings.items():
        count, tiles, captured, elapsed = measure(user_client, url)
        print(f"{name}: {count} queries, {tiles} tiles, {elapsed * 1000:.0f} ms")
        assert tiles == selectors.GALLERY_PAGE_SIZE, name
        assert full_scans(captured) == [], name
        if name != "favourites":
            # The viewer's favourites are checked for the page's images only,
            # never by reading all of them (the favourites listing does).
            assert full_scans(captured, "gallery_favourite") == [], name
        counts[name] = count
    assert len(set(counts.values())) == 1, counts
    assert counts["page 1"] <= 8  # session, user, 4 filter menus, the page

    board_first, _, _, _ = measure(user_client, f"/gallery/boards/{board.pk}/")
    board_deep, tiles, captured, _ = measure(
        user_client, f"/gallery/boards/{board.pk}/?after={deep_cursor(on_board, 5_000)}"
    )
    # The board, and (it holds private images) the viewer's own private items on it.
    assert board_first == board_deep == counts["page 1"] + 2
    assert tiles == selectors.GALLERY_PAGE_SIZE
    # The count is stored: nothing reads the board's items, images or jobs whole.
    assert full_scans(captured, "(generation_(image|job)|gallery_(boarditem|favourite))") == []

    history_first, groups, captured, elapsed = measure(user_client, "/history/")
    print(f"history page 1: {history_first} queries, {elapsed * 1000:.0f} ms")
    assert groups == history.HISTORY_PAGE_SIZE
    assert full_scans(captured) == []
    # Each prompt is run two or three times; the newest runs of all prompts are
    # the newest 20,000 jobs, so 15,000 jobs down is deep in the groups.
    deep_job = Job.objects.order_by("-created_at", "-pk").values("created_at", "pk")[15_000]
    history_deep, groups, _, _ = measure(
        user_client,
        f"/history/?q=lighthouse&after={Cursor(deep_job['created_at'], deep_job['pk']).encode()}",
    )
    assert groups == history.HISTORY_PAGE_SIZE
    assert history_deep == history_first

    print(f"seeded 100,000 images in {seeded:.1f} s")
