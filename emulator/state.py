"""The emulator's mutable state: config, ledger, request log, files, generations.

One ``State`` per server, shared by its handler threads; every method takes
the lock. ``reset()`` puts config, catalog, ledger, request log, retry
counters, files and generation records back to their start values.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .catalog import Catalog
from .errors import ApiError
from .pricing import as_string

MAX_FILES = 500
MAX_REQUEST_LOG = 10_000


@dataclass
class Config:
    latency: float = 0.0
    stream_delay: float = 0.0
    generation_404_seconds: float = 1.0
    file_ttl: float = 600.0
    keepalive_interval: float = 1.0
    key_limit: float | None = None

    def update(self, patch: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(patch) - names
        if unknown:
            raise ApiError(400, f"Unknown config key(s) {sorted(unknown)}; known: {sorted(names)}")
        for name, value in patch.items():
            if name == "key_limit" and value is None:
                self.key_limit = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ApiError(400, f"config {name} must be a non-negative number")
            setattr(self, name, float(value))


@dataclass
class Generation:
    id: str
    model: str
    provider_name: str
    total_cost: Decimal
    prompt_tokens: int
    completion_tokens: int
    created_at: str
    finished: float
    streamed: bool
    finish_reason: str
    native_finish_reason: str
    images: int
    api_type: str
    latency_ms: int

    def document(self) -> dict[str, Any]:
        return {
            "data": {
                "id": self.id,
                "total_cost": float(self.total_cost),
                "created_at": self.created_at,
                "model": self.model,
                "origin": "",
                "usage": float(self.total_cost),
                "is_byok": False,
                "upstream_id": f"emu-{self.id[4:]}",
                "cache_discount": None,
                "upstream_inference_cost": None,
                "app_id": None,
                "streamed": self.streamed,
                "cancelled": False,
                "provider_name": self.provider_name,
                "latency": self.latency_ms,
                "moderation_latency": None,
                "generation_time": self.latency_ms,
                "finish_reason": self.finish_reason,
                "native_finish_reason": self.native_finish_reason,
                "tokens_prompt": self.prompt_tokens,
                "tokens_completion": self.completion_tokens,
                "native_tokens_prompt": self.prompt_tokens,
                "native_tokens_completion": self.completion_tokens,
                "native_tokens_completion_images": self.completion_tokens if self.images else 0,
                "native_tokens_reasoning": 0,
                "native_tokens_cached": 0,
                "num_media_prompt": None,
                "num_media_completion": self.images,
                "num_search_results": None,
                "api_type": self.api_type,
            }
        }


@dataclass
class StoredFile:
    data: bytes
    media_type: str
    expires: float


@dataclass
class State:
    defaults: Config = field(default_factory=Config)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.catalog = Catalog()
        self.stopping = threading.Event()
        self.config = copy.copy(self.defaults)
        self.ledger: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self.files: OrderedDict[str, StoredFile] = OrderedDict()
        self.generations: dict[str, Generation] = {}

    def reset(self) -> None:
        self.catalog.reset()
        with self.lock:
            self.config = copy.copy(self.defaults)
            self.ledger.clear()
            self.requests.clear()
            self.attempts.clear()
            self.files.clear()
            self.generations.clear()

    def settings(self) -> Config:
        with self.lock:
            return copy.copy(self.config)

    def update_config(self, patch: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            updated = copy.copy(self.config)
            updated.update(patch)
            self.config = updated
            return asdict(updated)

    # the request log

    def log_request(self, route: str, model: str, tag: str | None, prompt: str) -> dict[str, Any]:
        entry = {
            "timestamp": _now(),
            "route": route,
            "model": model,
            "tag": tag,
            "prompt": prompt,
            "status": None,
        }
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-MAX_REQUEST_LOG]
        return entry

    def finish_request(self, entry: dict[str, Any], status: int) -> None:
        with self.lock:
            entry["status"] = status

    def request_report(self, tag: str | None) -> dict[str, Any]:
        with self.lock:
            entries = [dict(e) for e in self.requests if tag is None or e["tag"] == tag]
        counts: dict[str, dict[str, int]] = {}
        for entry in entries:
            per_model = counts.setdefault(entry["route"], {})
            per_model[entry["model"]] = per_model.get(entry["model"], 0) + 1
        return {"total": len(entries), "counts": counts, "requests": entries}

    # the ledger

    def charge(
        self,
        *,
        route: str,
        model: str,
        provider: str,
        cost: Decimal,
        prompt: str,
        images: int,
        tag: str | None,
        generation_id: str | None = None,
        outcome: str = "ok",
    ) -> None:
        entry = {
            "timestamp": _now(),
            "route": route,
            "model": model,
            "provider": provider,
            "generation_id": generation_id,
            "prompt": prompt,
            "images": images,
            "cost": as_string(cost),
            "tag": tag,
            "outcome": outcome,
        }
        with self.lock:
            self.ledger.append(entry)

    def ledger_report(self, tag: str | None) -> dict[str, Any]:
        with self.lock:
            entries = [dict(e) for e in self.ledger if tag is None or e["tag"] == tag]
        total = sum((Decimal(e["cost"]) for e in entries), Decimal(0))
        return {"entries": entries, "count": len(entries), "total": as_string(total)}

    def usage(self) -> Decimal:
        with self.lock:
            return sum((Decimal(e["cost"]) for e in self.ledger), Decimal(0))

    def clear_ledger(self) -> None:
        with self.lock:
            self.ledger.clear()

    # retries keyed by prompt text ([emulator:fail_times=N])

    def attempt(self, key: str) -> int:
        """How many times this prompt has been tried, this time included."""
        with self.lock:
            self.attempts[key] += 1
            return self.attempts[key]

    # temporary files for server-tool images

    def store_file(self, data: bytes, media_type: str, ext: str) -> str:
        name = f"{secrets.token_urlsafe(18)}.{ext}"
        with self.lock:
            self.files[name] = StoredFile(data, media_type, time.monotonic() + self.config.file_ttl)
            while len(self.files) > MAX_FILES:
                self.files.popitem(last=False)
        return name

    def get_file(self, name: str) -> StoredFile | None:
        with self.lock:
            stored = self.files.get(name)
            if stored is not None and stored.expires < time.monotonic():
                del self.files[name]
                return None
            return stored

    # generation records for GET /generation

    def record_generation(self, generation: Generation) -> None:
        with self.lock:
            self.generations[generation.id] = generation

    def generation(self, generation_id: str) -> Generation | None:
        with self.lock:
            record = self.generations.get(generation_id)
            hidden = self.config.generation_404_seconds
        if record is None or time.monotonic() - record.finished < hidden:
            return None
        return record


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_generation_id() -> str:
    return f"gen-{int(time.time())}-{secrets.token_urlsafe(15).replace('-', 'x').replace('_', 'y')}"
