"""Spend over time: the Costs page's bar chart, by day or by week, with round ticks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from costs import budgets
from costs.money import ZERO, money_sum
from costs.ranges import DateRange, jobs_in


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
        .annotate(
            charged=money_sum(budgets.charged_expression()), reserved=money_sum("reserved_cost")
        )
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
