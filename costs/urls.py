from django.urls import path

from costs import views as costs_views

app_name = "costs"
urlpatterns = [
    path("", costs_views.index, name="index"),
    path("ledger.csv", costs_views.ledger_csv, name="csv"),
    path("budgets", costs_views.set_budget, name="budget"),
    path("jobs/<uuid:job_id>/charge", costs_views.settle, name="settle"),
]
