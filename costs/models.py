"""Budgets: the monthly limits job creation checks spend against (see ``costs.budgets``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from generation.models import MONEY_DIGITS


class Budget(models.Model):
    """A monthly spending limit in USD: one per person, and one (user empty) for the team."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget",
        help_text="Leave empty for the whole team's budget.",
    )
    monthly_usd = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2)
    is_team = models.BooleanField(default=False, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One team budget: a partial unique index works on PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                fields=["is_team"],
                condition=models.Q(is_team=True),
                name="one_team_budget",
                violation_error_message="There is already a team budget.",
            ),
            models.CheckConstraint(
                condition=models.Q(is_team=True, user__isnull=True)
                | models.Q(is_team=False, user__isnull=False),
                name="team_budget_has_no_user",
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_usd__gte=0), name="budget_not_negative"
            ),
        ]

    def __str__(self) -> str:
        who = self.user.get_username() if self.user else "Team"
        return f"{who}: ${self.monthly_usd}/month"
