"""Reads for the Costs page and its CSV ledger, plus the page's one write (a budget).

Spend means what ``costs.budgets`` counts against a budget: a job's
charge (the cost reconciliation confirmed, else the cost OpenRouter reported
with the answer) plus whatever is still reserved for it (its estimate, while
the charge is not known yet). Jobs belong to a range by ``created_at``, as
they do to a budget month. Every figure is aggregated in the database; Python
only loops over groups, buckets and page-sized lists.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Abs, Coalesce, TruncDate, TruncWeek
from django.utils import timezone
from redis.exceptions import RedisError

from catalog.models import SyncRun
from catalog.selectors import ModelPriceChanges, price_changes
from costs import budgets
from costs.models import Budget
from costs.reconcile import RECONCILED_STYLES
from gallery.models import BoardItem
from generation.models import (
    FINAL_STATUSES,
    MONEY_DIGITS,
    MONEY_PLACES,
    Image,
    Job,
    Status,
    Style,
)
from generation.openrouter import OpenRouterError, client_from_settings
from webapp import inputs

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)
# Ranges up to this many days are charted by day, longer ones by week.
DAILY_UP_TO_DAYS = 62
MAX_RANGE_DAYS = 3 * 366
LIST_LIMIT = 25
PRIVATE_PROMPT = "(private prompt)"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def spend_expression() -> ExpressionWrapper:
    """A job's spend: its charge plus what is still reserved for it."""
    return ExpressionWrapper(budgets.charged_expression() + F("reserved_cost"), output_field=MONEY)


def _sum(expression: Any, **extra: Any) -> Coalesce:
    return Coalesce(Sum(expression, **extra), ZERO, output_field=MONEY)


# Ranges


PRESETS = {
    "month": "This month",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
}


@dataclass(frozen=True)
class DateRange:
    """Whole days, ``start`` to ``end`` inclusive, in the site's time zone."""

    start: date
    end: date
    preset: str = ""  # "" for a custom range

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bucket(self) -> str:
        return "day" if self.days <= DAILY_UP_TO_DAYS else "week"

    @property
    def label(self) -> str:
        return PRESETS.get(self.preset, "Custom range")

    def query(self) -> dict[str, str]:
        """The URL parameters that select this range."""
        if self.preset:
            return {"range": self.preset}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def preset_range(preset: str, today: date | None = None) -> DateRange:
    today = today or timezone.localdate()
    if preset == "30d":
        return DateRange(today - timedelta(days=29), today, preset)
    if preset == "90d":
        return DateRange(today - timedelta(days=89), today, preset)
    return DateRange(today.replace(day=1), today, "month")


def parse_range(params: Any, today: date | None = None) -> tuple[DateRange, list[str]]:
    """The range a query string asks for (``range=month|30d|90d`` or ``from``/``to``
    as YYYY-MM-DD) and what was wrong with it; a bad range falls back to this month."""
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    if not raw_from and not raw_to:
        preset = params.get("range", "month")
        if preset not in PRESETS:
            return preset_range("month", today), [f"Unknown range “{preset}”; showing this month."]
        return preset_range(preset, today), []
    try:
        start = _plain_date(raw_from) if raw_from else None
        end = _plain_date(raw_to) if raw_to else None
    except inputs.BadInput as exc:  # before ValueError, which it is
        return preset_range("month", today), [f"{exc.message} Showing this month."]
    except ValueError:
        return preset_range("month", today), [
            "Dates must look like 2026-03-31; showing this month."
        ]
    today = today or timezone.localdate()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        return preset_range("month", today), [
            "The start date is after the end date; showing this month."
        ]
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return preset_range("month", today), [
            f"A range can be at most {MAX_RANGE_DAYS} days long; showing this month."
        ]
    return DateRange(start, end), []


def _plain_date(raw: str) -> date:
    """A ``YYYY-MM-DD`` date (``fromisoformat`` also takes ``2026W011`` and the
    like), within the dates a range can use. Raises ValueError or ``BadInput``."""
    if not _ISO_DATE.fullmatch(raw):
        raise ValueError(raw)
    return inputs.bounded_date(date.fromisoformat(raw))


