from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from webapp import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("", include("team.auth_urls")),
    path("team/", include("team.urls")),
    # Budgets moved from the generation app to costs: old admin bookmarks still work.
    re_path(
        r"^admin/generation/budget/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/costs/budget/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("generation.api")),
    path("models/", include("catalog.urls")),
    path("gallery/", include("gallery.urls")),
    path("history/", include("gallery.history_urls")),
    path("costs/", include("costs.urls")),
    path("", include("generation.urls")),
]

# JSON errors under /api/, the usual page elsewhere.
handler500 = "generation.api.server_error"
