"""A per-process copy of the generatable catalog, rebuilt when the catalog changes.

Every submit (the Generate form, the API) and every job a worker runs needs the
catalog's models, endpoints and current prices: read from the database each
time they cost three queries (six for a form that looks twice) and the building
of every model instance. The catalog changes when a sync finishes or an
administrator edits it, so each process keeps one ``Snapshot`` and checks a
shared version number in the cache (Redis: one GET, no database) before using
it. A change made through the ORM (``save``/``delete`` of a model, endpoint or
price, the end of a sync run) drops this process's copy at once and, once its
transaction commits, bumps the shared version so every other process rebuilds.
A bulk write outside a sync run (``QuerySet.update``) must call ``invalidate``.

The instances in a snapshot are shared by every thread of the process: read
them, never change them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from catalog.models import Endpoint, ImageModel

logger = logging.getLogger(__name__)

VERSION_KEY = "darkroom:catalog:version"


@dataclass(frozen=True)
class Snapshot:
    """``selectors.generatable_models()``, evaluated once, with lookups by slug and id."""

    version: str
    models: list[ImageModel]
    by_slug: dict[str, ImageModel] = field(default_factory=dict)
    by_id: dict[int, ImageModel] = field(default_factory=dict)
    endpoints: dict[int, Endpoint] = field(default_factory=dict)


_lock = threading.Lock()
_current: Snapshot | None = None


def _shared_version() -> str | None:
    """The version every process agrees on, or None when the cache cannot say."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # First use since Redis started empty: whoever adds it first wins.
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:  # redis-py raises many types for a server that does not answer
        logger.warning("Catalog version unavailable; reading the catalog afresh", exc_info=True)
        return None
    return str(version) if version is not None else None


def _build(version: str) -> Snapshot:
    from catalog import selectors

    models = list(selectors.generatable_models())
    endpoints = {}
    for model in models:
        for endpoint in selectors.current_endpoints(model):
            endpoint.model = model  # its estimate reads the slug without a query
            endpoints[endpoint.pk] = endpoint
    return Snapshot(
        version=version,
        models=models,
        by_slug={model.slug: model for model in models},
        by_id={model.pk: model for model in models},
        endpoints=endpoints,
    )


def current() -> Snapshot:
    """This process's snapshot, rebuilt first if the catalog changed since it was
    taken (or always, while the cache does not answer)."""
    global _current
    version = _shared_version()
    if version is None or connection.in_atomic_block:
        # Inside a transaction the catalog may hold uncommitted (or soon rolled
        # back) rows: read it, but keep nothing.
        return _build("")
    snapshot = _current
    if snapshot is not None and snapshot.version == version:
        return snapshot
    with _lock:
        snapshot = _current
        if snapshot is None or snapshot.version != version:
            snapshot = _current = _build(version)
        return snapshot


def clear() -> None:
    """Forget this process's copy (the next use rebuilds it)."""
    global _current
    _current = None


def _bump() -> None:
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # the cache is down: every process reads afresh until it is back
        logger.warning("Could not announce a catalog change", exc_info=True)


def invalidate() -> None:
    """The catalog changed: drop this process's copy now and every process's once
    the current transaction (if any) commits."""
    clear()
    transaction.on_commit(_bump)


def on_change(sender: Any, **kwargs: Any) -> None:
    """Signal receiver (see ``catalog.apps``)."""
    invalidate()
