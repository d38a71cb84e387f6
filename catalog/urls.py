from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.model_list, name="list"),
    # Before the detail route; model slugs always have an author part ("a/b").
    path("sync/", views.sync_now, name="sync"),
    path("<path:slug>/", views.model_detail, name="detail"),
]
