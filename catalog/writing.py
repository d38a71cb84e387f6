"""Writing for the catalog sync: one transaction, only what differs.

``apply_catalog`` compares what was fetched with what is stored, inserts or
updates a row only when a value differs, closes a changed price and opens
its successor, and retires models no listing names (step 3 of ``catalog.sync``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog import estimates, price_words
from catalog.fetching import Fetched
from catalog.models import Endpoint, ImageModel, Price, PriceSource, SyncRun, SyncStatus
from generation.openrouter.types import Endpoint as EndpointSpec
from generation.openrouter.types import ImageModel as ImageModelSpec
from generation.openrouter.types import ModelInfo

PRICE_QUANTUM = Decimal("1e-12")
PRICE_LIMIT = Decimal("1e8")  # What the price column holds (20 digits, 12 after the point).
MAX_CONTEXT_LENGTH = 2**31 - 1

PriceKey = tuple[str, str, str]  # billable, unit, variant


@dataclass
class Counts:
    added: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)


def _timestamp(value: int | None) -> datetime | None:
    if not value or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _desired_model(
    image: ImageModelSpec | None, info: ModelInfo | None, *, infos_known: bool
) -> dict[str, Any]:
    source: ImageModelSpec | ModelInfo | None = image or info
    assert source is not None
    desired: dict[str, Any] = {
        "name": source.name[:300],
        "description": source.description or (info.description if info else ""),
        "input_modalities": list(source.input_modalities),
        "output_modalities": list(source.output_modalities),
        "supported_parameters": (
            {key: value.as_json() for key, value in image.supported_parameters.items()}
            if image
            else {}
        ),
        "supports_streaming": image.supports_streaming if image else False,
        "image_api": image is not None,
        "created_upstream": _timestamp(
            (image.created if image else None) or (info.created if info else None)
        ),
    }
    if infos_known:
        # Only a /models listing we did read can say a model is not a chat model.
        desired["chat_api"] = info is not None
        length = info.context_length if info else None
        desired["context_length"] = length if length and 0 < length <= MAX_CONTEXT_LENGTH else None
    return desired


def _desired_endpoint(spec: EndpointSpec) -> dict[str, Any]:
    return {
        "provider_name": spec.provider_name[:200],
        "provider_tag": (spec.provider_tag or "")[:200],
        "supported_parameters": {
            key: value.as_json() for key, value in spec.supported_parameters.items()
        },
        "allowed_passthrough_parameters": list(spec.allowed_passthrough_parameters),
        "supports_streaming": spec.supports_streaming,
    }


def _assign(obj: Any, desired: dict[str, Any]) -> set[str]:
    """Set the attributes that differ; return their names."""
    changed = set()
    for name, value in desired.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.add(name)
    return changed


def _price(value: Decimal) -> Decimal | None:
    if not value.is_finite() or abs(value) >= PRICE_LIMIT:
        return None
    return value.quantize(PRICE_QUANTUM)


@dataclass
class _Writer:
    """The write phase's working state: what is stored, and what to write."""

    now: datetime
    counts: Counts
    errors: list[dict[str, str]]
    dirty: dict[int, tuple[Any, set[str]]] = field(default_factory=dict)
    closing: list[Price] = field(default_factory=list)
    opening: list[Price] = field(default_factory=list)

    def touch(self, obj: Any, fields: Iterable[str]) -> None:
        key = id(obj)
        if key in self.dirty:
            self.dirty[key][1].update(fields)
        else:
            self.dirty[key] = (obj, set(fields))

    def diff_prices(
        self,
        model: ImageModel,
        endpoint: Endpoint | None,
        desired: dict[PriceKey, Decimal],
        current: dict[PriceKey, Price],
    ) -> bool:
        changed = False
        for key, cost in desired.items():
            row = current.get(key)
            if row is not None and row.cost_usd == cost:
                continue
            if row is not None:
                row.valid_until = self.now
                self.closing.append(row)
            billable, unit, variant = key
            self.opening.append(
                Price(
                    model=model,
                    endpoint=endpoint,
                    source=PriceSource.ENDPOINT if endpoint else PriceSource.MODELS,
                    billable=billable,
                    unit=unit,
                    variant=variant,
                    cost_usd=cost,
                    valid_from=self.now,
                )
            )
            changed = True
        for key, row in current.items():
            if key not in desired:
                row.valid_until = self.now
                self.closing.append(row)
                changed = True
        return changed

    def endpoint_prices(self, slug: str, spec: EndpointSpec) -> dict[PriceKey, Decimal]:
        desired: dict[PriceKey, Decimal] = {}
        for line in spec.pricing:
            key = (line.billable[:60], line.unit[:30], (line.variant or "")[:20])
            cost = _price(line.cost_usd)
            if cost is None:
                self.errors.append(
                    {"model": slug, "message": f"{spec.provider_slug}: unusable price {line}"}
                )
                continue
            desired.setdefault(key, cost)  # A duplicated line: the first one counts.
        return desired


