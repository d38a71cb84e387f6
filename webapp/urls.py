from django.contrib import admin
from django.urls import include, path

from webapp import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("", include("team.auth_urls")),
    path("team/", include("team.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("generation.api")),
    path("models/", include("catalog.urls")),
    path("gallery/", include("generation.gallery_urls")),
    path("history/", include("generation.history_urls")),
    path("costs/", include("generation.costs_urls")),
    path("", include("generation.urls")),
]

# JSON errors under /api/, the usual page elsewhere.
handler500 = "generation.api.server_error"
