"""Reconciliation against the emulator's GET /generation, early 404s included."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from costs import reconcile, tasks
from generation.models import Job, Status, Style
from generation.openrouter import GenerationResult, client_from_settings
from tests.costs.conftest import make_job

pytestmark = pytest.mark.django_db

CHAT_MODEL = "google/gemini-2.5-flash-image"


def chat_generation(prompt: str) -> GenerationResult:
    """A real chat generation on the emulator, which then knows its id."""
    with client_from_settings() as client:
        return client.chat_image(CHAT_MODEL, prompt, output_modalities=["image", "text"])


def chat_job(user: User, result: GenerationResult, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "slug": CHAT_MODEL,
        "style": Style.CHAT,
        "actual": str(result.cost),
        "upstream_id": result.generation_id,
    }
    values.update(fields)
    return make_job(user, **values)


def ledger_cost(emulator: Any, generation_id: str | None) -> Decimal:
    [entry] = [e for e in emulator.ledger()["entries"] if e["generation_id"] == generation_id]
    return Decimal(entry["cost"])


def test_a_finished_chat_job_gets_its_confirmed_cost_and_its_reservation_released(
    user: User, emulator: Any
) -> None:
    emulator.configure(generation_404_seconds=0)
    result = chat_generation("a reconciled fox")
    # The answer's cost was unreadable, so the estimate stayed reserved.
    job = chat_job(user, result, actual=None, reserved="0.05")

    report = reconcile.reconcile()

    job.refresh_from_db()
    assert (report.confirmed, report.pending, report.gave_up) == (1, 0, 0)
    assert job.confirmed_cost == ledger_cost(emulator, result.generation_id)
    assert job.cost_confirmed_at is not None
    assert job.reserved_cost == 0
    # Confirmed jobs are not asked about again.
    assert reconcile.candidates() == []


def test_an_early_404_is_retried_within_the_run(user: User, emulator: Any) -> None:
    emulator.configure(generation_404_seconds=0.6)
    result = chat_generation("a generation OpenRouter does not know yet")
    job = chat_job(user, result)

    report = reconcile.reconcile(delays=(0.4, 0.4, 0.4))

    job.refresh_from_db()
    assert report.confirmed == 1
    assert job.confirmed_cost == ledger_cost(emulator, result.generation_id) == job.actual_cost


def test_a_generation_still_unknown_is_left_for_the_next_run(user: User, emulator: Any) -> None:
    emulator.configure(generation_404_seconds=3600)
    result = chat_generation("a slow ledger")
    job = chat_job(user, result)

    first = reconcile.reconcile(delays=(0.05,))

    job.refresh_from_db()
    assert (first.confirmed, first.pending, first.gave_up) == (0, 1, 0)
    assert (job.cost_confirmed_at, job.confirmed_cost) == (None, None)

    emulator.configure(generation_404_seconds=0)
    second = reconcile.reconcile(delays=(0.05,))

    job.refresh_from_db()
    assert second.confirmed == 1
    assert job.confirmed_cost == ledger_cost(emulator, result.generation_id)


def test_after_a_day_of_404s_reconciliation_gives_up_and_says_so(
    user: User, emulator: Any, staff_client: Client
) -> None:
    stale = make_job(
        user,
        slug=CHAT_MODEL,
        style=Style.CHAT,
        status=Status.FAILED,
        error_code="malformed",
        actual=None,
        reserved="0.04",
        upstream_id="gen-0-never-heard-of",
    )
    Job.objects.filter(pk=stale.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    young = make_job(user, slug=CHAT_MODEL, style=Style.CHAT, upstream_id="gen-0-too-young")

    report = reconcile.reconcile(delays=(0.05,))

    stale.refresh_from_db()
    young.refresh_from_db()
    assert (report.gave_up, report.pending) == (1, 1)
    assert stale.cost_confirmed_at is not None
    assert stale.confirmed_cost is None
    # The charge is still unknown: the budget keeps counting the estimate.
    assert stale.reserved_cost == Decimal("0.04")
    assert young.cost_confirmed_at is None
    assert [job_id for job_id, *_ in reconcile.candidates()] == [young.pk]
    page = staff_client.get("/costs/").text
    assert "1 job unknown to OpenRouter after 24 hours" in page
    assert "1 job not confirmed yet" in page


def test_a_difference_between_reported_and_confirmed_cost_is_recorded_and_shown(
    user: User, emulator: Any, staff_client: Client
) -> None:
    emulator.configure(generation_404_seconds=0)
    result = chat_generation("a cost that moved")
    assert result.cost is not None
    job = chat_job(user, result, actual=str(result.cost - Decimal("0.0100")))

    report = reconcile.reconcile()

    job.refresh_from_db()
    assert (report.confirmed, report.differing) == (1, 1)
    assert job.confirmed_cost == result.cost
    page = staff_client.get("/costs/")
    differences = page.text.split('data-testid="differences"')[1]
    assert f"/jobs/{job.pk}/" in differences
    assert "+$0.0100" in differences
    assert "over 1 job" in page.text
    # Spend now counts the confirmed cost, not the reported one.
    assert page.context["totals"].charged == result.cost


def test_only_finished_chat_and_tool_jobs_with_an_id_are_candidates(user: User) -> None:
    wanted = [
        make_job(user, style=Style.CHAT, upstream_id="gen-1"),
        make_job(user, style=Style.TOOL_CHAT, upstream_id="gen-2", status=Status.FAILED),
        make_job(user, style=Style.TOOL_RESPONSES, upstream_id="gen-3", status=Status.CANCELED),
    ]
    make_job(user, style=Style.IMAGES)  # the Image API gives no id
    make_job(user, style=Style.CHAT, upstream_id="")  # failed before an answer
    make_job(user, style=Style.CHAT, upstream_id="gen-4", status=Status.RUNNING)
    make_job(
        user,
        style=Style.CHAT,
        upstream_id="gen-5",
        confirmed="0.01",
        cost_confirmed_at=timezone.now(),
    )

    found = {job_id for job_id, *_ in reconcile.candidates()}

    assert found == {job.pk for job in wanted}


def test_a_run_that_cannot_reach_openrouter_stops_and_changes_nothing(user: User) -> None:
    job = make_job(user, style=Style.CHAT, upstream_id="gen-unreachable")

    with override_settings(OPENROUTER_BASE_URL="http://127.0.0.1:9/api/v1"):
        report = reconcile.reconcile(delays=())

    job.refresh_from_db()
    assert report.stopped
    assert report.confirmed == report.gave_up == 0
    assert job.cost_confirmed_at is None


def test_overlapping_runs_do_not_both_call_openrouter(user: User) -> None:
    make_job(user, style=Style.CHAT, upstream_id="gen-locked")
    cache.add(reconcile.LOCK_KEY, "1", timeout=30)
    try:
        report = reconcile.reconcile()
    finally:
        cache.delete(reconcile.LOCK_KEY)

    assert report.skipped
    assert report.confirmed == report.pending == 0


def test_the_task_runs_every_five_minutes_on_the_default_queue(user: User, emulator: Any) -> None:
    from webapp.celery import app

    emulator.configure(generation_404_seconds=0)
    result = chat_generation("reconciled by the task")
    job = chat_job(user, result)

    tasks.reconcile_costs()

    job.refresh_from_db()
    assert job.confirmed_cost == result.cost
    [entry] = [
        e for e in app.conf.beat_schedule.values() if e["task"] == tasks.reconcile_costs.name
    ]
    assert entry["schedule"] == 300.0
    assert tasks.reconcile_costs.name not in settings.CELERY_TASK_ROUTES
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"


def test_the_command_runs_a_reconciliation(capsys: pytest.CaptureFixture[str], db: None) -> None:
    from django.core.management import call_command

    call_command("reconcile_costs")

    assert "0 confirmed (0 differing from the reported cost)" in capsys.readouterr().out
