"""The Models page, a model's page, and the staff "Sync now" button: thin views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from kombu.exceptions import OperationalError

from catalog import capabilities, estimates, price_words, selectors, sync
from catalog.forms import ModelFilterForm
from catalog.models import PriceSource, SyncTrigger
from webapp import htmx, permissions

RESULTS_TARGET = "model-results"


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    form = ModelFilterForm(request.GET or None, choices=selectors.filter_choices())
    models = selectors.model_list(form.filters())
    context = {
        "form": form,
        "models": models,
        "last_run": selectors.last_sync_run(),
        "sync_running": selectors.sync_running(),
    }
    # Filter changes swap only the results.
    template = htmx.template_for(
        request, "catalog/model_list.html", by_target={RESULTS_TARGET: "results"}
    )
    return render(request, template, context)


@require_GET
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = selectors.model_detail(slug)
    if model is None:
        raise Http404("No such model in the catalog.")
    endpoints = []
    for endpoint in model.all_endpoints:  # type: ignore[attr-defined]
        endpoint.model = model
        prices = endpoint.current_prices()
        endpoints.append(
            {
                "endpoint": endpoint,
                "capabilities": capabilities.describe_capabilities(
                    endpoint.supported_parameters or {}
                ),
                "prices": price_words.describe_prices(prices),
                "headline": estimates.headline_price(model.slug, prices),
            }
        )
    history = selectors.price_history(model)
    token_prices = [
        {"price": price, "words": price_words.describe_models_price(price.billable, price.cost_usd)}
        for price in history
        if price.source == PriceSource.MODELS and price.valid_until is None
    ]
    return render(
        request,
        "catalog/model_detail.html",
        {
            "model": model,
            "endpoints": endpoints,
            "token_prices": token_prices,
            "history": history,
            "last_run": selectors.last_sync_run(),
        },
    )


@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    if not permissions.is_admin(request.user):
        raise PermissionDenied("Only team admins can sync the catalog.")
    if selectors.sync_running():
        messages.warning(request, "A catalog sync is already running.")
    else:
        try:
            sync.request_sync(SyncTrigger.BUTTON)
        except OperationalError:
            messages.error(request, "The task queue (Redis) did not answer; try again shortly.")
        else:
            messages.success(request, "Catalog sync started")
    return redirect("catalog:list")
