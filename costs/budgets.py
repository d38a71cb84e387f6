"""Monthly budgets: a job's estimate is reserved when it is submitted, so that
concurrent submissions can never together spend past a budget.

Spend in a month = what jobs created that month were charged (confirmed by
reconciliation where available) + what is still reserved for jobs whose
charge is not known yet. ``reserve`` runs inside the submit transaction and
locks the budget rows it checks (in primary-key order, so two submitters
never deadlock), which serialises every submission that one budget governs:
the second one reads the first one's reservation. SQLite has no row locks,
but its writers are serialised by IMMEDIATE transactions (see settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from costs.models import Budget
from generation.models import Job
from generation.spending import SpendRefused, charged_expression, month_jobs, month_start

ZERO = Decimal(0)


class BudgetExceeded(SpendRefused):
    """The submission would take a budget past its limit; ``message`` says what is left."""

    def __init__(self, budget: Budget, spent: Decimal, requested: Decimal) -> None:
        self.budget = budget
        self.remaining = max(ZERO, budget.monthly_usd - spent)
        self.requested = requested
        whose = "the team's" if budget.is_team else "your"
        if self.remaining <= ZERO:
            left = "nothing is left this month"
            cost = f"${round_up(requested, money_places(requested)):f}"
        else:
            shown_left, cost = refusal_figures(self.remaining, requested)
            left = f"{shown_left} is left this month"
        self.message = (
            f"This would go over {whose} monthly budget of ${budget.monthly_usd:.2f}: "
            f"{left} and this costs about {cost}."
        )
        super().__init__(self.message)


def money_places(*amounts: Decimal) -> int:
    """Decimal places to show ``amounts`` with: cents when every one is whole
    cents, else four (the estimates' precision)."""
    cents = Decimal("0.01")
    return 2 if all(amount == amount.quantize(cents) for amount in amounts) else 4


def round_down(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def round_up(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_UP)


def refusal_figures(remaining: Decimal, requested: Decimal) -> tuple[str, str]:
    """What is left and what a refused submission costs, as ``$`` amounts with
    the same number of places. What is left is rounded down and the cost up, so
    when ``remaining < requested`` (why it was refused) the shown figures say so
    too: rounding can never make them equal or the other way round."""
    places = money_places(remaining, requested)
    return f"${round_down(remaining, places):f}", f"${round_up(requested, places):f}"


@dataclass(frozen=True)
class Standing:
    """Where one budget stands this month."""

    budget: Budget | None
    spent: Decimal

    @property
    def limit(self) -> Decimal | None:
        return self.budget.monthly_usd if self.budget else None

    @property
    def remaining(self) -> Decimal | None:
        return max(ZERO, self.budget.monthly_usd - self.spent) if self.budget else None

    @property
    def remaining_cents(self) -> Decimal | None:
        """What is left in whole cents, rounded down: never more than there is."""
        remaining = self.remaining
        return None if remaining is None else round_down(remaining, 2)


def spent(jobs: QuerySet[Job]) -> Decimal:
    totals = jobs.aggregate(charged=Sum(charged_expression()), reserved=Sum("reserved_cost"))
    return (totals["charged"] or ZERO) + (totals["reserved"] or ZERO)


def reserve(user: User, amount: Decimal) -> None:
    """Check ``amount`` fits every budget that governs ``user`` this month.

    Call inside the transaction that creates the jobs (with ``reserved_cost``
    set): the locks taken here are held until it commits. Raises
    ``BudgetExceeded`` naming how much is left.
    """
    budgets = Budget.objects.select_for_update().filter(Q(user=user) | Q(is_team=True))
    since = month_start()
    for budget in budgets.order_by("pk"):
        used = spent(month_jobs(None if budget.is_team else user, since))
        if used + amount > budget.monthly_usd:
            raise BudgetExceeded(budget, used, amount)


def standing(user: User) -> tuple[Standing, Standing]:
    """The user's own budget and the team's, this month (budget None: no limit set)."""
    since = month_start()
    own = Budget.objects.filter(user=user).first()
    team = Budget.objects.filter(is_team=True).first()
    return (
        Standing(own, spent(month_jobs(user, since))),
        Standing(team, spent(month_jobs(None, since))),
    )


def set_budget(user: User | None, monthly_usd: Decimal | None) -> Budget | None:
    """Set a person's monthly budget (``user`` None: the whole team's); None removes it.

    Takes effect on the next submission: ``budgets.reserve`` reads the row under
    a lock, so a submission in flight finishes against the old amount.
    """
    lookup: dict[str, Any] = {"user": user} if user is not None else {"is_team": True}
    with transaction.atomic():
        if monthly_usd is None:
            Budget.objects.filter(**lookup).delete()
            return None
        budget, _ = Budget.objects.update_or_create(defaults={"monthly_usd": monthly_usd}, **lookup)
    return budget
