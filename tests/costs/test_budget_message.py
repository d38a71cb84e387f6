"""A budget refusal never contradicts itself through rounding (issue 15, item 8):
what is left and what the submission costs are shown with the same precision,
left rounded down and cost rounded up, so the figures agree with the refusal."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from costs.budgets import BudgetExceeded, Standing
from costs.models import Budget


def _figures(message: str) -> tuple[Decimal, Decimal]:
    left, cost = re.findall(r"\$([0-9.]+) is left.*about \$([0-9.]+)\.", message)[0]
    return Decimal(left), Decimal(cost)


def test_the_reported_case_shows_both_amounts_to_four_places() -> None:
    refusal = BudgetExceeded(
        Budget(monthly_usd=Decimal("10.00")), Decimal("9.965"), Decimal("0.0387")
    )

    assert "$0.0350 is left this month and this costs about $0.0387." in refusal.message


def test_whole_cents_are_shown_as_cents() -> None:
    refusal = BudgetExceeded(Budget(monthly_usd=Decimal("0.10")), Decimal("0.08"), Decimal("0.04"))

    assert "$0.02 is left this month and this costs about $0.04." in refusal.message


@pytest.mark.parametrize(
    ("spent", "requested"),
    [
        ("9.965", "0.0387"),
        ("9.96126", "0.03875"),  # left 0.03874: both would show 0.0387 when rounded
        ("9.99994", "0.00006001"),
        ("9.5", "0.50000001"),
        ("0", "10.00000001"),
    ],
)
def test_the_shown_amount_left_is_always_below_the_shown_cost(spent: str, requested: str) -> None:
    refusal = BudgetExceeded(Budget(monthly_usd=Decimal("10")), Decimal(spent), Decimal(requested))

    left, cost = _figures(refusal.message)

    assert refusal.remaining < refusal.requested  # why it was refused
    assert left < cost
    assert left <= refusal.remaining
    assert cost >= refusal.requested
    assert len(str(left).split(".")[1]) == len(str(cost).split(".")[1])


def test_an_exhausted_budget_says_nothing_is_left() -> None:
    refusal = BudgetExceeded(Budget(monthly_usd=Decimal("1")), Decimal("1.2"), Decimal("0"))

    assert "nothing is left this month and this costs about $0.00." in refusal.message


def test_the_spend_panel_never_shows_more_left_than_there_is() -> None:
    standing = Standing(Budget(monthly_usd=Decimal("10")), Decimal("9.965"))

    assert standing.remaining_cents == Decimal("0.03")
