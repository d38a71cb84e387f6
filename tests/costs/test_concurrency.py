"""Budgets hold under concurrent submissions: real threads, each with its own
PostgreSQL connection, submitting at the same instant."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections
from django.db.models import Sum

from costs import budgets
from costs.models import Budget
from generation import services
from generation.models import Job
from tests.costs.conftest import image_model

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks are what is under test: PostgreSQL only",
    ),
]

THREADS = 12
ESTIMATE = Decimal("0.15")


def _request(prompt: str) -> services.JobRequest:
    return services.JobRequest(
        model=image_model("openai/gpt-image-1"),
        endpoint=None,
        style="images",
        prompt=prompt,
        estimated_cost=ESTIMATE,
    )


def _submit_all(authors: list[User]) -> tuple[list[Job], list[budgets.BudgetExceeded]]:
    """Every author submits once, all threads released together by a barrier."""
    requests = [_request(f"race {i}") for i in range(len(authors))]
    barrier = threading.Barrier(len(authors))
    accepted: list[Job] = []
    refused: list[budgets.BudgetExceeded] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(author: User, request: services.JobRequest) -> None:
        try:
            barrier.wait(timeout=10)
            jobs = services.submit(author, [request])
            with lock:
                accepted.extend(jobs)
        except budgets.BudgetExceeded as exc:
            with lock:
                refused.append(exc)
        except BaseException as exc:  # reported below, with the thread's own traceback
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [
        threading.Thread(target=work, args=(author, request))
        for author, request in zip(authors, requests, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return accepted, refused


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: Any) -> None:
    """The jobs stay queued: what is under test is the reservation, not the run."""
    monkeypatch.setattr(services, "enqueue", lambda *args, **kwargs: None)


def test_a_personal_budget_is_never_overshot_by_concurrent_submissions(make_user: Any) -> None:
    author = make_user("racer")
    budget = Decimal("1.00")  # fits 6 jobs of 0.15 (0.90); a 7th would make 1.05
    Budget.objects.create(user=author, monthly_usd=budget)

    accepted, refused = _submit_all([author] * THREADS)

    fits = int(budget // ESTIMATE)
    assert len(accepted) == fits == 6
    assert len(refused) == THREADS - fits
    reserved = Job.objects.aggregate(total=Sum("reserved_cost"))["total"]
    assert reserved == fits * ESTIMATE <= budget
    assert budgets.spent(budgets.month_jobs(author)) <= budget
    # Each refusal says how much was left when it was checked: never less than nothing,
    # and never enough for one more job.
    for exc in refused:
        assert Decimal(0) <= exc.remaining < ESTIMATE
        assert "left this month" in exc.message


def test_the_team_budget_is_never_overshot_by_many_people_at_once(make_user: Any) -> None:
    people = [make_user(f"teammate{i}") for i in range(THREADS)]
    budget = Decimal("0.75")  # fits 5 jobs of 0.15, whoever submits them
    Budget.objects.create(is_team=True, monthly_usd=budget)
    # A generous personal budget each: two budgets locked per submission, in order.
    for person in people:
        Budget.objects.create(user=person, monthly_usd=Decimal("10"))

    accepted, refused = _submit_all(people)

    assert len(accepted) == int(budget // ESTIMATE) == 5
    assert len(refused) == THREADS - 5
    assert all(exc.budget.is_team for exc in refused)
    assert Job.objects.aggregate(total=Sum("reserved_cost"))["total"] <= budget
    assert budgets.spent(budgets.month_jobs(None)) == 5 * ESTIMATE


def test_spend_already_charged_counts_against_the_budget(make_user: Any) -> None:
    from tests.costs.conftest import make_job

    author = make_user("spender")
    make_job(author, actual="0.55", estimated="0.50")  # charged this month
    Budget.objects.create(user=author, monthly_usd=Decimal("1.00"))

    accepted, _ = _submit_all([author] * 8)

    assert len(accepted) == 3  # 0.55 + 3 x 0.15 = 1.00 exactly: allowed
    assert budgets.spent(budgets.month_jobs(author)) == Decimal("1.00")
