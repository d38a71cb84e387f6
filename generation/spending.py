"""What job creation asks before it spends money: the spending policy.

``generation`` knows only this interface. The ``costs`` app installs the real
policy, its monthly budgets, when Django starts (``CostsConfig.ready``), so
jobs never import costs and costs is free to read jobs. With no policy
installed nothing is limited and no standing is shown.

The charge of a job, as budgets, the ledger, the gallery and the admin all
count it, is a fact about the job and lives here too (``charged_expression``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.db.models import DecimalField, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from generation.models import MONEY_DIGITS, MONEY_PLACES, Job, Style

ZERO = Decimal(0)
# Chat and tool answers carry a ``gen-…`` id whose cost ``GET /generation``
# confirms; the Image API's carry none, so its jobs keep the reported cost.
RECONCILED_STYLES = (Style.CHAT, Style.TOOL_CHAT, Style.TOOL_RESPONSES)


class SpendRefused(Exception):
    """The policy refuses the spend; ``message`` is a sentence for the person."""

    message: str


class SpendPolicy(Protocol):
    def reserve(self, user: User, amount: Decimal) -> None:
        """Check ``amount`` may be spent by ``user``; raise ``SpendRefused`` if not.

        Called inside the transaction that creates the jobs, whose
        ``reserved_cost`` is set: locks taken here are held until it commits."""

    def standing(self, user: User) -> Any:
        """What the Generate page shows about ``user``'s spending (None: nothing);
        the budgets policy answers ``(own, team)`` standings with ``remaining``."""

    def refusal_figures(self, remaining: Decimal, requested: Decimal) -> tuple[str, str]:
        """What is left and what a refused spend costs, as amounts to show."""


class _Unlimited:
    def reserve(self, user: User, amount: Decimal) -> None:
        return None

    def standing(self, user: User) -> Any:
        return None

    def refusal_figures(self, remaining: Decimal, requested: Decimal) -> tuple[str, str]:
        return f"${remaining:f}", f"${requested:f}"


_policy: SpendPolicy = _Unlimited()


def install(policy: SpendPolicy) -> None:
    """Make ``policy`` the one job creation asks (an app's ``ready()`` calls this)."""
    global _policy
    _policy = policy


def reserve(user: User, amount: Decimal) -> None:
    _policy.reserve(user, amount)


def standing(user: User) -> Any:
    return _policy.standing(user)


def refusal_figures(remaining: Decimal, requested: Decimal) -> tuple[str, str]:
    return _policy.refusal_figures(remaining, requested)


def month_start(now: datetime | None = None) -> datetime:
    """Midnight on the first of this month, local time: where monthly budgets start."""
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_jobs(user: User | None, since: datetime | None = None) -> QuerySet[Job]:
    """This month's jobs (since ``since``), of ``user`` or (None) of everyone."""
    jobs = Job.objects.filter(created_at__gte=since or month_start())
    return jobs.filter(author=user) if user is not None else jobs


def charged_expression() -> Coalesce:
    """A job's charge: confirmed by reconciliation, else as reported, else nothing yet."""
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    return Coalesce("confirmed_cost", "actual_cost", Value(ZERO), output_field=money)
