"""The catalog sync: read OpenRouter's discovery endpoints, write only what changed.

``sync_catalog(trigger)`` is the one service behind the nightly beat entry, the
``sync_catalog`` command, the "Sync now" button and the first ``make run``.

1. Claim the run: insert a ``SyncRun`` with status ``running``. A partial
   unique index allows one running row, so a second sync started meanwhile
   (another worker, the button pressed twice, the command while beat runs)
   fails to insert and raises ``SyncAlreadyRunning``. A run older than
   ``STALE_AFTER`` still marked running was abandoned by a dead process and is
   closed as failed first; the Celery task's hard time limit is below it.
2. Fetch, with no transaction open: ``/images/models``, then every model's
   endpoints on a bounded pool of threads (``DARKROOM_CATALOG_SYNC_THREADS``,
   default 24: 300 models at 200 ms a call take 2.6 s; each thread has its
   own client: the client is not shared across threads), and
   ``/models?output_modalities=image``. One model's endpoints failing is an
   error recorded against that model (its endpoints and prices stay as they
   were); ``/models`` failing is recorded and nothing is retired that night.
   ``/images/models`` failing (or answering no model at all) fails the run
   with nothing written.
3. Write everything in one transaction, comparing with what is stored: rows
   are inserted or updated only when a value differs, so a run on unchanged
   data writes nothing but its own ``SyncRun`` row. A changed price closes its
   row (``valid_until``) and opens a new one. Models in neither listing are
   retired (never deleted) and come back if they reappear.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import estimates
from catalog.models import (
    Endpoint,
    ImageModel,
    Price,
    PriceSource,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from generation.openrouter import (
    OpenRouterClient,
    OpenRouterError,
    RequestInvalid,
    client_from_settings,
)
from generation.openrouter.types import Endpoint as EndpointSpec
from generation.openrouter.types import ImageModel as ImageModelSpec
from generation.openrouter.types import ModelInfo

logger = logging.getLogger(__name__)

# Without settings (a script): the setting's default.
ENDPOINT_WORKERS = 24
# Past this, endpoint calls not yet made are skipped (and recorded) so a run
# always ends well inside the task's time limit and STALE_AFTER.
FETCH_BUDGET_SECONDS = 10 * 60
STALE_AFTER = timedelta(minutes=20)
PRICE_QUANTUM = Decimal("1e-12")
PRICE_LIMIT = Decimal("1e8")  # What the price column holds (20 digits, 12 after the point).
MAX_CONTEXT_LENGTH = 2**31 - 1

ClientFactory = Callable[[], OpenRouterClient]
PriceKey = tuple[str, str, str]  # billable, unit, variant


class SyncAlreadyRunning(Exception):
    """Another sync holds the run; this one did nothing."""


class DiscoveryFailed(Exception):
    """``/images/models`` could not be read: nothing can be synced."""


@dataclass
class Fetched:
    """Everything read from OpenRouter for one run."""

    image_models: dict[str, ImageModelSpec]
    endpoints: dict[str, list[EndpointSpec]]
    # None when /models could not be read: its prices are left alone and no
    # model is retired, since absence from a list we did not get proves nothing.
    model_infos: dict[str, ModelInfo] | None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Counts:
    added: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)


def sync_catalog(
    trigger: str = SyncTrigger.COMMAND,
    *,
    client_factory: ClientFactory = client_from_settings,
    workers: int | None = None,
) -> SyncRun:
    """Sync the catalog now and return the finished ``SyncRun``.

    Status ``succeeded``, ``partial`` (some models' endpoints or ``/models``
    could not be read: see ``errors``; the rest was synced) or ``failed``
    (discovery failed; nothing was written). Raises ``SyncAlreadyRunning``
    when another sync is running; any unexpected error is recorded on the run
    (status ``failed``) and re-raised. ``workers``: endpoint fetch threads
    (default ``DARKROOM_CATALOG_SYNC_THREADS``).
    """
    if workers is None:
        workers = getattr(settings, "DARKROOM_CATALOG_SYNC_THREADS", ENDPOINT_WORKERS)
    run = _claim_run(trigger)
    try:
        try:
            fetched = fetch_catalog(client_factory, workers=workers)
        except DiscoveryFailed as exc:
            return _finish(run, SyncStatus.FAILED, Counts(), [{"model": "", "message": str(exc)}])
        counts = apply_catalog(fetched, run)
        status = SyncStatus.PARTIAL if fetched.errors else SyncStatus.SUCCEEDED
        return _finish(run, status, counts, fetched.errors)
    except BaseException as exc:
        # Also on a Celery soft time limit or Ctrl-C: the run must not stay "running".
        if run.status == SyncStatus.RUNNING:
            message = f"{type(exc).__name__}: {exc}"
            _finish(run, SyncStatus.FAILED, Counts(), [{"model": "", "message": message}])
        raise


def _claim_run(trigger: str) -> SyncRun:
    now = timezone.now()
    SyncRun.objects.filter(status=SyncStatus.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=SyncStatus.FAILED,
        finished_at=now,
        errors=[{"model": "", "message": "Abandoned: the process running it stopped."}],
    )
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                started_at=now, trigger=trigger, status=SyncStatus.RUNNING
            )
    except IntegrityError:
        raise SyncAlreadyRunning("A catalog sync is already running.") from None


def _finish(run: SyncRun, status: str, counts: Counts, errors: list[dict[str, str]]) -> SyncRun:
    run.status = status
    run.finished_at = timezone.now()
    run.added = len(counts.added)
    run.changed = len(counts.changed - counts.added)
    run.retired = len(counts.retired)
    run.errors = errors
    run.save(update_fields=["status", "finished_at", "added", "changed", "retired", "errors"])
    logger.info("Catalog sync %s: %s", run.status, run.summary())
    return run


# Fetching: HTTP only, no database.


def fetch_catalog(
    client_factory: ClientFactory,
    *,
    workers: int = ENDPOINT_WORKERS,
    budget_seconds: float = FETCH_BUDGET_SECONDS,
) -> Fetched:
    """Read the listings and every listed model's endpoints.

    Raises ``DiscoveryFailed`` when ``/images/models`` cannot be read or lists
    nothing (an empty answer would otherwise retire the whole catalog).
    """
    deadline = time.monotonic() + budget_seconds
    errors: list[dict[str, str]] = []
    with client_factory() as client:
        try:
            listing = client.list_image_models()
        except (OpenRouterError, RequestInvalid) as exc:
            raise DiscoveryFailed(f"Could not read /images/models: {exc}") from exc
        if not listing:
            raise DiscoveryFailed("/images/models listed no models; nothing was changed.")
        image_models: dict[str, ImageModelSpec] = {}
        for spec in listing:
            image_models.setdefault(spec.id, spec)
        model_infos: dict[str, ModelInfo] | None
        try:
            model_infos = {}
            for info in client.list_models(output_modalities="image"):
                if "image" in info.output_modalities:
                    model_infos.setdefault(info.id, info)
        except (OpenRouterError, RequestInvalid) as exc:
            model_infos = None
            errors.append({"model": "", "message": f"/models?output_modalities=image: {exc}"})
    endpoints, endpoint_errors = _fetch_endpoints(
        client_factory, list(image_models), workers=workers, deadline=deadline
    )
    errors.extend(sorted(endpoint_errors, key=lambda error: error["model"]))
    return Fetched(image_models, endpoints, model_infos, errors)


def _fetch_endpoints(
    client_factory: ClientFactory, model_ids: list[str], *, workers: int, deadline: float
) -> tuple[dict[str, list[EndpointSpec]], list[dict[str, str]]]:
    local = threading.local()
    clients: list[OpenRouterClient] = []
    clients_lock = threading.Lock()

    def thread_client() -> OpenRouterClient:
        # One client per pool thread: it pools connections, and is not thread-safe.
        client: OpenRouterClient | None = getattr(local, "client", None)
        if client is None:
            client = client_factory()
            local.client = client
            with clients_lock:
                clients.append(client)
        return client

    def fetch(model_id: str) -> list[EndpointSpec]:
        if time.monotonic() > deadline:
            raise TimeoutError("skipped: the sync ran out of time before reaching this model")
        return thread_client().get_endpoints(model_id)

    results: dict[str, list[EndpointSpec]] = {}
    errors: list[dict[str, str]] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="catalog-sync")
    try:
        futures = {pool.submit(fetch, model_id): model_id for model_id in model_ids}
        for future in as_completed(futures):
            model_id = futures[future]
            try:
                results[model_id] = future.result()
            except (OpenRouterError, RequestInvalid, TimeoutError) as exc:
                errors.append({"model": model_id, "message": f"endpoints: {exc}"})
            except Exception as exc:
                # A parser bug on one model's payload must not cost the others.
                logger.exception("Reading the endpoints of %s failed", model_id)
                errors.append(
                    {"model": model_id, "message": f"endpoints: {type(exc).__name__}: {exc}"}
                )
    finally:
        # On an error (a Celery soft time limit) drop the calls not yet started
        # instead of making them all before giving up.
        pool.shutdown(wait=True, cancel_futures=True)
        for client in clients:
            client.close()
    return results, errors


# Writing: one transaction, only what differs.


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
                        desired_prices[(key[:60], estimates.models_price_unit(key), "")] = cost
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


def request_sync(trigger: str = SyncTrigger.BUTTON) -> None:
    """Queue a sync on the ``default`` queue once the current transaction commits.

    Outside a transaction the task is sent at once, and a broker that does not
    answer raises ``kombu.exceptions.OperationalError`` here.
    """
    from catalog.tasks import sync_catalog as sync_task

    transaction.on_commit(lambda: sync_task.delay(trigger=trigger))
