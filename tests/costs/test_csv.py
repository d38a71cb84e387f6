"""The CSV ledger: a job row per job, an image row per image, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient, Client
from django.utils import timezone

from costs import ledger, ranges, selectors
from gallery.models import Board, BoardItem
from generation.models import Status, Style
from tests.concurrency import run_async
from tests.costs.conftest import make_job

pytestmark = pytest.mark.django_db


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_rows_match_the_jobs_and_their_images(staff_client: Client, make_user: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    pictured = make_job(
        alice,
        prompt="two pears",
        actual="0.08",
        estimated="0.07",
        images=2,
        provider="OpenAI",
        upstream_id="",
    )
    refused = make_job(
        bob,
        slug="google/gemini-2.5-flash-image",
        style=Style.CHAT,
        status=Status.FAILED,
        error_code="refused",
        actual="0.002",
        confirmed="0.003",
        cost_confirmed_at=timezone.now(),
        prompt="a refusal",
        provider="Google",
        upstream_id="gen-77",
    )
    running = make_job(
        bob,
        status=Status.RUNNING,
        actual=None,
        reserved="0.04",
        estimated="0.04",
        prompt="still going",
    )
    make_job(alice, prompt="last year", created_at=timezone.now() - timedelta(days=400))
    first, second = pictured.images.order_by("index")
    covers = Board.objects.create(name="Covers", created_by=alice)
    fruit = Board.objects.create(name="Fruit", created_by=bob)
    BoardItem.objects.create(board=covers, image=first, added_by=alice)
    BoardItem.objects.create(board=fruit, image=first, added_by=bob)
    BoardItem.objects.create(board=fruit, image=second, added_by=bob)

    response = staff_client.get("/costs/ledger.csv?range=30d")
    rows = read_csv(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="darkroom-costs-')
    assert list(rows[0]) == ledger.LEDGER_HEADER
    jobs = [row for row in rows if row["row_type"] == "job"]
    images = [row for row in rows if row["row_type"] == "image"]
    assert [row["job_id"] for row in jobs] == [str(pictured.pk), str(refused.pk), str(running.pk)]
    assert len(images) == 2
    # Job rows carry the money; image rows follow their job and repeat who/what, not money.
    assert [row["row_type"] for row in rows] == ["job", "image", "image", "job", "job"]
    pictured_row = jobs[0]
    assert {
        k: pictured_row[k] for k in ("author", "prompt", "model", "provider", "style", "status")
    } == {
        "author": "alice",
        "prompt": "two pears",
        "model": "openai/gpt-image-1",
        "provider": "OpenAI",
        "style": "images",
        "status": "succeeded",
    }
    assert Decimal(pictured_row["estimated_cost"]) == Decimal("0.07")
    assert Decimal(pictured_row["actual_cost"]) == Decimal("0.08")
    assert pictured_row["confirmed_cost"] == ""
    assert pictured_row["boards"] == "Covers; Fruit"
    assert pictured_row["created_at"] == timezone.localtime(pictured.created_at).isoformat()
    assert [
        (r["image_id"], r["image_index"], r["width"], r["height"], r["boards"]) for r in images
    ] == [
        (str(first.pk), "0", "1024", "1024", "Covers; Fruit"),
        (str(second.pk), "1", "1024", "1024", "Fruit"),
    ]
    assert all(r["job_id"] == str(pictured.pk) and r["prompt"] == "two pears" for r in images)
    assert all(r[k] == "" for r in images for k in ("estimated_cost", "actual_cost", "charged"))
    refused_row = jobs[1]
    assert (refused_row["error_code"], refused_row["upstream_id"]) == ("refused", "gen-77")
    assert Decimal(refused_row["charged"]) == Decimal("0.003")  # confirmed wins
    assert Decimal(jobs[2]["reserved_cost"]) == Decimal("0.04")
    # Summing a money column over the file gives the ledger's totals.
    charged = sum(Decimal(r["charged"]) for r in jobs)
    reserved = sum(Decimal(r["reserved_cost"]) for r in jobs)
    totals = selectors.totals(ranges.preset_range("30d"))
    assert (charged, reserved) == (totals.charged, totals.reserved)


def test_cells_that_a_spreadsheet_would_run_are_made_text(
    staff_client: Client, make_user: Any
) -> None:
    sneaky = make_user("@sneaky")
    make_job(sneaky, prompt='=HYPERLINK("http://evil.example","click")', provider="+provider")
    make_job(sneaky, prompt="-2+3")
    make_job(sneaky, prompt="\t=1+1")
    make_job(sneaky, prompt="a fine prompt = 2")

    rows = read_csv(staff_client.get("/costs/ledger.csv"))

    assert [row["prompt"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'-2+3",
        "'\t=1+1",
        "a fine prompt = 2",
    ]
    assert rows[0]["author"] == "'@sneaky"
    assert rows[0]["provider"] == "'+provider"


def test_private_prompts_stay_private_in_the_ledger(staff_client: Client, user: User) -> None:
    make_job(user, prompt="my secret", is_private=True, actual="0.04")

    [row] = read_csv(staff_client.get("/costs/ledger.csv"))

    assert (row["prompt"], row["private"]) == ("(private prompt)", "yes")
    assert Decimal(row["charged"]) == Decimal("0.04")


def test_the_ledger_follows_the_chosen_range(staff_client: Client, user: User) -> None:
    now = timezone.now()
    inside = make_job(user, created_at=now - timedelta(days=10))
    make_job(user, created_at=now - timedelta(days=3))
    start, end = (timezone.localdate() - timedelta(days=d) for d in (12, 5))

    response = staff_client.get(f"/costs/ledger.csv?from={start}&to={end}")

    assert [row["job_id"] for row in read_csv(response)] == [str(inside.pk)]
    assert f'darkroom-costs-{start}-to-{end}.csv"' in response["Content-Disposition"]


# Committed data: the streamed part runs on another thread, with its own connection.
@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_ledger_streams_in_chunks(staff: User, user: User) -> None:
    for index in range(450):  # more than one 200-line chunk
        make_job(user, prompt=f"row {index}")
    client = AsyncClient()
    client.force_login(staff)

    async def fetch() -> list[str]:
        response: Any = await client.get("/costs/ledger.csv")
        assert response.status_code == 200
        return [chunk.decode() async for chunk in response.streaming_content]

    chunks = run_async(fetch())

    assert len(chunks) == 3
    lines = "".join(chunks).splitlines()
    assert lines[0].startswith("row_type,job_id")
    assert len(lines) == 451


def test_the_ledger_is_for_staff_only(user_client: Client) -> None:
    response = user_client.get("/costs/ledger.csv")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
