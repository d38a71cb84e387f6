"""The Costs page's figures equal what OpenRouter (the emulator) actually charged,
after a real mixed run: several people, models and styles, with refusals (charged)
and out-of-credit failures (not charged), then reconciliation."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import Client

from costs import key_check, ranges, reconcile, selectors
from emulator import directives
from generation.models import Job, Status, Style
from tests.generation.conftest import submit, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "catalog"),
]

GEMINI = "google/gemini-2.5-flash-image"
GPT_IMAGE = "openai/gpt-image-1"
SEEDREAM = "bytedance-seed/seedream-4.5"
TOOL_MODEL = "openai/gpt-5-image-mini"

RUN = [
    # (person, model, style, prompt, expected status)
    ("alice", GPT_IMAGE, Style.IMAGES, "ledger: a harbour at noon", Status.SUCCEEDED),
    ("alice", GEMINI, Style.CHAT, "ledger: a red kite", Status.SUCCEEDED),
    ("alice", GEMINI, Style.CHAT, "ledger: refused once [emulator:refuse]", Status.FAILED),
    ("bob", GEMINI, Style.CHAT, "ledger: a blue door", Status.SUCCEEDED),
    (
        "bob",
        SEEDREAM,
        Style.IMAGES,
        "ledger: refused by the Image API [emulator:refuse]",
        Status.FAILED,
    ),
    ("bob", GPT_IMAGE, Style.IMAGES, "ledger: no credits [emulator:fail=402]", Status.FAILED),
    ("bob", GEMINI, Style.CHAT, "ledger: refused twice [emulator:refuse]", Status.FAILED),
    ("carol", SEEDREAM, Style.IMAGES, "ledger: a quiet field", Status.SUCCEEDED),
    ("carol", TOOL_MODEL, Style.TOOL_CHAT, "ledger: a lantern", Status.SUCCEEDED),
    ("carol", GEMINI, Style.CHAT, "ledger: also no credits [emulator:fail=402]", Status.FAILED),
]


def test_dashboard_totals_per_person_and_model_equal_the_emulator_ledger(
    make_user: Any, emulator: Any, staff_client: Client
) -> None:
    people: dict[str, User] = {name: make_user(name) for name in ("alice", "bob", "carol")}
    emulator.configure(generation_404_seconds=0)
    submitted = [
        (submit(people[name], slug, prompt, style=style), expected)
        for name, slug, style, prompt, expected in RUN
    ]
    jobs = [wait_for(job.pk) for job, _ in submitted]
    assert [job.status for job in jobs] == [expected for _, expected in submitted]

    report = reconcile.reconcile()
    # Every chat and tool job with an answer is confirmed (402s never got one).
    assert (report.confirmed, report.pending, report.gave_up) == (5, 0, 0)

    ledger = emulator.ledger()
    by_prompt = {directives.strip(job.prompt): job for job in Job.objects.select_related("author")}
    want_person: dict[str, Decimal] = defaultdict(Decimal)
    want_model: dict[str, Decimal] = defaultdict(Decimal)
    for entry in ledger["entries"]:
        job = by_prompt[entry["prompt"]]  # every charge belongs to one of our jobs
        want_person[job.author.get_username()] += Decimal(entry["cost"])
        want_model[job.model_slug] += Decimal(entry["cost"])
    # Refusals were charged, out-of-credit failures were not.
    outcomes = sorted(entry["outcome"] for entry in ledger["entries"])
    assert (outcomes.count("refused"), len(outcomes)) == (3, 8)

    page = staff_client.get("/costs/")

    assert page.status_code == 200
    context = page.context
    assert context["totals"].spend == Decimal(ledger["total"])
    assert context["totals"].reserved == 0  # every reservation settled or released
    assert {row.label: row.spend for row in context["by_person"]} == dict(want_person)
    assert {row.label: row.spend for row in context["by_model"] if row.spend} == dict(want_model)
    # The charges that bought nothing are the three refusals.
    no_image = context["no_image"]
    assert no_image.count == 3
    refused_cost = sum(
        (Decimal(e["cost"]) for e in ledger["entries"] if e["outcome"] == "refused"), Decimal(0)
    )
    assert no_image.spend == refused_cost
    # Reconciliation confirmed exactly what the answers reported.
    assert context["reconciliation"].confirmed == 5
    assert context["reconciliation"].difference == 0
    # The page shows the figures, not only the context.
    for name, amount in want_person.items():
        row = page.text.split('data-testid="by-person"')[1].split("</section>")[0]
        assert f">{name}<" in row
        assert f"${amount:.4f}" in row
    assert f"${Decimal(ledger['total']):.4f} charged" in page.text

    # The app's all-time ledger equals the key's usage, so the /key panel shows no difference.
    key = context["key"]
    assert key.error == ""
    assert key.usage == Decimal(ledger["total"]) == key.app_total
    assert key.difference == 0
    assert Job.objects.aggregate(total=Sum("reserved_cost"))["total"] == 0
    assert selectors.totals(ranges.preset_range("month")).jobs == len(RUN)


def test_a_streamed_image_api_refusal_costs_nothing_on_either_side(
    make_user: Any, emulator: Any
) -> None:
    job = wait_for(
        submit(make_user("dave"), GPT_IMAGE, "ledger: streamed refusal [emulator:refuse]").pk
    )
    assert job.status == Status.FAILED
    assert job.reserved_cost == 0

    # The Image API bills all or nothing: a refusal mid-stream is not charged,
    # and the /key panel (usage beside the app's ledger) shows no gap.
    assert Decimal(emulator.ledger()["total"]) == 0
    assert (job.actual_cost or Decimal(0)) == 0
    assert key_check.key_status().difference == 0
