from django.urls import path

from gallery import history_views

app_name = "history"
urlpatterns = [
    path("", history_views.index, name="index"),
]
