from django.urls import path

from webapp import views

app_name = "generation"
urlpatterns = [path("", views.home, name="home")]