def apply_catalog(fetched: Fetched, run: SyncRun) -> Counts:
    """Write ``fetched`` into the catalog in one transaction; return what changed.

    Price problems found while writing are appended to ``fetched.errors``.
    """
    now = timezone.now()
    writer = _Writer(now=now, counts=Counts(), errors=fetched.errors)
    counts = writer.counts
    infos = fetched.model_infos
    listed = set(fetched.image_models) | set(infos or {})
    # Retired models keep the time of the last run whose listing still had them.
    previous_run = (
        SyncRun.objects.filter(status__in=[SyncStatus.SUCCEEDED, SyncStatus.PARTIAL])
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )

    with transaction.atomic():
        models = {model.slug: model for model in ImageModel.objects.all()}
        endpoints: dict[int, dict[str, Endpoint]] = defaultdict(dict)
        for endpoint in Endpoint.objects.all():
            endpoints[endpoint.model_id][endpoint.provider_slug] = endpoint
        current: dict[tuple[int, int | None], dict[PriceKey, Price]] = defaultdict(dict)
        for price in Price.objects.filter(valid_until__isnull=True):
            current[(price.model_id, price.endpoint_id)][
                (price.billable, price.unit, price.variant)
            ] = price

        # Models.
        new_models: list[ImageModel] = []
        for slug in sorted(listed):
            if len(slug) > 200:
                writer.errors.append({"model": slug[:200], "message": "slug too long; skipped"})
                continue
            desired = _desired_model(
                fetched.image_models.get(slug),
                (infos or {}).get(slug),
                infos_known=infos is not None,
            )
            model = models.get(slug)
            if model is None:
                model = ImageModel(slug=slug, first_seen=now, last_seen=now, **desired)
                new_models.append(model)
                models[slug] = model
                counts.added.add(slug)
                continue
            fields = _assign(model, desired)
            if model.retired_at is not None:
                model.retired_at = None
                fields.add("retired_at")
                counts.added.add(slug)
            elif fields:
                counts.changed.add(slug)
            if fields:
                model.last_seen = now
                writer.touch(model, {*fields, "last_seen"})
        ImageModel.objects.bulk_create(new_models)

        if infos is not None:
            for slug, model in models.items():
                if slug not in listed and model.retired_at is None:
                    model.retired_at = now
                    fields = {"retired_at"}
                    if previous_run is not None:
                        model.last_seen = previous_run
                        fields.add("last_seen")
                    writer.touch(model, fields)
                    counts.retired.add(slug)

        # Endpoints: only for models whose endpoints were read this run.
        new_endpoints: list[Endpoint] = []
        endpoint_specs: list[tuple[ImageModel, Endpoint, EndpointSpec]] = []
        for slug, specs in fetched.endpoints.items():
            model = models.get(slug)
            if model is None:
                continue
            stored = endpoints[model.pk] if model.pk else {}
            seen: set[str] = set()
            for spec in specs:
                provider_slug = spec.provider_slug[:200]
                if provider_slug in seen:
                    continue
                seen.add(provider_slug)
                desired = _desired_endpoint(spec)
                found = stored.get(provider_slug)
                if found is None:
                    endpoint = Endpoint(
                        model=model,
                        provider_slug=provider_slug,
                        first_seen=now,
                        last_seen=now,
                        **desired,
                    )
                    new_endpoints.append(endpoint)
                    endpoints[model.pk][provider_slug] = endpoint
                    counts.changed.add(slug)
                else:
                    endpoint = found
                    fields = _assign(endpoint, desired)
                    if endpoint.retired_at is not None:
                        endpoint.retired_at = None
                        fields.add("retired_at")
                    if fields:
                        endpoint.last_seen = now
                        writer.touch(endpoint, {*fields, "last_seen"})
                        counts.changed.add(slug)
                endpoint_specs.append((model, endpoint, spec))
            for provider_slug, endpoint in stored.items():
                if provider_slug not in seen and endpoint.retired_at is None:
                    endpoint.retired_at = now
                    writer.touch(endpoint, {"retired_at"})
                    counts.changed.add(slug)
        # A model that left the Image API (still in /models) has no endpoints there.
        for slug in listed - set(fetched.image_models):
            model = models.get(slug)
            if model is None or model.pk is None:
                continue
            for endpoint in endpoints[model.pk].values():
                if endpoint.retired_at is None:
                    endpoint.retired_at = now
                    writer.touch(endpoint, {"retired_at"})
                    counts.changed.add(slug)
        Endpoint.objects.bulk_create(new_endpoints)

        # Prices: endpoint lines, then the /models prices.
        for model, endpoint, spec in endpoint_specs:
            desired_prices = writer.endpoint_prices(model.slug, spec)
            if writer.diff_prices(
                model, endpoint, desired_prices, current.get((model.pk, endpoint.pk), {})
            ):
                counts.changed.add(model.slug)
        if infos is not None:
            for slug in listed:
                model = models.get(slug)
                if model is None:
                    continue
                info = infos.get(slug)
                desired_prices = {}
                for key, amount in (info.pricing if info else {}).items():
                    cost = _price(amount)
                    if cost is not None:
                        desired_prices[(key[:60], price_words.models_price_unit(key), "")] = cost
                if writer.diff_prices(
                    model, None, desired_prices, current.get((model.pk, None), {})
                ):
                    counts.changed.add(slug)

        for obj, fields in writer.dirty.values():
            type(obj).objects.filter(pk=obj.pk).update(
                **{name: getattr(obj, name) for name in fields}
            )
        # Close before opening: one open row per line is a database constraint.
        Price.objects.bulk_update(writer.closing, ["valid_until"])
        Price.objects.bulk_create(writer.opening)
        _update_headline_prices(models, endpoints)
    return counts


