"""The Budget admin: staff set monthly limits here as well as on the Costs page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin

from costs import budgets
from costs.models import Budget


class BudgetAdminForm(forms.ModelForm):
    """A person's budget, or with "whole team" ticked the team's (``is_team`` is not
    editable on the model: the form sets it, with no user)."""

    whole_team = forms.BooleanField(
        required=False,
        label="Whole team",
        help_text="The team's budget, shared by everyone, instead of one person's.",
    )

    monthly_usd = forms.DecimalField(
        label="Monthly budget (USD)",
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        error_messages={"min_value": "A budget cannot be negative."},
    )

    class Meta:
        model = Budget
        fields = ("whole_team", "user", "monthly_usd")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["whole_team"].initial = self.instance.is_team
            self.fields["whole_team"].disabled = True
        self.fields["user"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        team = cleaned.get("whole_team") if not self.instance.pk else self.instance.is_team
        user = cleaned.get("user")
        if team and user is not None:
            self.add_error("user", "Leave the person empty for the whole team's budget.")
        elif not team and user is None:
            self.add_error("user", "Choose a person, or tick “Whole team”.")
        elif team and not self.instance.pk and Budget.objects.filter(is_team=True).exists():
            self.add_error("whole_team", "There is already a team budget; edit that one.")
        self.instance.is_team = bool(team)
        return cleaned


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """Monthly budgets. Staff can also set them on the Costs page."""

    form = BudgetAdminForm
    list_display = ("who", "monthly_usd", "spent_this_month", "left_this_month", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    ordering = ("-is_team", "user__username")

    @admin.display(description="Who", ordering="user__username")
    def who(self, budget: Budget) -> str:
        return (
            "Whole team" if budget.is_team else budget.user.get_username() if budget.user else "?"
        )

    def _spent(self, budget: Budget) -> Decimal:
        return budgets.spent(budgets.month_jobs(None if budget.is_team else budget.user))

    @admin.display(description="Spent this month")
    def spent_this_month(self, budget: Budget) -> str:
        return f"${self._spent(budget):.2f}"

    @admin.display(description="Left this month")
    def left_this_month(self, budget: Budget) -> str:
        return f"${max(Decimal(0), budget.monthly_usd - self._spent(budget)):.2f}"
