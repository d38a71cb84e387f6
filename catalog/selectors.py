"""Reads of the catalog for pages, forms and estimates. No writes here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import groupby

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from catalog import estimates
from catalog.models import Endpoint, ImageModel, Price, PriceSource, Style, SyncRun, SyncStatus


def _current_prices() -> Prefetch[str, QuerySet[Price], str]:
    return Prefetch(
        "prices",
        queryset=Price.objects.filter(valid_until__isnull=True).order_by(
            "billable", "unit", "variant"
        ),
        to_attr="current_price_list",
    )


def _current_endpoints() -> Prefetch[str, QuerySet[Endpoint], str]:
    return Prefetch(
        "endpoints",
        queryset=Endpoint.objects.filter(retired_at__isnull=True).prefetch_related(
            _current_prices()
        ),
        to_attr="current_endpoints",
    )


def generatable_models() -> QuerySet[ImageModel]:
    """Models that can be generated with now: not retired, ordered by slug so that
    each author's models (``google/…``, ``openai/…``) sit together (see
    ``group_by_author``). Each carries ``current_endpoints`` (non-retired, with
    their current prices prefetched as ``current_price_list``). Models only
    reachable through Chat Completions have no endpoints.
    """
    return (
        ImageModel.objects.filter(retired_at__isnull=True)
        .order_by("slug")
        .prefetch_related(_current_endpoints())
    )


def group_by_author(models: list[ImageModel]) -> list[tuple[str, list[ImageModel]]]:
    """``[(author, [models…])…]`` from models ordered by slug."""
    return [(author, list(group)) for author, group in groupby(models, key=lambda m: m.author)]


def current_endpoints(model: ImageModel) -> list[Endpoint]:
    prefetched: list[Endpoint] | None = getattr(model, "current_endpoints", None)
    if prefetched is not None:
        return prefetched
    return list(model.endpoints.filter(retired_at__isnull=True).prefetch_related(_current_prices()))


def endpoint_headline(endpoint: Endpoint) -> Decimal | None:
    return estimates.headline_price(endpoint.model.slug, endpoint.current_prices())


def default_endpoint(model: ImageModel) -> Endpoint | None:
    """The endpoint to use when the user has not picked one.

    The cheapest current endpoint for one 1K image (the team pays), then one
    that streams (previews arrive sooner), then by provider name so the choice
    is stable. ``None`` for a retired model or one with no current endpoint.
    """
    if model.is_retired:
        return None
    endpoints = current_endpoints(model)
    if not endpoints:
        return None
    for endpoint in endpoints:
        endpoint.model = model  # Spare a query per endpoint in the estimate.

    def key(endpoint: Endpoint) -> tuple[bool, Decimal, bool, str]:
        price = endpoint_headline(endpoint)
        return (
            price is None,
            price or Decimal(0),
            not endpoint.supports_streaming,
            endpoint.provider_name,
        )

    return min(endpoints, key=key)


def offered_styles(model: ImageModel) -> list[str]:
    """The generation styles ``model`` has, as the catalog knows them, in
    ``catalog.models.Style`` order: ``images`` where the Image API serves it
    (listed by ``/images/models``, with a current endpoint); ``chat`` where it is
    a chat model with image output (listed by ``/models?output_modalities=image``);
    ``tool_chat`` and ``tool_responses`` where the image tool can use it as its
    image model (the tool documents that same listing as its models). Empty for a
    retired model."""
    if model.is_retired:
        return []
    styles: list[str] = []
    if model.image_api and default_endpoint(model) is not None:
        styles.append(Style.IMAGES)
    if model.chat_api and "image" in (model.output_modalities or []):
        styles += [Style.CHAT, Style.TOOL_CHAT, Style.TOOL_RESPONSES]
    return styles


def models_prices(model: ImageModel) -> list[Price]:
    """The model's current ``/models`` prices (per token and the like)."""
    return list(
        Price.objects.filter(
            model=model, source=PriceSource.MODELS, valid_until__isnull=True
        ).order_by("billable")
    )


# The Models page.

SORTS = {
    "name": (F("name").asc(), F("slug").asc()),
    "-name": (F("name").desc(), F("slug").desc()),
    "price": (F("headline_price").asc(nulls_last=True), F("name").asc()),
    "-price": (F("headline_price").desc(nulls_last=True), F("name").asc()),
}


@dataclass(frozen=True, slots=True)
class ModelFilters:
    """What the Models page filters on; every filter combines with the others."""

    q: str = ""
    input_modality: str = ""
    output_modality: str = ""
    streaming: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    parameter: str = ""
    sort: str = "name"
    show_retired: bool = False


