"""The sweep ends jobs stuck past their time limit, ends or restarts jobs whose
worker died, and resends lost queued jobs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from generation import heartbeat, services, sweep
from generation.models import Job, Status
from tests.generation.conftest import charges_for, job_request, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("catalog")
def test_stuck_running_job_is_failed_with_a_message(user: User) -> None:
    job = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "stuck")),
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(seconds=settings.GENERATION_TIME_LIMIT + 120),
        heartbeat_at=timezone.now(),  # its worker is alive, the call just never ended
    )
    fresh = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "fresh")),
        status=Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )

    report = sweep.sweep()

    job.refresh_from_db()
    fresh.refresh_from_db()
    assert report.timed_out == 1
    assert job.status == Status.FAILED
    assert job.error_code == "timeout"
    assert "did not finish" in job.error_message
    assert fresh.status == Status.RUNNING


@pytest.mark.usefixtures("catalog", "celery_worker")
def test_queued_job_the_broker_lost_is_resent_and_runs(user: User, emulator: Any) -> None:
    job = Job.objects.create(
        author=user,
        **_fields(job_request("google/gemini-2.5-flash-image", "lost", style="chat")),
    )
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))

    report = sweep.sweep()

    assert report.resent == 1
    assert wait_for(job.pk).status == Status.SUCCEEDED


@pytest.mark.usefixtures("catalog", "celery_worker")
def test_queued_job_the_broker_never_took_is_sent_by_the_next_sweep(
    user: User, emulator: Any
) -> None:
    """The broker was down at submit (``enqueue`` leaves no ``enqueued_at``):
    the next sweep sends it, without waiting the two minutes a lost job waits."""
    job = Job.objects.create(
        author=user,
        **_fields(job_request("google/gemini-2.5-flash-image", "never sent", style="chat")),
    )
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=20))
    just_submitted = Job.objects.create(
        author=user,
        **_fields(job_request("google/gemini-2.5-flash-image", "committing", style="chat")),
    )

    report = sweep.sweep()

    assert report.resent == 1
    assert wait_for(job.pk).status == Status.SUCCEEDED
    assert Job.objects.get(pk=just_submitted.pk).status == Status.QUEUED


@pytest.mark.usefixtures("catalog", "celery_worker")
def test_job_whose_worker_died_before_calling_openrouter_runs_again(
    user: User, emulator: Any
) -> None:
    job = Job.objects.create(
        author=user,
        **_fields(job_request("google/gemini-2.5-flash-image", "orphan", style="chat")),
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=2),
        heartbeat_at=timezone.now() - heartbeat.STALE_AFTER - timedelta(seconds=1),
        attempts=1,
    )

    report = sweep.sweep()

    assert report.restarted == 1
    finished = wait_for(job.pk)
    assert finished.status == Status.SUCCEEDED
    assert finished.attempts == 2
    assert len(charges_for(emulator, "orphan")) == 1


@pytest.mark.usefixtures("catalog")
def test_job_whose_worker_died_during_the_call_fails_as_interrupted_and_keeps_its_reservation(
    user: User,
) -> None:
    stale = timezone.now() - heartbeat.STALE_AFTER - timedelta(seconds=1)
    job = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "died mid-call")),
        status=Status.STREAMING,
        started_at=stale,
        upstream_started_at=stale,
        heartbeat_at=stale,
        estimated_cost=Decimal("0.04"),
        reserved_cost=Decimal("0.04"),
    )
    never_beat = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "claimed by old code")),
        status=Status.RUNNING,
        started_at=stale,
        upstream_started_at=stale,
    )

    report = sweep.sweep()

    job.refresh_from_db()
    never_beat.refresh_from_db()
    assert report.interrupted == 2
    assert (job.status, job.error_code) == (Status.FAILED, "interrupted")
    assert "may have charged" in job.error_message
    assert job.reserved_cost == Decimal("0.04")  # counted as spend until settled
    assert job.charge_unknown
    assert never_beat.error_code == "interrupted"


@pytest.mark.usefixtures("catalog")
def test_a_job_that_keeps_losing_its_worker_before_the_call_ends_failed_and_free(
    user: User,
) -> None:
    stale = timezone.now() - heartbeat.STALE_AFTER - timedelta(seconds=1)
    job = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "poison")),
        status=Status.RUNNING,
        started_at=stale,
        heartbeat_at=stale,
        attempts=sweep.MAX_ATTEMPTS,
        reserved_cost=Decimal("0.04"),
    )

    sweep.sweep()

    job.refresh_from_db()
    assert (job.status, job.error_code) == (Status.FAILED, "interrupted")
    assert job.reserved_cost == 0  # never sent: nothing to hold


@pytest.mark.usefixtures("catalog")
def test_a_live_heartbeat_keeps_a_long_storing_job_from_the_sweep(user: User) -> None:
    long_ago = timezone.now() - timedelta(seconds=settings.GENERATION_TIME_LIMIT + 300)
    job = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "storage is slow")),
        status=Status.STORING,
        started_at=long_ago,
        upstream_started_at=long_ago,
    )
    with heartbeat.beating(job.pk):
        assert heartbeat.beat() == 1

    report = sweep.sweep()

    job.refresh_from_db()
    assert job.status == Status.STORING
    assert (report.timed_out, report.interrupted) == (0, 0)
    assert heartbeat.beat() == 0  # the block ended: nothing held any more


def _fields(request: services.JobRequest) -> dict[str, Any]:
    return {
        "model": request.model,
        "model_slug": request.model.slug,
        "endpoint": request.endpoint,
        "style": request.style,
        "prompt": request.prompt,
        "params": request.params,
    }


def test_the_command_runs_a_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("sweep_jobs")

    assert capsys.readouterr().out.strip() == "0 timed out, 0 interrupted, 0 restarted, 0 resent."
