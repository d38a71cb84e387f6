"""The Costs page's date ranges: presets, custom ranges from the query string, and
the jobs and images that belong to a range (by ``created_at``, as they belong to
a budget month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from generation.models import (
    Image,
    Job,
)
from webapp import inputs

# Ranges up to this many days are charted by day, longer ones by week.
DAILY_UP_TO_DAYS = 62
MAX_RANGE_DAYS = 3 * 366


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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


def images_in(span: DateRange) -> QuerySet[Image]:
    return Image.objects.filter(job__created_at__gte=span.since, job__created_at__lt=span.until)
