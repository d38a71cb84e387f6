from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from team.models import AuditEvent, Invitation, Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Roles are changed on the Members page (which keeps staff in step and
    writes the audit log); here they are only shown."""

    list_display = ["user", "role", "display_name", "last_seen_at", "deactivated_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "display_name", "user__email"]
    readonly_fields = ["user", "role", "last_seen_at", "deactivated_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "role",
        "invited_by",
        "sent_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    search_fields = ["email"]
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "subject_name", "detail"]
    list_filter = ["action"]
    search_fields = ["actor_name", "subject_name", "detail"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