def _update_headline_prices(
    models: dict[str, ImageModel], endpoints: dict[int, dict[str, Endpoint]]
) -> None:
    """Recompute each model's stored headline price from its current prices; write
    those that differ in one UPDATE (so a no-change sync still writes nothing)."""
    active = {
        endpoint.pk
        for by_slug in endpoints.values()
        for endpoint in by_slug.values()
        if endpoint.retired_at is None
    }
    endpoint_lines: dict[int, dict[int, list[Price]]] = defaultdict(lambda: defaultdict(list))
    models_lines: dict[int, list[Price]] = defaultdict(list)
    for price in Price.objects.filter(valid_until__isnull=True):
        if price.endpoint_id is None:
            models_lines[price.model_id].append(price)
        elif price.endpoint_id in active:
            endpoint_lines[price.model_id][price.endpoint_id].append(price)
    changed: list[ImageModel] = []
    for model in models.values():
        headline = estimates.model_headline_price(
            model.slug, endpoint_lines[model.pk].values(), models_lines[model.pk]
        )
        if headline is not None:
            headline = _price(headline)
        if model.headline_price != headline:
            model.headline_price = headline
            changed.append(model)
    # One statement (a CASE over the primary keys) however many models changed
    # on PostgreSQL; SQLite splits it by its limit on query parameters.
    ImageModel.objects.bulk_update(changed, ["headline_price"])
