"""Fixtures for generation tests: a synced catalog and helpers to run jobs for real."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from catalog import selectors as catalog_selectors
from catalog.models import ImageModel
from emulator import directives
from generation import services
from generation.models import Job, Style


@pytest.fixture
def catalog(emulator: Any, db: None) -> None:
    """The emulator's models, synced into the catalog the way `make run` does."""
    call_command("sync_catalog", stdout=None)
    assert ImageModel.objects.exists()


def job_request(
    slug: str,
    prompt: str,
    *,
    style: str = Style.IMAGES,
    params: dict[str, Any] | None = None,
    n: int = 1,
    references: list[dict[str, Any]] | None = None,
    private: bool = False,
) -> services.JobRequest:
    model = ImageModel.objects.get(slug=slug)
    return services.JobRequest(
        model=model,
        endpoint=catalog_selectors.default_endpoint(model),
        style=style,
        prompt=prompt,
        params=params or {},
        n=n,
        references=references or [],
        is_private=private,
        estimated_cost=Decimal("0.01"),
    )


def submit(user: User, slug: str, prompt: str, **kwargs: Any) -> Job:
    return services.submit(user, [job_request(slug, prompt, **kwargs)])[0]


def unsent(user: User, slug: str, prompt: str, **kwargs: Any) -> Job:
    """A queued job as ``submit`` writes it (estimate reserved), never sent to the
    broker: for tests that run it in this process, where a Celery worker of the
    session must not take it first."""
    request = job_request(slug, prompt, **kwargs)
    return Job.objects.create(
        author=user,
        model=request.model,
        model_slug=request.model.slug,
        endpoint=request.endpoint,
        style=request.style,
        prompt=request.prompt,
        params=request.params,
        n=request.n,
        references=request.references,
        is_private=request.is_private,
        estimated_cost=request.estimated_cost,
        reserved_cost=request.estimated_cost,
    )


def wait_for(
    job_id: uuid.UUID,
    statuses: tuple[str, ...] = ("succeeded", "failed", "canceled"),
    timeout: float = 45,
) -> Job:
    """Poll the database until the job reaches one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.1)
    job = Job.objects.get(pk=job_id)
    raise AssertionError(f"job stayed {job.status} ({job.stage}) for {timeout} s")


def charges_for(emulator: Any, prompt: str) -> list[dict[str, Any]]:
    """The emulator's ledger entries for a prompt (it records prompts without directives)."""
    text = directives.strip(prompt)
    return [entry for entry in emulator.ledger()["entries"] if entry["prompt"] == text]
