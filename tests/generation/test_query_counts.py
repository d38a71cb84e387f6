"""How many queries a submit and a job's run take: each is paid 200 times in a burst."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from generation import services
from generation.models import Job, Status
from webapp import tokens

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Submits go all the way to ``apply_async``, and no further: a worker left
    running by another test must not take these jobs (this test runs them)."""
    from generation import tasks

    monkeypatch.setattr(tasks.run_job, "apply_async", lambda *args, **kwargs: None)


BODY = {"prompt": "a lighthouse at dusk", "model": "google/gemini-2.5-flash-image", "options": {}}


def _post(client: Client) -> Job:
    response = client.post("/api/v1/jobs", data=json.dumps(BODY), content_type="application/json")
    assert response.status_code == 201, response.content
    return Job.objects.get(pk=response.json()["id"])


def test_an_api_submit_takes_at_most_six_queries(user: User) -> None:
    client = Client(headers={"Authorization": f"Bearer {tokens.create(user, 'tests')[1]}"})
    _post(client)  # the first builds this process's catalog copy

    with CaptureQueriesContext(connection) as queries:
        job = _post(client)

    assert len(queries) <= 6, [query["sql"][:120] for query in queries]
    assert job.status == Status.QUEUED
    assert job.enqueued_at is not None  # stamped in the INSERT, not by a second write


def test_a_form_submit_reads_the_catalog_from_the_process_copy(user_client: Client) -> None:
    form = {"prompt": "a lighthouse", "model": "google/gemini-2.5-flash-image", "style": "images"}
    user_client.post("/", form)

    with CaptureQueriesContext(connection) as queries:
        response = user_client.post("/", form)

    assert response.status_code == 302  # to the new job's page
    assert Job.objects.filter(prompt="a lighthouse").count() == 2
    assert not [q["sql"] for q in queries if 'FROM "catalog_' in q["sql"]]
    assert len(queries) <= 6, [query["sql"][:120] for query in queries]


def test_a_job_runs_in_at_most_five_queries(user: User) -> None:
    client = Client(headers={"Authorization": f"Bearer {tokens.create(user, 'tests')[1]}"})
    _post(client)
    job = _post(client)

    with CaptureQueriesContext(connection) as queries:
        services.run(job.pk)

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.images.count() == 1
    assert job.attempts == 1
    assert len(queries) <= 5, [query["sql"][:120] for query in queries]


def test_a_claim_that_lost_the_race_reads_nothing(user: User) -> None:
    client = Client(headers={"Authorization": f"Bearer {tokens.create(user, 'tests')[1]}"})
    job = _post(client)
    Job.objects.filter(pk=job.pk).update(status=Status.CANCELED)

    assert services.claim(job.pk) is None
    assert Job.objects.get(pk=job.pk).attempts == 0


def test_the_generate_page_lists_the_models_from_the_process_copy(user_client: Client) -> None:
    user_client.get("/")

    with CaptureQueriesContext(connection) as queries:
        response = user_client.get("/")

    assert response.status_code == 200
    assert "google/gemini-2.5-flash-image" in response.text
    assert not [q["sql"] for q in queries if 'FROM "catalog_' in q["sql"]]