def jobs_in(span: DateRange) -> QuerySet[Job]:
    return Job.objects.filter(created_at__gte=span.since, created_at__lt=span.until)


def _images_in(span: DateRange) -> QuerySet[Image]:
    return Image.objects.filter(job__created_at__gte=span.since, job__created_at__lt=span.until)


# Totals


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
        charged=_sum(budgets.charged_expression()),
        reserved=_sum("reserved_cost"),
        estimated=_sum("estimated_cost"),
        confirmed_jobs=Count("pk", filter=Q(confirmed_cost__isnull=False)),
    )
    return Totals(images=_images_in(span).count(), **row)


# Spend over time


@dataclass(frozen=True)
class Bar:
    start: date
    charged: Decimal
    reserved: Decimal
    x: float
    width: float
    center: float
    charged_y: float
    charged_height: float
    reserved_y: float
    reserved_height: float
    label: str  # empty when this bar's axis label is skipped to avoid crowding
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A bar chart's geometry, computed here and drawn by the template as SVG."""

    bucket: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int
    height: int
    left: int
    baseline: float
    right: float
    total: Decimal

    @property
    def top(self) -> int:
        return CHART_TOP

    @property
    def plot_height(self) -> float:
        return self.baseline - CHART_TOP

    @property
    def label_y(self) -> int:
        return self.height - 8

    @property
    def tick_x(self) -> int:
        return self.left - 8

    @property
    def has_spend(self) -> bool:
        return self.total > 0


CHART_WIDTH, CHART_HEIGHT = 1200, 260
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 64, 8, 12, 28
MAX_AXIS_LABELS = 12


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return Decimal(1)
    exponent = math.floor(math.log10(value))
    for step in (1, 2, Decimal("2.5"), 5, 10):
        candidate = Decimal(step).scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover - 10 always fits


