from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from webapp import profile, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Budgets moved from the generation app to costs: old admin bookmarks still work.
    re_path(
        r"^admin/generation/budget/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/costs/budget/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("profile/", profile.profile, name="profile"),
    path(
        "profile/tokens/<int:token_id>/revoke",
        profile.revoke_token,
        name="profile-token-revoke",
    ),
    path("api/v1/", include("generation.api")),
    path("models/", include("catalog.urls")),
    path("gallery/", include("gallery.urls")),
    path("history/", include("gallery.history_urls")),
    path("costs/", include("costs.urls")),
    path("", include("generation.urls")),
]

# JSON errors under /api/, the usual page elsewhere.
handler500 = "generation.api.server_error"
