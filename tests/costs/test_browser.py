"""In a real Chromium: staff review costs, change the range, download the ledger;
everyone else is kept out."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from costs import ledger
from tests.costs.conftest import make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_review_costs_change_the_range_and_download_the_ledger(
    page: Any, live_server: Any, login: Any, make_user: Any, emulator: Any, tmp_path: Path
) -> None:
    boss = make_user("boss", staff=True)
    alice, bob = make_user("alice"), make_user("bob")
    now = timezone.now()
    make_job(alice, prompt="a harbour", actual="0.04", images=1)
    make_job(
        bob,
        slug="google/gemini-2.5-flash-image",
        style="chat",
        actual="0.03",
        images=1,
        provider="Google",
    )
    make_job(bob, prompt="seventy days ago", actual="0.50", created_at=now - timedelta(days=70))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(boss)

    page.click("nav >> text=Costs")
    page.wait_for_url("**/costs/")
    chart = page.locator("[data-testid=chart]")
    assert chart.evaluate("el => el.tagName.toLowerCase()") == "svg"
    today = timezone.localdate()
    assert chart.locator("rect.bar").count() == today.day
    assert page.locator("[data-testid=by-person] tbody tr").count() == 2
    assert page.locator("[data-testid=by-model] tbody tr").count() == 2
    assert "$0.0700 charged" in page.locator("[data-testid=total-spend]").inner_text()

    # A preset swaps the dashboard in place and keeps the range in the URL.
    page.click("[data-testid=preset-90d]")
    page.wait_for_url("**/costs/?range=90d")
    page.get_by_role("heading", name="Spend per week").wait_for()
    assert chart.locator("rect.bar").count() >= 13
    assert "$0.57" in page.locator("[data-testid=total-spend]").inner_text()
    assert "seventy days ago" in page.locator("[data-testid=prompts]").inner_text()
    for table in ("by-person", "by-model", "by-provider", "by-style", "accuracy"):
        assert page.locator(f"[data-testid={table}] table").is_visible(), table

    # A custom range, typed into the date fields.
    start = today - timedelta(days=6)
    page.fill("#range-from", start.isoformat())
    page.fill("#range-to", today.isoformat())
    page.click("[data-testid=range-form] button[type=submit]")
    page.wait_for_url(f"**/costs/?from={start.isoformat()}&to={today.isoformat()}")
    page.get_by_role("heading", name="Spend per day").wait_for()
    assert chart.locator("rect.bar").count() == 7
    # Reloading the URL gives the same range: the state lives in the URL.
    page.reload()
    assert page.locator("#range-from").input_value() == start.isoformat()

    with page.expect_download() as download_info:
        page.click("[data-testid=csv-link]")
    download = download_info.value
    assert download.suggested_filename == f"darkroom-costs-{start}-to-{today}.csv"
    saved = tmp_path / "ledger.csv"
    download.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert rows[0] == ledger.LEDGER_HEADER
    assert sorted(row[0] for row in rows[1:]) == ["image", "image", "job", "job"]

    page.screenshot(path=str(tmp_path / "costs.png"), full_page=True)
    assert errors == []


def test_people_who_are_not_staff_get_no_access(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    login(user)

    assert page.locator("nav >> text=Costs").count() == 0
    response = page.goto(f"{live_server.url}/costs/")
    assert response.status == 403
    assert page.get_by_role("heading", name="No access to costs").is_visible()
    response = page.goto(f"{live_server.url}/costs/ledger.csv")
    assert response.status == 403
