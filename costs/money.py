"""Money on the Costs page: a job's spend as a database expression, and sums that are never NULL.

Spend means what ``costs.budgets`` counts against a budget: a job's charge (the
cost reconciliation confirmed, else the cost OpenRouter reported with the
answer) plus whatever is still reserved for it (its estimate, while the
charge is not known yet).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    Sum,
)
from django.db.models.functions import Coalesce

from costs import budgets
from generation.models import (
    MONEY_DIGITS,
    MONEY_PLACES,
)

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)


PRIVATE_PROMPT = "(private prompt)"


def spend_expression() -> ExpressionWrapper:
    """A job's spend: its charge plus what is still reserved for it."""
    return ExpressionWrapper(budgets.charged_expression() + F("reserved_cost"), output_field=MONEY)


def money_sum(expression: Any, **extra: Any) -> Coalesce:
    return Coalesce(Sum(expression, **extra), ZERO, output_field=MONEY)
