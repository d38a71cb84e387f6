"""Batch submit: several jobs in one request, validated and budgeted together,
created in one transaction or not at all."""

from __future__ import annotations

import json
from decimal import ROUND_UP, Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from costs.models import Budget
from generation.api.schemas import MAX_BATCH
from generation.models import Batch, Job, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

GPT = "openai/gpt-image-1"
FLUX = "black-forest-labs/flux.2-pro"


def post_batch(client: Client, jobs: Any) -> Any:
    return client.post(
        "/api/v1/jobs/batch", json.dumps({"jobs": jobs}), content_type="application/json"
    )


def test_a_batch_creates_every_job_after_one_commit(
    api: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    asked: list[dict[str, Any]] = [
        {"prompt": "a red kite", "model": GPT, "options": {"quality": "low"}},
        {"prompt": "a blue kite", "model": FLUX, "options": {"seed": 7}},
        {"prompt": "a green kite", "model": GPT, "private": True},
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_batch(api, asked)

    assert response.status_code == 201, response.content
    answered = response.json()["jobs"]
    assert [job["prompt"] for job in answered] == [item["prompt"] for item in asked]
    assert [job["status"] for job in answered] == ["queued"] * 3
    jobs = {str(job.pk): job for job in Job.objects.filter(author=user)}
    assert set(jobs) == {job["id"] for job in answered}
    assert jobs[answered[0]["id"]].params["quality"] == "low"
    assert jobs[answered[1]["id"]].params["seed"] == 7
    assert jobs[answered[2]["id"]].is_private
    assert all(job["batch"] is None for job in answered)
    assert len(callbacks) == 3


def test_compare_inside_a_batch_makes_its_own_batch(api: Client) -> None:
    response = post_batch(
        api,
        [
            {"prompt": "a fox", "model": GPT, "compare": [FLUX]},
            {"prompt": "a hare", "model": FLUX},
        ],
    )

    assert response.status_code == 201, response.content
    first, second = response.json()["jobs"]
    assert len(first["batch"]["jobs"]) == 2
    assert second["batch"] is None
    assert Job.objects.count() == 3
    assert Batch.objects.count() == 1


def test_one_invalid_job_refuses_the_whole_batch_naming_it(api: Client) -> None:
    response = post_batch(
        api,
        [
            {"prompt": "fine", "model": GPT},
            {"prompt": "bad option", "model": GPT, "options": {"quality": "ultra"}},
            {"prompt": "bad model", "model": "nobody/no-such-model"},
        ],
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert set(error["fields"]) == {"jobs[1].options.quality", "jobs[2].model"}
    assert "nothing was queued" in error["message"]
    assert not Job.objects.exists()


def test_wrong_types_in_a_batch_are_named_by_index(api: Client) -> None:
    response = post_batch(api, [{"prompt": "x", "model": GPT}, {"prompt": 5, "model": GPT}])

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"jobs[1].prompt": ["Must be a string."]}
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("jobs", "field"),
    [
        ([], "jobs"),
        ("not a list", "jobs"),
        ([{"prompt": "x", "model": GPT}] * (MAX_BATCH + 1), "jobs"),
    ],
)
def test_a_batch_must_hold_one_to_the_bound(api: Client, jobs: Any, field: str) -> None:
    response = post_batch(api, jobs)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Job.objects.exists()


def test_the_whole_batch_is_checked_against_the_budget(api: Client, user: User) -> None:
    # Each job alone fits; the three together do not.
    one = post_batch(api, [{"prompt": "probe", "model": GPT, "options": {"quality": "low"}}])
    estimate = Decimal(one.json()["jobs"][0]["cost"]["estimated"])
    Job.objects.all().delete()
    budget = (estimate * 2).quantize(Decimal("0.01"), rounding=ROUND_UP)  # whole cents
    assert budget < estimate * 3
    Budget.objects.create(user=user, monthly_usd=budget)

    response = post_batch(
        api,
        [{"prompt": f"kite {i}", "model": GPT, "options": {"quality": "low"}} for i in range(3)],
    )

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "budget_exceeded"
    assert not Job.objects.exists()
    fits = post_batch(
        api,
        [{"prompt": f"kite {i}", "model": GPT, "options": {"quality": "low"}} for i in range(2)],
    )
    assert fits.status_code == 201, fits.content
    assert Job.objects.filter(status=Status.QUEUED).count() == 2


def test_a_session_batch_needs_the_csrf_token(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = post_batch(client, [{"prompt": "x", "model": GPT}])

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Job.objects.exists()
