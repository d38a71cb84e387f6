"""The sweep ends jobs stuck past their time limit and resends lost queued jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from generation import services
from generation.models import Job, Status
from tests.generation.conftest import job_request, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("catalog")
def test_stuck_running_job_is_failed_with_a_message(user: User) -> None:
    job = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "stuck")),
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(seconds=settings.GENERATION_TIME_LIMIT + 120),
    )
    fresh = Job.objects.create(
        author=user,
        **_fields(job_request("openai/gpt-image-1", "fresh")),
        status=Status.RUNNING,
        started_at=timezone.now(),
    )

    report = services.sweep()

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

    report = services.sweep()

    assert report.resent == 1
    assert wait_for(job.pk).status == Status.SUCCEEDED


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

    assert capsys.readouterr().out.strip() == "0 timed out, 0 resent."
