from django.urls import path

from generation import views

app_name = "generation"
urlpatterns = [
    path("", views.generate, name="generate"),
    path("generate/options", views.options, name="options"),
    path("generate/estimate", views.estimate, name="estimate"),
    path("generate/reference", views.kept_reference, name="kept-reference"),
    path("usage/", views.my_usage, name="usage"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/reference/<int:index>", views.job_reference, name="job-reference"),
    path("jobs/<uuid:job_id>/card", views.job_card, name="job-card"),
    path("jobs/<uuid:job_id>/cancel", views.job_cancel, name="job-cancel"),
    path("jobs/<uuid:job_id>/retry", views.job_retry, name="job-retry"),
    path("jobs/<uuid:job_id>/preview/<int:index>", views.job_preview, name="job-preview"),
    path("events", views.events, name="events"),
    path("media/<uuid:image_id>/original", views.media, {"variant": "original"}, name="original"),
    path(
        "media/<uuid:image_id>/thumbnail", views.media, {"variant": "thumbnail"}, name="thumbnail"
    ),
]
