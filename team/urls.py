from __future__ import annotations

from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("", views.member_list, name="members"),
    path("audit/", views.audit_log, name="audit"),
    path("invitations/<int:invitation_id>/resend", views.invitation_resend, name="resend"),
    path("invitations/<int:invitation_id>/revoke", views.invitation_revoke, name="revoke"),
    path("members/<int:user_id>/role", views.member_role, name="role"),
    path("members/<int:user_id>/deactivate", views.member_deactivate, name="deactivate"),
    path("members/<int:user_id>/reactivate", views.member_reactivate, name="reactivate"),
    path("join/<str:token>/", views.join, name="join"),
]
