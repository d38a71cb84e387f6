from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from generation.models import FINAL_STATUSES, Batch, Image, Job
from generation.spending import RECONCILED_STYLES, charged_expression


def cost_totals(jobs: QuerySet[Job]) -> dict[str, Decimal]:
    """Estimated, charged (confirmed, else reported), confirmed and still-reserved
    totals of ``jobs``, and their spend (charged + reserved), as budgets count it."""
    totals = jobs.aggregate(
        estimated=Sum("estimated_cost"),
        charged=Sum(charged_expression()),
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
