from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from generation import budgets
from generation.models import FINAL_STATUSES, Batch, Budget, Image, Job
from generation.reconcile import RECONCILED_STYLES


def cost_totals(jobs: QuerySet[Job]) -> dict[str, Decimal]:
    """Estimated, charged (confirmed, else reported), confirmed and still-reserved
    totals of ``jobs``, and their spend (charged + reserved), as budgets count it."""
    totals = jobs.aggregate(
        estimated=Sum("estimated_cost"),
        charged=Sum(budgets.charged_expression()),
        confirmed=Sum("confirmed_cost"),
        reserved=Sum("reserved_cost"),
    )
    result = {name: value or Decimal(0) for name, value in totals.items()}
    result["spend"] = result["charged"] + result["reserved"]
    return result


def _with_totals(response: HttpResponse, totals: Any) -> HttpResponse:
    if isinstance(response, TemplateResponse) and response.context_data:
        changelist = response.context_data.get("cl")
        if changelist is not None:
            response.context_data["totals"] = totals(changelist.queryset)
    return response


class CostConfirmedFilter(admin.SimpleListFilter):
    title = "cost confirmation"
    parameter_name = "confirmation"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("confirmed", "Confirmed by OpenRouter"),
            ("waiting", "Waiting (chat and tool jobs)"),
            ("gave-up", "Given up"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        match self.value():
            case "confirmed":
                return queryset.filter(confirmed_cost__isnull=False)
            case "waiting":
                return queryset.filter(
                    style__in=RECONCILED_STYLES,
                    status__in=FINAL_STATUSES,
                    cost_confirmed_at__isnull=True,
                ).exclude(upstream_id="")
            case "gave-up":
                return queryset.filter(cost_confirmed_at__isnull=False, confirmed_cost__isnull=True)
        return queryset


class ImageInline(admin.TabularInline):
    model = Image
    extra = 0
    can_delete = False
    fields = ("index", "media_type", "width", "height", "bytes", "sha256", "original_key")
    readonly_fields = fields


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "author",
        "model_slug",
        "style",
        "status",
        "estimated_cost",
        "actual_cost",
        "confirmed_cost",
        "reserved_cost",
        "provider",
    )
    list_filter = (
        "status",
        "style",
        "created_at",
        ("author", admin.RelatedOnlyFieldListFilter),
        ("model", admin.RelatedOnlyFieldListFilter),
        "provider",
        CostConfirmedFilter,
    )
    search_fields = ("prompt", "model_slug", "upstream_id", "author__username")
    date_hierarchy = "created_at"
    list_select_related = ("author",)
    readonly_fields = [field.name for field in Job._meta.fields]
    inlines = [ImageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the Generate page or the API, with their checks

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        """The list, with the cost totals of every job the filters select (all pages)."""
        return _with_totals(super().changelist_view(request, extra_context), cost_totals)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "job",
        "author",
        "model_slug",
        "status",
        "width",
        "height",
        "bytes",
    )
    list_filter = (
        "job__status",
        "created_at",
        ("job__author", admin.RelatedOnlyFieldListFilter),
        ("job__model", admin.RelatedOnlyFieldListFilter),
        "media_type",
    )
    search_fields = ("job__prompt", "sha256")
    list_select_related = ("job", "job__author")
    readonly_fields = [field.name for field in Image._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(ordering="job__author__username")
    def author(self, image: Image) -> str:
        return image.job.author.get_username()

    @admin.display(description="model", ordering="job__model_slug")
    def model_slug(self, image: Image) -> str:
        return image.job.model_slug

    @admin.display(ordering="job__status")
    def status(self, image: Image) -> str:
        return image.job.get_status_display()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        """The list, with the cost totals of the jobs behind the selected images (a
        job with several images is counted once)."""

        def totals(images: QuerySet[Image]) -> dict[str, Decimal]:
            return cost_totals(Job.objects.filter(pk__in=images.values("job_id")))

        return _with_totals(super().changelist_view(request, extra_context), totals)


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("created_at", "author", "prompt")
    search_fields = ("prompt",)


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