def _money_label(value: Decimal, step: Decimal) -> str:
    places = max(2, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
    return f"${value:.{places}f}"


def _bucket_starts(span: DateRange) -> list[date]:
    if span.bucket == "day":
        return [span.start + timedelta(days=i) for i in range(span.days)]
    first = span.start - timedelta(days=span.start.weekday())
    return [first + timedelta(weeks=i) for i in range((span.end - first).days // 7 + 1)]


def spend_over_time(span: DateRange) -> Chart:
    """Charged and still-reserved spend per day (per ISO week, Monday first, for
    ranges over ``DAILY_UP_TO_DAYS`` days), every bucket present, empty ones as 0."""
    zone = timezone.get_current_timezone()
    trunc = (
        TruncDate("created_at", tzinfo=zone)
        if span.bucket == "day"
        else TruncWeek("created_at", tzinfo=zone)
    )
    rows = (
        jobs_in(span)
        .annotate(bucket=trunc)
        .values("bucket")
        .annotate(charged=_sum(budgets.charged_expression()), reserved=_sum("reserved_cost"))
        .order_by("bucket")
    )
    found: dict[date, tuple[Decimal, Decimal]] = {}
    for row in rows:
        key = row["bucket"]
        if isinstance(key, datetime):
            key = key.astimezone(zone).date()
        found[key] = (row["charged"], row["reserved"])
    starts = _bucket_starts(span)
    peak = max((sum(found.get(s, (ZERO, ZERO))) for s in starts), default=ZERO)
    ceiling = _nice_ceiling(Decimal(peak))
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    baseline = float(CHART_TOP + plot_height)
    step = plot_width / len(starts)
    bar_width = max(1.0, step * 0.72)
    label_every = math.ceil(len(starts) / MAX_AXIS_LABELS)

    def height(amount: Decimal) -> float:
        return round(float(amount / ceiling) * plot_height, 2)

    bars = []
    for index, start in enumerate(starts):
        charged, reserved = found.get(start, (ZERO, ZERO))
        charged_height, reserved_height = height(charged), height(reserved)
        when = f"{start.day} {start:%b %Y}"
        if span.bucket == "week":
            when = f"week of {when}"
        title = f"{when}: ${charged:.4f} charged"
        if reserved:
            title += f", ${reserved:.4f} still reserved"
        bars.append(
            Bar(
                start=start,
                charged=charged,
                reserved=reserved,
                x=round(CHART_LEFT + index * step + (step - bar_width) / 2, 2),
                width=round(bar_width, 2),
                center=round(CHART_LEFT + index * step + step / 2, 2),
                charged_y=round(baseline - charged_height, 2),
                charged_height=charged_height,
                reserved_y=round(baseline - charged_height - reserved_height, 2),
                reserved_height=reserved_height,
                label=f"{start.day} {start:%b}" if index % label_every == 0 else "",
                title=title,
            )
        )
    tick_step = ceiling / 4
    ticks = [
        Tick(
            y=round(baseline - plot_height * i / 4, 2),
            label=_money_label(tick_step * i, tick_step),
        )
        for i in range(5)
    ]
    total = sum((charged + reserved for charged, reserved in found.values()), ZERO)
    return Chart(
        bucket=span.bucket,
        bars=bars,
        ticks=ticks,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        baseline=baseline,
        right=float(CHART_WIDTH - CHART_RIGHT),
        total=total,
    )


# Breakdowns


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
            charged=_sum(budgets.charged_expression()),
            reserved=_sum("reserved_cost"),
            spend=_sum(spend_expression()),
        )
        .order_by("-spend", label)
    )
    images = dict(
        _images_in(span).values_list(f"job__{key}").annotate(count=Count("pk")).order_by()
    )
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
            spend=_sum(spend_expression()),
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
            estimated=_sum("estimated_cost"),
            charged=_sum(charged),
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


# Money that bought nothing, and reconciliation


def _has_no_image() -> Any:
    return ~Exists(Image.objects.filter(job=OuterRef("pk")))


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
        count=Count("pk"), charged_sum=_sum("charged"), reserved=_sum("reserved_cost")
    )
    reasons = list(
        qualifying.values("error_code")
        .annotate(jobs=Count("pk"), spend=_sum(spend_expression()))
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
    summary = qualifying.aggregate(count=Count("pk"), reserved=_sum("reserved_cost"))
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
        confirmed_total=_sum("confirmed_cost"),
        reported_total=_sum(reported),
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


# The OpenRouter key


KEY_CACHE_SECONDS = 60
KEY_FAILURE_CACHE_SECONDS = 15


@dataclass(frozen=True)
class KeyStatus:
    """``GET /key`` beside the app's own ledger. ``error`` is set when the key could
    not be read; the figures from OpenRouter are then None."""

    app_total: Decimal  # every charge the app has recorded, all time
    app_month: Decimal  # the same, this calendar month
    usage: Decimal | None = None
    usage_monthly: Decimal | None = None
    limit: Decimal | None = None
    limit_remaining: Decimal | None = None
    error: str = ""
    checked_at: datetime | None = None

    @property
    def difference(self) -> Decimal | None:
        """Key usage not in the app's ledger (positive) or in the ledger but not on
        the key (negative): other apps on the key, charges we never learnt, or a
        ledger older than the key."""
        return None if self.usage is None else self.usage - self.app_total

    @property
    def difference_abs(self) -> Decimal | None:
        return None if self.difference is None else abs(self.difference)

    @property
    def monthly_difference(self) -> Decimal | None:
        return None if self.usage_monthly is None else self.usage_monthly - self.app_month


def _key_cache_key() -> str:
    from django.conf import settings

    return f"costs:openrouter-key:{settings.OPENROUTER_BASE_URL}"


def _fetch_key() -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    try:
        with client_from_settings() as client:
            client.max_duration = 10.0  # a page waits for this; cached, so rarely
            info = client.get_key()
    except OpenRouterError as exc:
        return {"error": exc.user_message, "checked_at": timezone.now().isoformat()}
    monthly = info.raw.get("usage_monthly")
    return {
        "usage": text(info.usage),
        "usage_monthly": text(monthly) if isinstance(monthly, int | float | str) else None,
        "limit": text(info.limit),
        "limit_remaining": text(info.limit_remaining),
        # Not the label: OpenRouter's label is the key with its middle masked, and
        # nothing of the key goes to a browser.
        "error": "",
        "checked_at": timezone.now().isoformat(),
    }


def key_status() -> KeyStatus:
    """The key's usage and limit (cached for a minute; a failure for 15 s) and the
    app's ledger totals. Never raises for OpenRouter or cache trouble."""
    cache_key = _key_cache_key()
    try:
        answer = cache.get(cache_key)
    except (RedisError, OSError):
        answer = None
    if answer is None:
        answer = _fetch_key()
        ttl = KEY_FAILURE_CACHE_SECONDS if answer["error"] else KEY_CACHE_SECONDS
        with contextlib.suppress(RedisError, OSError):
            cache.set(cache_key, answer, ttl)

    def money(name: str) -> Decimal | None:
        value = answer.get(name)
        return None if value in (None, "") else Decimal(str(value))

    charged = budgets.charged_expression()
    ledger = Job.objects.aggregate(
        total=_sum(charged),
        month=_sum(charged, filter=Q(created_at__gte=budgets.month_start())),
    )
    return KeyStatus(
        app_total=ledger["total"],
        app_month=ledger["month"],
        usage=money("usage"),
        usage_monthly=money("usage_monthly"),
        limit=money("limit"),
        limit_remaining=money("limit_remaining"),
        error=answer.get("error", ""),
        checked_at=datetime.fromisoformat(answer["checked_at"])
        if answer.get("checked_at")
        else None,
    )


# Prices


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


# Budgets


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
        month.values_list("author_id").annotate(spend=_sum(spend_expression())).order_by()
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


# The CSV ledger


LEDGER_HEADER = [
    "row_type",
    "job_id",
    "created_at",
    "author",
    "prompt",
    "private",
    "model",
    "provider",
    "style",
    "status",
    "error_code",
    "estimated_cost",
    "actual_cost",
    "confirmed_cost",
    "reserved_cost",
    "charged",
    "upstream_id",
    "image_id",
    "image_index",
    "width",
    "height",
    "media_type",
    "bytes",
    "boards",
]
# A spreadsheet runs a cell that starts like a formula: =, +, -, @, and tab or CR
# (which some programs strip before looking). A leading quote makes it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def ledger_rows(span: DateRange) -> Iterator[list[str]]:
    """The header, then for every job in the range (oldest first) a ``job`` row with
    its costs, followed by one ``image`` row per stored image. Image rows repeat the
    job's descriptive columns but leave the money columns empty, so that summing a
    money column over the whole file gives the ledger's total. Boards belong to
    images; a job row lists the boards of all its images."""
    yield LEDGER_HEADER
    items = Prefetch("board_items", queryset=BoardItem.objects.select_related("board"))
    jobs = (
        jobs_in(span)
        .select_related("author")
        .annotate(charged=budgets.charged_expression())
        .prefetch_related(
            Prefetch("images", queryset=Image.objects.order_by("index").prefetch_related(items))
        )
        .order_by("created_at", "pk")
    )
    for job in jobs.iterator(chunk_size=500):
        images = list(job.images.all())
        boards = {
            image.pk: sorted({item.board.name for item in image.board_items.all()})
            for image in images
        }
        descriptive = [
            str(job.pk),
            timezone.localtime(job.created_at).isoformat(),
            job.author.get_username(),
            PRIVATE_PROMPT if job.is_private else job.prompt,
            "yes" if job.is_private else "no",
            job.model_slug,
            job.provider,
            job.style,
            job.status,
            job.error_code,
        ]
        money = [
            _money_text(job.estimated_cost),
            _money_text(job.actual_cost),
            _money_text(job.confirmed_cost),
            _money_text(job.reserved_cost),
            _money_text(job.charged),
        ]
        job_boards = sorted({name for names in boards.values() for name in names})
        yield [
            csv_safe(v)
            for v in [
                "job",
                *descriptive,
                *money,
                job.upstream_id,
                *[""] * 6,  # the image columns
                "; ".join(job_boards),
            ]
        ]
        for image in images:
            yield [
                csv_safe(v)
                for v in [
                    "image",
                    *descriptive,
                    *[""] * len(money),
                    job.upstream_id,
                    str(image.pk),
                    image.index,
                    image.width,
                    image.height,
                    image.media_type,
                    image.bytes,
                    "; ".join(boards[image.pk]),
                ]
            ]
