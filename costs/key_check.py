"""The OpenRouter key beside the app's ledger: ``GET /key`` through the client,
cached so the Costs page asks OpenRouter at most once a minute.

This is the Costs page's only network call; it lives here, behind the
OpenRouter client, so the page's selectors read only the database.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import (
    Q,
)
from django.utils import timezone
from redis.exceptions import RedisError

from costs import budgets
from costs.money import money_sum
from generation.models import (
    Job,
)
from generation.openrouter import OpenRouterError, client_from_settings

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


def cache_key() -> str:
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
    key = cache_key()
    try:
        answer = cache.get(key)
    except (RedisError, OSError):
        answer = None
    if answer is None:
        answer = _fetch_key()
        ttl = KEY_FAILURE_CACHE_SECONDS if answer["error"] else KEY_CACHE_SECONDS
        with contextlib.suppress(RedisError, OSError):
            cache.set(key, answer, ttl)

    def money(name: str) -> Decimal | None:
        value = answer.get(name)
        return None if value in (None, "") else Decimal(str(value))

    charged = budgets.charged_expression()
    ledger = Job.objects.aggregate(
        total=money_sum(charged),
        month=money_sum(charged, filter=Q(created_at__gte=budgets.month_start())),
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
