"""The Django admin: budgets (the team's included), job and image lists with cost totals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from costs.models import Budget
from generation.models import Status
from tests.costs.conftest import image_model, make_job

pytestmark = pytest.mark.django_db

ADD = "/admin/costs/budget/add/"


def test_staff_create_the_team_budget_with_the_whole_team_box(staff_client: Client) -> None:
    response = staff_client.post(ADD, {"whole_team": "on", "user": "", "monthly_usd": "250"})

    assert response.status_code == 302, response.context["adminform"].form.errors
    budget = Budget.objects.get()
    assert (budget.is_team, budget.user, budget.monthly_usd) == (True, None, Decimal("250"))


def test_staff_create_a_persons_budget(staff_client: Client, user: User) -> None:
    response = staff_client.post(ADD, {"user": str(user.pk), "monthly_usd": "15.50"})

    assert response.status_code == 302
    budget = Budget.objects.get()
    assert (budget.is_team, budget.user, budget.monthly_usd) == (False, user, Decimal("15.50"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"monthly_usd": "10"}, "Choose a person, or tick “Whole team”."),
        ({"whole_team": "on", "user": "USER", "monthly_usd": "10"}, "Leave the person empty"),
        ({"user": "USER", "monthly_usd": "-1"}, "A budget cannot be negative."),
    ],
)
def test_a_budget_form_that_makes_no_sense_is_refused(
    staff_client: Client, user: User, data: dict[str, str], message: str
) -> None:
    data = {key: str(user.pk) if value == "USER" else value for key, value in data.items()}

    response = staff_client.post(ADD, data)

    assert response.status_code == 200
    assert message in response.text
    assert not Budget.objects.exists()


def test_there_is_only_one_team_budget(staff_client: Client) -> None:
    Budget.objects.create(is_team=True, monthly_usd=Decimal("100"))

    response = staff_client.post(ADD, {"whole_team": "on", "monthly_usd": "5"})

    assert response.status_code == 200
    assert "There is already a team budget; edit that one." in response.text
    assert Budget.objects.count() == 1


def test_editing_the_team_budget_keeps_it_the_teams(staff_client: Client) -> None:
    budget = Budget.objects.create(is_team=True, monthly_usd=Decimal("100"))

    response = staff_client.post(
        f"/admin/costs/budget/{budget.pk}/change/", {"user": "", "monthly_usd": "120"}
    )

    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.is_team, budget.monthly_usd) == (True, Decimal("120"))


def test_the_budget_list_shows_spend_and_what_is_left(staff_client: Client, user: User) -> None:
    Budget.objects.create(is_team=True, monthly_usd=Decimal("100"))
    Budget.objects.create(user=user, monthly_usd=Decimal("10"))
    make_job(user, actual="2.50")
    make_job(user, actual="99", created_at=timezone.now() - timedelta(days=70))  # an earlier month

    text = staff_client.get("/admin/costs/budget/").text

    assert "Whole team" in text
    assert "$2.50" in text
    assert "$7.50" in text
    assert "$97.50" in text


def test_job_list_filters_by_person_model_status_and_date_with_totals(
    staff_client: Client, make_user: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_job(alice, actual="0.10", estimated="0.08")
    make_job(alice, actual="0.02", status=Status.FAILED, error_code="refused")
    make_job(alice, slug="bytedance-seed/seedream-4.5", actual="0.04", confirmed="0.05")
    make_job(bob, actual="1.00")
    make_job(alice, actual="5.00", created_at=timezone.now() - timedelta(days=30))

    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = staff_client.get(
        "/admin/generation/job/",
        {"author__id__exact": alice.pk, "created_at__gte": since},
    )
    totals = response.context["totals"]
    assert (totals["charged"], totals["spend"]) == (Decimal("0.17"), Decimal("0.17"))
    assert totals["confirmed"] == Decimal("0.05")
    assert 'data-testid="job-totals"' in response.text
    assert "charged $0.1700" in response.text

    model_id = image_model("openai/gpt-image-1").pk
    by_model_and_status = staff_client.get(
        "/admin/generation/job/",
        {"model__id__exact": model_id, "status__exact": "succeeded", "author__id__exact": alice.pk},
    ).context
    assert by_model_and_status["cl"].result_count == 2
    assert by_model_and_status["totals"]["charged"] == Decimal("5.10")


def test_image_list_filters_and_counts_each_jobs_cost_once(
    staff_client: Client, make_user: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    make_job(alice, actual="0.12", images=3)
    make_job(bob, actual="0.04", images=1)

    response = staff_client.get("/admin/generation/image/", {"job__author__id__exact": alice.pk})

    assert response.context["cl"].result_count == 3
    assert response.context["totals"]["charged"] == Decimal("0.12")
    assert 'data-testid="image-totals"' in response.text
    everything = staff_client.get("/admin/generation/image/", {"job__status__exact": "succeeded"})
    assert everything.context["totals"]["charged"] == Decimal("0.16")


def test_job_list_filters_by_cost_confirmation(staff_client: Client, user: User) -> None:
    confirmed = make_job(
        user, style="chat", upstream_id="gen-a", confirmed="0.05", cost_confirmed_at=timezone.now()
    )
    waiting = make_job(user, style="chat", upstream_id="gen-b")
    given_up = make_job(user, style="chat", upstream_id="gen-c", cost_confirmed_at=timezone.now())
    make_job(user)  # Image API: nothing to confirm

    def listed(value: str) -> set[Any]:
        response = staff_client.get("/admin/generation/job/", {"confirmation": value})
        return {job.pk for job in response.context["cl"].result_list}

    assert listed("confirmed") == {confirmed.pk}
    assert listed("waiting") == {waiting.pk}
    assert listed("gave-up") == {given_up.pk}


def test_the_old_budget_admin_address_redirects_to_the_costs_app(staff_client: Client) -> None:
    response = staff_client.get("/admin/generation/budget/add/?next=x")
    assert response.status_code == 301
    assert response["Location"] == "/admin/costs/budget/add/?next=x"
    assert staff_client.get(response["Location"]).status_code == 200
