"""The Costs page: who may see it, the range, the chart and tables, budgets, prices, /key."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.utils import timezone

from catalog.models import Price, PriceSource, SyncRun, SyncStatus, SyncTrigger
from costs import key_check
from costs.models import Budget
from generation.models import Job, Status, Style
from generation.openrouter import client_from_settings
from tests.costs.conftest import image_model, make_job

pytestmark = pytest.mark.django_db


def bars(html: str) -> list[tuple[str, float]]:
    """The chart's bars as (bucket start, height)."""
    found = re.findall(r'<rect class="bar" data-start="([\d-]+)"[^>]*height="([\d.]+)"', html)
    return [(start, float(height)) for start, height in found]


# Who may see it


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for url in ("/costs/", "/costs/ledger.csv", "/costs/budgets"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_people_who_are_not_staff_get_a_clear_403(user_client: Client, user: User) -> None:
    page = user_client.get("/costs/")
    csv = user_client.get("/costs/ledger.csv")
    post = user_client.post("/costs/budgets", {"who": str(user.pk), "monthly_usd": "1000"})

    for response in (page, csv, post):
        assert response.status_code == 403
        assert "The Costs page and its ledger are for staff only" in response.text
    assert not Budget.objects.exists()
    # Nor do they see the link.
    assert 'href="/costs/"' not in user_client.get("/").text


def test_staff_see_the_page_and_the_link(staff_client: Client) -> None:
    response = staff_client.get("/costs/")

    assert response.status_code == 200
    assert 'href="/costs/"' in response.text
    for testid in (
        "chart",
        "by-person",
        "by-model",
        "by-provider",
        "by-style",
        "prompts",
        "accuracy",
        "no-image",
        "reconciliation",
        "price-changes",
        "budgets",
        "key-panel",
    ):
        assert f'data-testid="{testid}"' in response.text, testid


# The range


def test_the_default_range_is_this_month_charted_by_day(staff_client: Client, user: User) -> None:
    today = timezone.localdate()
    make_job(user, actual="0.25")
    make_job(user, actual="9.00", created_at=timezone.now() - timedelta(days=40))  # outside

    response = staff_client.get("/costs/")

    span = response.context["span"]
    assert (span.start, span.end, span.preset) == (today.replace(day=1), today, "month")
    assert response.context["totals"].spend == Decimal("0.25")
    drawn = bars(response.text)
    assert len(drawn) == today.day
    assert [start for start, height in drawn if height > 0] == [today.isoformat()]
    assert 'aria-current="true" data-testid="preset-month"' in response.text


@pytest.mark.parametrize(("preset", "days"), [("30d", 30), ("90d", 90)])
def test_presets_choose_the_last_days(staff_client: Client, preset: str, days: int) -> None:
    response = staff_client.get(f"/costs/?range={preset}")

    span = response.context["span"]
    assert span.days == days
    assert span.end == timezone.localdate()
    assert response.context["chart"].bucket == ("day" if days <= 62 else "week")
    # The CSV link carries the same range.
    assert f'href="/costs/ledger.csv?range={preset}"' in response.text


def test_a_custom_range_counts_only_its_days(staff_client: Client, user: User) -> None:
    now = timezone.now()
    make_job(user, actual="1.00", created_at=now - timedelta(days=10))
    make_job(user, actual="2.00", created_at=now - timedelta(days=3))
    start = timezone.localdate() - timedelta(days=12)
    end = timezone.localdate() - timedelta(days=5)

    response = staff_client.get(f"/costs/?from={start}&to={end}")

    assert response.context["totals"].spend == Decimal("1.00")
    assert response.context["span"].preset == ""
    drawn = bars(response.text)
    assert len(drawn) == 8
    assert [s for s, h in drawn if h > 0] == [
        (timezone.localdate() - timedelta(days=10)).isoformat()
    ]
    assert f'value="{start.isoformat()}"' in response.text


def test_a_long_range_is_charted_by_week(staff_client: Client, user: User) -> None:
    make_job(user, actual="0.50", created_at=timezone.now() - timedelta(days=100))
    start, end = date(2000, 1, 3), date(2000, 12, 31)  # a Monday to a Sunday: 52 weeks

    response = staff_client.get(f"/costs/?from={start}&to={end}")

    assert response.context["chart"].bucket == "week"
    assert len(bars(response.text)) == 52
    assert "Spend per week" in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "Dates must look like 2026-03-31"),
        ("from=2026-05-10&to=2026-05-01", "The start date is after the end date"),
        ("from=2000-01-01&to=2026-01-01", "at most 1098 days"),
        ("range=forever", "Unknown range"),
    ],
)
def test_a_bad_range_says_why_and_shows_this_month(
    staff_client: Client, query: str, message: str
) -> None:
    response = staff_client.get(f"/costs/?{query}")

    assert response.status_code == 200
    assert message in response.text
    assert response.context["span"].preset == "month"


