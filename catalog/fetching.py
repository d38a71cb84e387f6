"""Fetching for the catalog sync: HTTP only, no database.

``fetch_catalog`` reads ``/images/models``, every model's endpoints on a
bounded pool of threads (one client per thread) and ``/models``, and returns
them with the errors met on the way (step 2 of ``catalog.sync``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from generation.openrouter import OpenRouterClient, OpenRouterError, RequestInvalid
from generation.openrouter.types import Endpoint as EndpointSpec
from generation.openrouter.types import ImageModel as ImageModelSpec
from generation.openrouter.types import ModelInfo

logger = logging.getLogger(__name__)

# Without settings (a script): the setting's default.
ENDPOINT_WORKERS = 24
# Past this, endpoint calls not yet made are skipped (and recorded) so a run
# always ends well inside the task's time limit and STALE_AFTER.
FETCH_BUDGET_SECONDS = 10 * 60

ClientFactory = Callable[[], OpenRouterClient]


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
    # /models needs nothing from the endpoints: it is read beside them.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-sync-models") as side:
        infos = side.submit(_model_infos, client_factory)
        endpoints, endpoint_errors = _fetch_endpoints(
            client_factory, list(image_models), workers=workers, deadline=deadline
        )
        model_infos, infos_error = infos.result()
    if infos_error:
        errors.append({"model": "", "message": infos_error})
    errors.extend(sorted(endpoint_errors, key=lambda error: error["model"]))
    return Fetched(image_models, endpoints, model_infos, errors)


def _model_infos(client_factory: ClientFactory) -> tuple[dict[str, ModelInfo] | None, str]:
    """``/models``' image models by id, or None and why it could not be read."""
    model_infos: dict[str, ModelInfo] = {}
    try:
        with client_factory() as client:
            for info in client.list_models(output_modalities="image"):
                if "image" in info.output_modalities:
                    model_infos.setdefault(info.id, info)
    except (OpenRouterError, RequestInvalid) as exc:
        return None, f"/models?output_modalities=image: {exc}"
    return model_infos, ""


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
