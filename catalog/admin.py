"""The catalog in the admin: read-only. The sync owns these rows; editing them by
hand would be overwritten at the next sync, and nothing is ever deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from catalog.models import Endpoint, ImageModel, Price, SyncRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RetiredFilter(admin.SimpleListFilter):
    title = "retired"
    parameter_name = "retired"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Current"), ("yes", "Retired")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "no":
            return queryset.filter(retired_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(retired_at__isnull=False)
        return queryset


class EndpointInline(admin.TabularInline):
    model = Endpoint
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("provider_name", "provider_slug", "provider_tag", "supports_streaming", "retired_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImageModel)
class ImageModelAdmin(ReadOnlyAdmin):
    list_display = [
        "slug",
        "name",
        "supports_streaming",
        "image_api",
        "headline_price",
        "first_seen",
        "retired_at",
    ]
    list_filter = [RetiredFilter, "supports_streaming", "image_api"]
    search_fields = ["slug", "name"]
    inlines = [EndpointInline]


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["model", "provider_name", "provider_slug", "supports_streaming", "retired_at"]
    list_filter = [RetiredFilter, "supports_streaming", "provider_name"]
    search_fields = ["model__slug", "provider_name", "provider_slug"]
    list_select_related = ["model"]


@admin.register(Price)
class PriceAdmin(ReadOnlyAdmin):
    list_display = [
        "model",
        "endpoint",
        "source",
        "billable",
        "variant",
        "unit",
        "cost_usd",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["source", "billable", "unit"]
    search_fields = ["model__slug", "endpoint__provider_name"]
    list_select_related = ["model", "endpoint", "endpoint__model"]
    date_hierarchy = "valid_from"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "trigger", "status", "added", "changed", "retired", "finished_at"]
    list_filter = ["status", "trigger"]
    date_hierarchy = "started_at"