def model_list(filters: ModelFilters) -> list[ImageModel]:
    """Models matching ``filters``, each annotated with ``endpoint_count`` (current ones).

    The price filters and sorts use the stored headline price (one 1K image on
    the cheapest endpoint; see ``catalog.estimates``); models without one are
    left out by a price filter and sorted last.
    """
    models = ImageModel.objects.annotate(
        endpoint_count=Count("endpoints", filter=Q(endpoints__retired_at__isnull=True))
    )
    if not filters.show_retired:
        models = models.filter(retired_at__isnull=True)
    if filters.q:
        models = models.filter(Q(name__icontains=filters.q) | Q(slug__icontains=filters.q))
    if filters.streaming is not None:
        models = models.filter(supports_streaming=filters.streaming)
    if filters.min_price is not None:
        models = models.filter(headline_price__gte=filters.min_price)
    if filters.max_price is not None:
        models = models.filter(headline_price__lte=filters.max_price)
    if filters.parameter:
        models = models.filter(supported_parameters__has_key=filters.parameter)
    json_contains = connection.features.supports_json_field_contains
    if json_contains:
        if filters.input_modality:
            models = models.filter(input_modalities__contains=[filters.input_modality])
        if filters.output_modality:
            models = models.filter(output_modalities__contains=[filters.output_modality])
    rows: list[ImageModel] = list(models.order_by(*SORTS.get(filters.sort, SORTS["name"])))
    if not json_contains:
        # SQLite (development) has no JSON containment; the catalog is small.
        rows = [
            model
            for model in rows
            if (not filters.input_modality or filters.input_modality in model.input_modalities)
            and (not filters.output_modality or filters.output_modality in model.output_modalities)
        ]
    return rows


@dataclass(frozen=True, slots=True)
class FilterChoices:
    parameters: list[str]
    input_modalities: list[str]
    output_modalities: list[str]


def filter_choices() -> FilterChoices:
    """Every parameter name and modality any model has, for the filter form."""
    parameters: set[str] = set()
    inputs: set[str] = set()
    outputs: set[str] = set()
    for params, model_inputs, model_outputs in ImageModel.objects.values_list(
        "supported_parameters", "input_modalities", "output_modalities"
    ):
        parameters.update(params or {})
        inputs.update(model_inputs or [])
        outputs.update(model_outputs or [])
    return FilterChoices(sorted(parameters), sorted(inputs), sorted(outputs))


def model_detail(slug: str) -> ImageModel | None:
    """A model (retired or not) with all its endpoints, retired ones last, each with
    its current prices."""
    return (
        ImageModel.objects.filter(slug=slug)
        .prefetch_related(
            Prefetch(
                "endpoints",
                queryset=Endpoint.objects.order_by(
                    F("retired_at").asc(nulls_first=True), "provider_name"
                ).prefetch_related(_current_prices()),
                to_attr="all_endpoints",
            )
        )
        .first()
    )


def price_history(model: ImageModel) -> list[Price]:
    """Every price the model has had, newest first."""
    return list(
        Price.objects.filter(model=model)
        .select_related("endpoint")
        .order_by("-valid_from", "endpoint__provider_name", "billable", "variant")
    )


def last_sync_run() -> SyncRun | None:
    return SyncRun.objects.order_by("-started_at").first()


def sync_running() -> bool:
    return SyncRun.objects.filter(status=SyncStatus.RUNNING).exists()


# Price changes, for the Costs page.


@dataclass(frozen=True, slots=True)
class PriceChange:
    """One pricing line that changed: ``old`` None means the line was added,
    ``new`` None that it was withdrawn."""

    price: Price
    old: Decimal | None
    new: Decimal | None
    at: datetime

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        return "withdrawn" if self.new is None else "changed"

    @property
    def where(self) -> str:
        return self.price.endpoint.provider_name if self.price.endpoint else "/models"


@dataclass(slots=True)
class ModelPriceChanges:
    model: ImageModel
    changes: list[PriceChange] = field(default_factory=list)

    @property
    def last_changed(self) -> datetime:
        return max(change.at for change in self.changes)


def _same_line() -> Q:
    """The price row continuing (or preceding) the outer one: the same line of the
    same endpoint, or of the model's ``/models`` prices (endpoint NULL never equals NULL)."""
    return Q(
        model=OuterRef("model"),
        source=OuterRef("source"),
        billable=OuterRef("billable"),
        unit=OuterRef("unit"),
        variant=OuterRef("variant"),
    ) & (Q(endpoint=OuterRef("endpoint")) | Q(source=PriceSource.MODELS, endpoint__isnull=True))


def price_changes(since: datetime, limit: int = 200) -> list[ModelPriceChanges]:
    """Models whose prices changed at or after ``since``, most recently changed first.

    A sync closes a changed line (``valid_until``) and opens its successor at the
    same instant, so a closed row with a successor is a change, one without is a
    withdrawn line, and an opened row without a predecessor on a model that was
    already known is an added line (a new model's first prices are not changes).
    """
    successor = Price.objects.filter(_same_line(), valid_from=OuterRef("valid_until"))
    predecessor = Price.objects.filter(_same_line(), valid_until=OuterRef("valid_from"))
    closed = (
        Price.objects.filter(valid_until__gte=since)
        .annotate(new_cost=Subquery(successor.values("cost_usd")[:1]))
        .select_related("model", "endpoint")
        .order_by("-valid_until")[:limit]
    )
    added = (
        Price.objects.filter(valid_from__gte=since, model__first_seen__lt=F("valid_from"))
        .filter(~Exists(predecessor))
        .select_related("model", "endpoint")
        .order_by("-valid_from")[:limit]
    )
    changes = [
        PriceChange(price, price.cost_usd, getattr(price, "new_cost", None), price.valid_until)
        for price in closed
        if price.valid_until is not None
    ] + [PriceChange(price, None, price.cost_usd, price.valid_from) for price in added]
    by_model: dict[int, ModelPriceChanges] = {}
    for change in sorted(changes, key=lambda c: c.at, reverse=True):
        entry = by_model.setdefault(change.price.model_id, ModelPriceChanges(change.price.model))
        entry.changes.append(change)
    return sorted(by_model.values(), key=lambda m: m.last_changed, reverse=True)
