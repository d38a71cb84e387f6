"""Charges nobody reported: listed for staff, counted as spend, settled by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from costs import budgets
from costs.models import Budget
from generation.models import Status, Style
from tests.costs.conftest import make_job

pytestmark = pytest.mark.django_db


def test_jobs_holding_an_unknown_charge_are_listed_and_count_against_the_budget(
    staff_client: Client, user: User
) -> None:
    cut_off = make_job(
        user,
        status=Status.FAILED,
        error_code="interrupted",
        actual=None,
        reserved="0.04",
        prompt="an answer that was cut off",
    )
    make_job(user, status=Status.FAILED, error_code="credits", actual=None)  # not charged
    make_job(user, actual="0.02", images=1)  # charge known

    response = staff_client.get("/costs/")

    unknown = response.context["unknown"]
    assert [job.pk for job in unknown.jobs] == [cut_off.pk]
    assert (unknown.count, unknown.reserved) == (1, Decimal("0.04"))
    assert 'data-testid="unknown-count"' in response.text
    assert f'action="/costs/jobs/{cut_off.pk}/charge"' in response.text
    own, _ = budgets.standing(user)
    assert own.spent == Decimal("0.06")  # the held estimate counts as spend


def test_staff_record_the_real_charge_and_the_reservation_is_released(
    staff_client: Client, staff: User, user: User
) -> None:
    Budget.objects.create(user=user, monthly_usd=Decimal("1"))
    job = make_job(
        user,
        status=Status.FAILED,
        error_code="malformed",
        actual=None,
        reserved="0.04",
        style=Style.IMAGES,
    )

    response = staff_client.post(
        f"/costs/jobs/{job.pk}/charge", {"charge": "0.034", "range": "30d"}
    )

    assert response.status_code == 302
    assert response["Location"].endswith("?range=30d#unknown")
    job.refresh_from_db()
    assert (job.confirmed_cost, job.reserved_cost) == (Decimal("0.034"), Decimal(0))
    assert job.cost_settled_by == staff
    assert job.charge == Decimal("0.034")
    assert not job.charge_unknown
    assert budgets.standing(user)[0].spent == Decimal("0.034")
    # A second settlement of the same job changes nothing.
    staff_client.post(f"/costs/jobs/{job.pk}/charge", {"charge": "9"})
    job.refresh_from_db()
    assert job.confirmed_cost == Decimal("0.034")


@pytest.mark.parametrize(
    ("charge", "message"),
    [
        ("", "Enter what OpenRouter charged"),
        ("-1", "cannot be negative"),
        ("lots", "Enter the charge in dollars"),
        ("99999", "more than one generation can cost"),
    ],
)
def test_a_bad_charge_is_refused_on_its_row(
    staff_client: Client, user: User, charge: str, message: str
) -> None:
    job = make_job(user, status=Status.FAILED, actual=None, reserved="0.04")

    response = staff_client.post(f"/costs/jobs/{job.pk}/charge", {"charge": charge})

    assert response.status_code == 400
    assert message in response.text
    job.refresh_from_db()
    assert job.reserved_cost == Decimal("0.04")


def test_only_staff_settle_charges(user_client: Client, user: User) -> None:
    job = make_job(user, status=Status.FAILED, actual=None, reserved="0.04")

    response = user_client.post(f"/costs/jobs/{job.pk}/charge", {"charge": "0"})

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.reserved_cost == Decimal("0.04")


def test_the_job_card_says_its_charge_is_not_known_yet(user_client: Client, user: User) -> None:
    job = make_job(user, status=Status.FAILED, actual=None, reserved="0.04")

    response = user_client.get(f"/jobs/{job.pk}/")

    assert response.status_code == 200
    assert 'data-testid="charge-unknown"' in response.text
    assert "$0.0400 held" in response.text
