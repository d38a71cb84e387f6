"""Reads for the Costs page: totals, breakdowns, money that bought nothing,
reconciliation, price changes and budgets.

Every figure is aggregated in the database (see ``costs.money`` for what spend
means); Python only loops over groups and page-sized lists. Nothing here calls
the network: the key check is ``costs.key_check``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Avg,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
)
from django.db.models.functions import Abs, Coalesce

from catalog.models import SyncRun
from catalog.selectors import ModelPriceChanges, price_changes
from costs import budgets
from costs.models import Budget
from costs.money import MONEY, PRIVATE_PROMPT, ZERO, money_sum, spend_expression
from costs.ranges import DateRange, images_in, jobs_in
from costs.reconcile import RECONCILED_STYLES
from generation.models import (
    FINAL_STATUSES,
    Image,
    Job,
    Status,
    Style,
)

LIST_LIMIT = 25


@dataclass(frozen=True)
class Totals:
    jobs: int
    images: int
    failed: int
    charged: Decimal
    reserved: Decimal
    estimated: Decimal
    confirmed_jobs: int

    @property
    def spend(self) -> Decimal:
        return self.charged + self.reserved


def totals(span: DateRange) -> Totals:
    row = jobs_in(span).aggregate(
        jobs=Count("pk"),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        charged=money_sum(budgets.charged_expression()),
        reserved=money_sum("reserved_cost"),
        estimated=money_sum("estimated_cost"),
        confirmed_jobs=Count("pk", filter=Q(confirmed_cost__isnull=False)),
    )
    return Totals(images=images_in(span).count(), **row)


@dataclass(frozen=True)
class SpendRow:
    key: str
    label: str
    jobs: int
    images: int
    charged: Decimal
    reserved: Decimal
    share: float  # of the range's spend, in percent
    bar: float  # relative to the largest row, 0-100, for the row's little bar

    @property
    def spend(self) -> Decimal:
        return self.charged + self.reserved


GROUPS = {
    # name: (job field to group by, field that labels the group)
    "person": ("author_id", "author__username"),
    "model": ("model_slug", "model_slug"),
    "provider": ("provider", "provider"),
    "style": ("style", "style"),
}
STYLE_LABELS = dict(Style.choices)


def spend_by(span: DateRange, group: str) -> list[SpendRow]:
    """Spend per person, model, provider or generation style, largest first."""
    key, label = GROUPS[group]
    rows = list(
        jobs_in(span)
        .values(key, label)
        .annotate(
            jobs=Count("pk"),
            charged=money_sum(budgets.charged_expression()),
            reserved=money_sum("reserved_cost"),
            spend=money_sum(spend_expression()),
        )
        .order_by("-spend", label)
    )
    images = dict(images_in(span).values_list(f"job__{key}").annotate(count=Count("pk")).order_by())
    total = sum((row["spend"] for row in rows), ZERO)
    largest = max((row["spend"] for row in rows), default=ZERO)
    result = []
    for row in rows:
        name = str(row[label] or "")
        if group == "style":
            name = STYLE_LABELS.get(name, name)
        result.append(
            SpendRow(
                key=str(row[key] or ""),
                label=name or "unknown",
                jobs=row["jobs"],
                images=images.get(row[key], 0),
                charged=row["charged"],
                reserved=row["reserved"],
                share=float(row["spend"] / total * 100) if total else 0.0,
                bar=float(row["spend"] / largest * 100) if largest else 0.0,
            )
        )
    return result


@dataclass(frozen=True)
class PromptRow:
    prompt: str
    author: str
    jobs: int
    models: int
    spend: Decimal
    last: datetime


def expensive_prompts(span: DateRange, limit: int = 10) -> list[PromptRow]:
    """The prompts that cost most in the range, a prompt sent several times (retries,
    comparisons, remixes with the same text) counted once. A private job's prompt is
    not shown: private work stays private everywhere but the Django admin."""
    rows = (
        jobs_in(span)
        .values("prompt", "author__username", "is_private")
        .annotate(
            jobs=Count("pk"),
            models=Count("model_slug", distinct=True),
            spend=money_sum(spend_expression()),
            last=Max("created_at"),
        )
        .filter(spend__gt=0)
        .order_by("-spend", "-last")[:limit]
    )
    return [
        PromptRow(
            prompt=PRIVATE_PROMPT if row["is_private"] else row["prompt"],
            author=row["author__username"],
            jobs=row["jobs"],
            models=row["models"],
            spend=row["spend"],
            last=row["last"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class AccuracyRow:
    model_slug: str
    jobs: int
    estimated: Decimal
    charged: Decimal
    mean_abs_error: Decimal

    @property
    def ratio(self) -> Decimal | None:
        """Charged per estimated dollar: 1.00 is a perfect estimate."""
        return self.charged / self.estimated if self.estimated else None

    @property
    def error_percent(self) -> float | None:
        """How far the estimates were off in total, in percent (positive: we underestimated)."""
        return (
            float((self.charged - self.estimated) / self.estimated * 100)
            if self.estimated
            else None
        )

    @property
    def verdict(self) -> str:
        error = self.error_percent
        if error is None:
            return "no estimate"
        if abs(error) < 5:
            return "accurate"
        return "underestimates" if error > 0 else "overestimates"


def estimate_accuracy(span: DateRange) -> list[AccuracyRow]:
    """Estimate against real charge per model, over succeeded jobs whose charge is
    known (failed ones are left out: a refusal's few cents say nothing of the estimate)."""
    charged = budgets.charged_expression()
    rows = (
        jobs_in(span)
        .filter(status=Status.SUCCEEDED)
        .filter(Q(actual_cost__isnull=False) | Q(confirmed_cost__isnull=False))
        .values("model_slug")
        .annotate(
            jobs=Count("pk"),
            estimated=money_sum("estimated_cost"),
            charged=money_sum(charged),
            mean_abs_error=Coalesce(
                Avg(
                    Abs(ExpressionWrapper(charged - F("estimated_cost"), output_field=MONEY)),
                    output_field=MONEY,
                ),
                ZERO,
                output_field=MONEY,
            ),
        )
        .order_by("-charged", "model_slug")
    )
    return [AccuracyRow(**row) for row in rows]


def _has_no_image() -> Any:
    """Jobs that never produced an image. A succeeded job stored its images, so
    it produced them even when they were deleted from the gallery later."""
    return ~Q(status=Status.SUCCEEDED) & ~Exists(Image.objects.filter(job=OuterRef("pk")))


@dataclass(frozen=True)
class ChargedJobs:
    """A list of jobs (at most ``LIST_LIMIT``) and the totals of all that qualified."""

    jobs: Sequence[Job]
    count: int
    charged: Decimal
    reserved: Decimal
    by_reason: Sequence[Mapping[str, Any]] = field(default_factory=list)

    @property
    def spend(self) -> Decimal:
        return self.charged + self.reserved


def charges_without_image(span: DateRange) -> ChargedJobs:
    """Finished jobs with no image that were charged (a refusal, a broken stream,
    an unreadable answer) or still hold a reservation for a charge of unknown size."""
    qualifying = (
        jobs_in(span)
        .filter(status__in=FINAL_STATUSES)
        .filter(_has_no_image())
        .annotate(charged=budgets.charged_expression())
        .filter(Q(charged__gt=0) | Q(reserved_cost__gt=0))
    )
    summary = qualifying.aggregate(
        count=Count("pk"), charged_sum=money_sum("charged"), reserved=money_sum("reserved_cost")
    )
    reasons = list(
        qualifying.values("error_code")
        .annotate(jobs=Count("pk"), spend=money_sum(spend_expression()))
        .order_by("-spend")
    )
    jobs = list(qualifying.select_related("author").order_by("-created_at")[:LIST_LIMIT])
    return ChargedJobs(
        jobs=jobs,
        count=summary["count"],
        charged=summary["charged_sum"],
        reserved=summary["reserved"],
        by_reason=reasons,
    )


def unknown_charges() -> ChargedJobs:
    """Finished jobs, of any date, that may have been charged an amount nobody has
    reported: their estimates stay reserved (and count as spend) until
    reconciliation confirms the charge or an administrator records it."""
    qualifying = Job.objects.filter(status__in=FINAL_STATUSES, reserved_cost__gt=0)
    summary = qualifying.aggregate(count=Count("pk"), reserved=money_sum("reserved_cost"))
    jobs = list(qualifying.select_related("author").order_by("created_at")[:LIST_LIMIT])
    return ChargedJobs(
        jobs=jobs, count=summary["count"], charged=ZERO, reserved=summary["reserved"]
    )


@dataclass(frozen=True)
class Reconciliation:
    confirmed: int
    confirmed_total: Decimal
    reported_total: Decimal
    differing: int
    pending: int
    gave_up: int
    differences: Sequence[Job]

    @property
    def difference(self) -> Decimal:
        return self.confirmed_total - self.reported_total

    @property
    def difference_abs(self) -> Decimal:
        return abs(self.difference)


def reconciliation(span: DateRange) -> Reconciliation:
    """How chat and tool jobs' reported costs compare with what GET /generation confirmed.

    A job reconciliation gave up on has ``cost_confirmed_at`` set and no
    ``confirmed_cost`` (see ``costs.reconcile``).
    """
    jobs = jobs_in(span)
    reported = Coalesce("actual_cost", ZERO, output_field=MONEY)
    differs = ~Q(confirmed_cost=F("actual_cost")) | Q(actual_cost__isnull=True)
    confirmed = jobs.filter(confirmed_cost__isnull=False)
    row = confirmed.aggregate(
        confirmed=Count("pk"),
        confirmed_total=money_sum("confirmed_cost"),
        reported_total=money_sum(reported),
        differing=Count("pk", filter=differs),
    )
    eligible = (
        jobs.filter(style__in=RECONCILED_STYLES, status__in=FINAL_STATUSES)
        .exclude(upstream_id="")
        .aggregate(
            pending=Count("pk", filter=Q(cost_confirmed_at__isnull=True)),
            gave_up=Count(
                "pk", filter=Q(cost_confirmed_at__isnull=False, confirmed_cost__isnull=True)
            ),
        )
    )
    differences = list(
        confirmed.filter(differs)
        .annotate(
            reported=reported,
            diff=ExpressionWrapper(F("confirmed_cost") - reported, output_field=MONEY),
            gap=Abs(F("diff")),
        )
        .select_related("author")
        .order_by("-gap", "-created_at")[:LIST_LIMIT]
    )
    return Reconciliation(differences=differences, **row, **eligible)


@dataclass(frozen=True)
class PriceReport:
    since: datetime
    last_sync: SyncRun | None
    models: list[ModelPriceChanges]

    def in_last_sync(self, change_at: datetime) -> bool:
        return self.last_sync is not None and change_at >= self.last_sync.started_at

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Per model: its changes, and whether the latest sync found any of them."""
        return [
            {
                "model": entry.model,
                "changes": entry.changes,
                "latest": self.in_last_sync(entry.last_changed),
            }
            for entry in self.models
        ]


def recent_price_changes(span: DateRange) -> PriceReport:
    """Price changes since the range began or since the last sync, whichever is earlier."""
    last = SyncRun.objects.order_by("-started_at").first()
    since = min(span.since, last.started_at) if last else span.since
    return PriceReport(since=since, last_sync=last, models=price_changes(since))


@dataclass(frozen=True)
class BudgetRow:
    """A person's (or, ``user`` None, the team's) budget and spend this month."""

    user: User | None
    budget: Decimal | None
    spent: Decimal

    @property
    def key(self) -> str:
        return "team" if self.user is None else str(self.user.pk)

    @property
    def label(self) -> str:
        return "Whole team" if self.user is None else self.user.get_username()

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else max(ZERO, self.budget - self.spent)

    @property
    def used_percent(self) -> float | None:
        if self.budget is None:
            return None
        if not self.budget:
            return 100.0 if self.spent else 0.0
        return min(100.0, float(self.spent / self.budget * 100))

    @property
    def over(self) -> bool:
        return self.budget is not None and self.spent > self.budget


def budget_rows() -> list[BudgetRow]:
    """The team's row, then every active person (and anyone with a budget) by name."""
    since = budgets.month_start()
    month = Job.objects.filter(created_at__gte=since)
    spent_by = dict(
        month.values_list("author_id").annotate(spend=money_sum(spend_expression())).order_by()
    )
    limits = {b.user_id: b.monthly_usd for b in Budget.objects.all()}
    team_budget = Budget.objects.filter(is_team=True).first()
    people = User.objects.filter(Q(is_active=True) | Q(budget__isnull=False)).order_by("username")
    rows = [
        BudgetRow(
            None,
            team_budget.monthly_usd if team_budget else None,
            budgets.spent(month),
        )
    ]
    rows += [
        BudgetRow(person, limits.get(person.pk), spent_by.get(person.pk, ZERO)) for person in people
    ]
    return rows
