"""What a Generate submission would cost: the estimate of each model it would
queue, their total, and the monthly budgets that total would exceed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from catalog import estimates, selectors
from catalog.models import Endpoint, ImageModel
from generation import spending
from generation.models import Style


@dataclass(frozen=True)
class EstimateRow:
    """One model's share of a submission: its jobs' images and estimated cost."""

    model: ImageModel
    style: str
    images: int
    amount: Decimal


@dataclass(frozen=True)
class EstimateSummary:
    """The estimate of a whole submission, as the Generate page shows it."""

    primary: estimates.Estimate
    rows: list[EstimateRow]
    total: Decimal
    warnings: list[str] = field(default_factory=list)
    simulated: bool = False

    @property
    def over_budget(self) -> bool:
        return bool(self.warnings)


def estimate(
    target: Endpoint | ImageModel,
    style: str,
    params: Mapping[str, Any],
    cleaned: Mapping[str, Any],
) -> estimates.Estimate:
    """The estimate of one model's job with these options, references and prompt."""
    request = estimates.EstimateRequest.from_params(
        style=style,
        params=params,
        references=len(cleaned.get("reference_list") or []),
        prompt_chars=len(cleaned.get("prompt") or ""),
    )
    return estimates.estimate(target, request)


def compare_style(model: ImageModel) -> str | None:
    """The style a compared model runs in: the Image API, else Chat Completions."""
    offered = selectors.offered_styles(model)
    return next((style for style in (Style.IMAGES, Style.CHAT) if style in offered), None)


def summary(
    user: User,
    model: ImageModel | None,
    style: str,
    primary: estimates.Estimate | None,
    params: Mapping[str, Any],
    cleaned: Mapping[str, Any],
    compare: list[ImageModel],
) -> EstimateSummary | None:
    """Everything a submission would queue (the primary model with its ``n``,
    then each compared model), its total, and the budgets it would exceed."""
    if primary is None or model is None:
        return None
    n = estimates.EstimateRequest.from_params(style=style, params=params).n
    rows = [EstimateRow(model, style, n, primary.total)]
    for other in compare:
        other_style = compare_style(other)
        if other_style is None:
            continue
        endpoint = selectors.default_endpoint(other) if other_style == Style.IMAGES else None
        amount = estimate(endpoint or other, other_style, {}, cleaned).total
        rows.append(EstimateRow(other, other_style, 1, amount))
    total = sum((row.amount for row in rows), Decimal(0))
    warnings = []
    standings = spending.standing(user) or ()
    for standing, whose in zip(standings, ("your", "the team's"), strict=False):
        if standing.remaining is not None and total > standing.remaining:
            left, asked = spending.refusal_figures(standing.remaining, total)
            warnings.append(
                f"This would go over {whose} monthly budget: {left} is left and this "
                f"costs about {asked}. Generate will be refused."
            )
    return EstimateSummary(
        primary=primary,
        rows=rows,
        total=total,
        warnings=warnings,
        simulated=bool(settings.OPENROUTER_EMULATED),
    )
