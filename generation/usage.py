"""Reads behind "My usage" and the comparison view: a member's own spend."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, F, Sum
from django.db.models.functions import Coalesce

from generation import spending
from generation.models import Job

JOBS_PER_PAGE = 25
TOP_JOBS = 10
ZERO = Decimal(0)


def spend_of(job: Job) -> Decimal:
    """What a job counts against budgets: its charge, plus whatever is still held."""
    return (job.charge or ZERO) + job.reserved_cost


def batch_total(jobs: Sequence[Job]) -> Decimal:
    """The spend of a comparison's jobs together."""
    return sum((spend_of(job) for job in jobs), ZERO)


def _spend() -> Any:
    money = DecimalField(max_digits=14, decimal_places=8)
    return Coalesce("confirmed_cost", "actual_cost", ZERO, output_field=money) + F("reserved_cost")


def usage_for(user: User, page: str | None) -> dict[str, Any]:
    """The context of the My usage page: ``own``/``team`` standings this month,
    ``by_model`` (model slug and name, jobs, spend; most spent first), ``top_jobs`` (this
    month's most expensive), and ``jobs``, a page of every job of the user,
    newest first (an unreadable page number reads as the first or last page)."""
    own, team = spending.standing(user) or (None, None)
    month = spending.month_jobs(user).annotate(spend=_spend())
    by_model = list(
        month.values("model_slug", name=F("model__name"))
        .annotate(jobs=Count("pk"), total=Sum("spend"))
        .order_by("-total", "model_slug")
    )
    top_jobs = list(
        month.filter(spend__gt=0)
        .select_related("model")
        .order_by("-spend", "-created_at")[:TOP_JOBS]
    )
    jobs = (
        Job.objects.filter(author=user)
        .select_related("model")
        .prefetch_related("images")
        .order_by("-created_at")
    )
    return {
        "own": own,
        "team": team,
        "by_model": by_model,
        "top_jobs": top_jobs,
        "jobs_page": Paginator(jobs, JOBS_PER_PAGE).get_page(page),
        "month_start": spending.month_start(),
    }