def test_htmx_range_changes_swap_only_the_dashboard(staff_client: Client) -> None:
    response = staff_client.get("/costs/?range=30d", headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in response.text


def test_a_back_button_restore_gets_the_whole_page(staff_client: Client) -> None:
    # htmx sends HX-Request with a history restore too, and swaps the answer in
    # as the whole body: a fragment would leave a page without its header.
    response = staff_client.get(
        "/costs/?range=30d",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert response.status_code == 200
    assert "<html" in response.text
    assert 'id="dashboard"' in response.text


# The tables


def test_breakdowns_group_spend_and_count_reservations(
    staff_client: Client, make_user: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_job(alice, slug="openai/gpt-image-1", actual="0.10", images=2, provider="OpenAI")
    make_job(
        alice,
        slug="google/gemini-2.5-flash-image",
        style=Style.CHAT,
        actual="0.03",
        confirmed="0.04",
        images=1,
        provider="Google",
    )
    # Still running: its estimate is held against the budgets, so it is spend.
    make_job(
        bob,
        slug="openai/gpt-image-1",
        status=Status.RUNNING,
        actual=None,
        estimated="0.05",
        reserved="0.05",
        provider="",
    )

    context = staff_client.get("/costs/").context

    person = {row.label: (row.jobs, row.images, row.spend) for row in context["by_person"]}
    assert person == {"alice": (2, 3, Decimal("0.14")), "bob": (1, 0, Decimal("0.05"))}
    model = {row.label: row.spend for row in context["by_model"]}
    assert model == {
        "openai/gpt-image-1": Decimal("0.15"),
        "google/gemini-2.5-flash-image": Decimal("0.04"),
    }
    provider = {row.label: row.spend for row in context["by_provider"]}
    assert provider == {
        "OpenAI": Decimal("0.10"),
        "unknown": Decimal("0.05"),
        "Google": Decimal("0.04"),
    }
    style = {row.label: row.spend for row in context["by_style"]}
    assert style == {"Image API": Decimal("0.15"), "Chat Completions": Decimal("0.04")}
    totals = context["totals"]
    assert (totals.charged, totals.reserved, totals.spend) == (
        Decimal("0.14"),
        Decimal("0.05"),
        Decimal("0.19"),
    )
    assert round(sum(row.share for row in context["by_person"])) == 100


def test_the_most_expensive_prompts_group_repeats_and_hide_private_ones(
    staff_client: Client, user: User
) -> None:
    make_job(user, prompt="a castle", actual="0.04")
    make_job(user, prompt="a castle", actual="0.04", slug="bytedance-seed/seedream-4.5")
    make_job(user, prompt="my secret idea", actual="0.50", is_private=True)
    make_job(user, prompt="cheap", actual="0.01")

    response = staff_client.get("/costs/")

    rows = [(row.prompt, row.jobs, row.models, row.spend) for row in response.context["prompts"]]
    assert rows == [
        ("(private prompt)", 1, 1, Decimal("0.50")),
        ("a castle", 2, 2, Decimal("0.08")),
        ("cheap", 1, 1, Decimal("0.01")),
    ]
    assert "my secret idea" not in response.text


def test_estimate_accuracy_per_model(staff_client: Client, user: User) -> None:
    make_job(user, estimated="0.04", actual="0.05")
    make_job(user, estimated="0.04", actual="0.03")
    make_job(user, estimated="0.04", actual="0.06", confirmed="0.08")  # confirmed wins
    make_job(user, estimated="0.04", actual="0.01", status=Status.FAILED)  # left out

    response = staff_client.get("/costs/")

    [row] = response.context["accuracy"]
    assert (row.jobs, row.estimated, row.charged) == (3, Decimal("0.12"), Decimal("0.16"))
    assert row.ratio == Decimal("0.16") / Decimal("0.12")
    assert round(row.error_percent) == 33
    assert row.verdict == "underestimates"
    assert row.mean_abs_error.quantize(Decimal("0.0001")) == Decimal("0.0200")
    assert "+33% · underestimates" in response.text


def test_charges_without_an_image_list_refusals_that_cost(staff_client: Client, user: User) -> None:
    refused = make_job(
        user,
        status=Status.FAILED,
        error_code="refused",
        actual="0.002",
        style=Style.CHAT,
        prompt="a refused prompt",
    )
    unknown = make_job(
        user,
        status=Status.FAILED,
        error_code="malformed",
        actual=None,
        reserved="0.04",
        style=Style.CHAT,
    )
    make_job(user, status=Status.FAILED, error_code="credits", actual=None)  # not charged
    make_job(user, actual="0.04", images=1)  # produced an image

    response = staff_client.get("/costs/")

    no_image = response.context["no_image"]
    assert {job.pk for job in no_image.jobs} == {refused.pk, unknown.pk}
    assert (no_image.count, no_image.charged, no_image.reserved) == (
        2,
        Decimal("0.002"),
        Decimal("0.04"),
    )
    assert {r["error_code"] for r in no_image.by_reason} == {"refused", "malformed"}
    assert "a refused prompt" in response.text


# Budgets on the page


def test_staff_without_the_budget_permission_cannot_change_budgets(user: User) -> None:
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    client = Client()
    client.force_login(viewer)

    assert client.get("/costs/").status_code == 200
    response = client.post("/costs/budgets", {"who": str(user.pk), "monthly_usd": "5"})

    assert response.status_code == 403
    assert "Can change budget" in response.text
    assert not Budget.objects.exists()


def test_staff_set_change_and_remove_a_persons_budget(staff_client: Client, user: User) -> None:
    response = staff_client.post(
        "/costs/budgets", {"who": str(user.pk), "monthly_usd": "12.50", "range": "30d"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/costs/?range=30d#budgets"
    assert Budget.objects.get(user=user).monthly_usd == Decimal("12.50")
    page = staff_client.get(response["Location"])
    assert "The monthly budget of alice is now $12.50." in page.text
    assert 'value="12.50"' in page.text

    staff_client.post("/costs/budgets", {"who": str(user.pk), "monthly_usd": "20"})
    assert Budget.objects.get(user=user).monthly_usd == Decimal("20")

    staff_client.post("/costs/budgets", {"who": str(user.pk), "monthly_usd": ""})
    assert not Budget.objects.filter(user=user).exists()


def test_staff_set_the_team_budget_and_see_what_is_left(staff_client: Client, user: User) -> None:
    make_job(user, actual="3.25")

    staff_client.post("/costs/budgets", {"who": "team", "monthly_usd": "10"})

    budget = Budget.objects.get()
    assert (budget.is_team, budget.user, budget.monthly_usd) == (True, None, Decimal("10"))
    [team, *people] = staff_client.get("/costs/").context["budget_rows"]
    assert (team.label, team.spent, team.remaining) == (
        "Whole team",
        Decimal("3.25"),
        Decimal("6.75"),
    )
    assert {row.label for row in people} == {"alice", "boss"}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "A budget cannot be negative."),
        ("lots", "Enter the budget in dollars, like 25 or 12.50."),
        ("1.234", "Use at most 2 decimal places (cents)."),
        ("12345678901", "That is more than a budget can be."),
    ],
)
def test_a_bad_budget_is_refused_with_a_message(
    staff_client: Client, user: User, amount: str, message: str
) -> None:
    response = staff_client.post(
        "/costs/budgets", {"who": str(user.pk), "monthly_usd": amount, "range": "90d"}
    )

    assert response.status_code == 400
    assert message in response.text
    assert "The budget of alice was not changed" in response.text
    assert response.context["span"].preset == "90d"  # the page stays on its range
    assert not Budget.objects.exists()


def test_a_budget_for_nobody_is_refused(staff_client: Client) -> None:
    response = staff_client.post("/costs/budgets", {"who": "9999", "monthly_usd": "5"})

    assert response.status_code == 400
    assert "There is no such person." in response.text
    assert staff_client.get("/costs/budgets").status_code == 405


# Budgets on the Generate page


@pytest.mark.usefixtures("catalog")
def test_everyone_sees_their_spend_and_what_is_left_on_the_generate_page(
    user_client: Client, user: User
) -> None:
    Budget.objects.create(user=user, monthly_usd=Decimal("1.00"))
    Budget.objects.create(is_team=True, monthly_usd=Decimal("50"))
    make_job(user, actual="0.25")
    make_job(User.objects.create_user("other"), actual="2.00")

    text = user_client.get("/").text

    panel = text.split('data-testid="spend"')[1].split("</p>")[0]
    assert (
        "Your spend this month: <strong>$0.25</strong> of $1.00, <strong>$0.75 left</strong>"
        in panel
    )
    assert "team: $2.25 of $50.00, $47.75 left." in panel


@pytest.mark.usefixtures("catalog")
def test_without_budgets_the_panel_says_so(user_client: Client) -> None:
    text = user_client.get("/").text

    assert "(no personal budget)" in text
    assert "(no team budget)" in text


@pytest.mark.usefixtures("catalog")
def test_an_over_budget_submit_is_refused_saying_what_is_left(
    user_client: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    Budget.objects.create(user=user, monthly_usd=Decimal("0.10"))
    make_job(user, actual="0.08")  # $0.02 left; one Seedream image is about $0.04

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(
            "/",
            {"prompt": "one too many", "model": "bytedance-seed/seedream-4.5", "style": "images"},
        )

    assert response.status_code == 400
    assert (
        "This would go over your monthly budget of $0.10: $0.02 is left this month" in response.text
    )
    assert "<strong>$0.02 left</strong>" in response.text
    assert not Job.objects.filter(prompt="one too many").exists()
    # The same refusal over htmx swaps the form with the message in.
    with django_capture_on_commit_callbacks(execute=False):
        swapped = user_client.post(
            "/",
            {"prompt": "one too many", "model": "bytedance-seed/seedream-4.5", "style": "images"},
            headers={"HX-Request": "true"},
        )
    assert swapped.status_code == 400
    assert "$0.02 is left this month" in swapped.text


# The OpenRouter key


def test_the_key_panel_shows_the_keys_usage_beside_the_ledger(
    staff_client: Client, user: User, emulator: Any
) -> None:
    with client_from_settings() as client:
        result = client.chat_image(
            "google/gemini-2.5-flash-image", "a charge on the key", output_modalities=["image"]
        )
    make_job(user, style=Style.CHAT, actual=str(result.cost), upstream_id=result.generation_id)
    emulator.configure(key_limit=25)
    ledger_total = Decimal(emulator.ledger()["total"])

    response = staff_client.get("/costs/")

    key = response.context["key"]
    assert key.error == ""
    assert key.usage == ledger_total == key.app_total
    assert key.difference == 0
    assert key.limit == Decimal(25)
    assert key.limit_remaining == Decimal(25) - ledger_total
    panel = response.text.split('data-testid="key-panel"')[1].split("</dl>")[0]
    assert f"${ledger_total:.4f}" in panel
    assert "$25.00" in panel


def test_the_key_answer_is_cached_briefly(staff_client: Client, emulator: Any) -> None:
    first = staff_client.get("/costs/").context["key"]
    with client_from_settings() as client:
        client.chat_image(
            "google/gemini-2.5-flash-image", "spent meanwhile", output_modalities=["image"]
        )

    cached = staff_client.get("/costs/").context["key"]

    assert cached.usage == first.usage == 0
    # A charge the app has no job for shows as a difference once the cache expires.
    from django.core.cache import cache

    cache.delete(key_check.cache_key())
    fresh = staff_client.get("/costs/").context["key"]
    assert fresh.usage == Decimal(emulator.ledger()["total"]) > 0
    assert fresh.difference == fresh.usage


def test_an_unreachable_key_endpoint_shows_a_note_not_an_error(staff_client: Client) -> None:
    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:9/api/v1"):
        response = staff_client.get("/costs/")

    assert response.status_code == 200
    assert "Could not read the key's usage from OpenRouter" in response.text
    assert "Could not reach OpenRouter" in response.text
    assert 'data-testid="ledger-total"' in response.text


# Prices


def test_models_whose_price_changed_link_to_their_price_history(staff_client: Client) -> None:
    now = timezone.now()
    earlier = now - timedelta(days=60)
    changed = image_model("acme/painter")
    changed.first_seen = earlier
    changed.save()
    old = Price.objects.create(
        model=changed,
        source=PriceSource.MODELS,
        billable="image_output",
        unit="token",
        cost_usd=Decimal("0.00003"),
        valid_from=earlier,
        valid_until=now,
    )
    Price.objects.create(
        model=changed,
        source=PriceSource.MODELS,
        billable="image_output",
        unit="token",
        cost_usd=Decimal("0.00004"),
        valid_from=now,
    )
    Price.objects.create(
        model=changed,
        source=PriceSource.MODELS,
        billable="prompt",
        unit="token",
        cost_usd=Decimal("0.000001"),
        valid_from=now,
    )
    brand_new = image_model("acme/newcomer")
    brand_new.first_seen = now
    brand_new.save()
    Price.objects.create(
        model=brand_new,
        source=PriceSource.MODELS,
        billable="image_output",
        unit="token",
        cost_usd=Decimal("0.00005"),
        valid_from=now,
    )
    SyncRun.objects.create(
        started_at=now - timedelta(seconds=5),
        finished_at=now,
        trigger=SyncTrigger.NIGHTLY,
        status=SyncStatus.SUCCEEDED,
        changed=1,
    )

    response = staff_client.get("/costs/")

    [entry] = response.context["prices"].entries
    assert entry["model"] == changed
    assert entry["latest"] is True
    kinds = {(c.kind, c.price.billable, c.old, c.new) for c in entry["changes"]}
    assert kinds == {
        ("changed", "image_output", old.cost_usd, Decimal("0.00004")),
        ("added", "prompt", None, Decimal("0.000001")),
    }
    section = response.text.split('data-testid="price-changes"')[1].split("</section>")[0]
    assert 'href="/models/acme/painter/"' in section
    assert "$0.00003 → $0.00004" in section
    assert "latest sync" in section
    assert "acme/newcomer" not in section


@pytest.mark.usefixtures("emulator")
def test_the_key_panel_shows_no_part_of_the_key(staff_client: Client, settings: Any) -> None:
    settings.OPENROUTER_API_KEY = "sk-or-v1-0123456789abcdef0123456789abcdef"

    page = staff_client.get("/costs/").text

    assert "Key usage" in page
    assert "sk-or" not in page
    assert "0123456789" not in page
