"""Factories for catalog rows, and an OpenRouter stand-in at the HTTP edge (respx)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Endpoint, ImageModel, Price, PriceSource
from generation.openrouter import OpenRouterClient

FAKE_BASE = "https://openrouter.test/api/v1"


@pytest.fixture
def make_model(db: None) -> Callable[..., ImageModel]:
    def make(slug: str = "acme/painter", **fields: Any) -> ImageModel:
        now = timezone.now()
        values: dict[str, Any] = {
            "name": slug.split("/")[-1].title(),
            "input_modalities": ["text"],
            "output_modalities": ["image"],
            "first_seen": now,
            "last_seen": now,
        }
        values.update(fields)
        return ImageModel.objects.create(slug=slug, **values)

    return make


@pytest.fixture
def make_endpoint(db: None) -> Callable[..., Endpoint]:
    def make(
        model: ImageModel,
        provider_slug: str = "acme",
        *,
        prices: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> Endpoint:
        """``prices`` are ``(billable, unit, cost, variant)``."""
        now = timezone.now()
        values: dict[str, Any] = {
            "provider_name": provider_slug.title(),
            "provider_tag": provider_slug,
            "first_seen": now,
            "last_seen": now,
        }
        values.update(fields)
        endpoint = Endpoint.objects.create(model=model, provider_slug=provider_slug, **values)
        for billable, unit, cost, variant in prices:
            Price.objects.create(
                model=model,
                endpoint=endpoint,
                source=PriceSource.ENDPOINT,
                billable=billable,
                unit=unit,
                variant=variant,
                cost_usd=Decimal(cost),
                valid_from=now,
            )
        return endpoint

    return make


@pytest.fixture
def synced(emulator: Any, db: None) -> Any:
    """The catalog filled from the (freshly reset) emulator."""
    call_command("sync_catalog", stdout=_Sink(), stderr=_Sink())
    return emulator


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def fake_client() -> OpenRouterClient:
    return OpenRouterClient("sk-or-test", base_url=FAKE_BASE)


def image_model(model_id: str, **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "name": model_id.split("/")[-1],
        "description": f"{model_id} draws.",
        "created": 1750000000,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
        "supported_parameters": {"seed": {"type": "boolean"}},
        "supports_streaming": False,
        "endpoints": f"/api/v1/images/models/{model_id}/endpoints",
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


def endpoint(provider_slug: str, pricing: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "provider_name": provider_slug.title(),
        "provider_slug": provider_slug,
        "provider_tag": provider_slug,
        "supported_parameters": {"seed": {"type": "boolean"}},
        "allowed_passthrough_parameters": [],
        "supports_streaming": False,
        "pricing": pricing,
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


def models_entry(model_id: str, pricing: dict[str, str], **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "name": model_id,
        "created": 1750000000,
        "context_length": 4096,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
        "pricing": pricing,
    }
    entry.update(overrides)
    return entry


class FakeOpenRouter:
    """Discovery answers for respx: set ``image_models``, ``endpoints`` and ``models``."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.image_models: list[dict[str, Any]] = []
        # model id -> endpoints list, or an httpx.Response to answer instead
        self.endpoints: dict[str, list[dict[str, Any]] | httpx.Response] = {}
        self.models: list[dict[str, Any]] = []
        self.models_page_size: int | None = None  # None: one page with only "data"
        self.models_response: httpx.Response | None = None
        self.images_response: httpx.Response | None = None
        self.before_endpoints: Callable[[httpx.Request], None] | None = None
        router.get("/images/models").mock(side_effect=self._images)
        router.get(url__regex=r"/images/models/.+/endpoints$").mock(side_effect=self._endpoints)
        router.get("/models").mock(side_effect=self._models)

    def _images(self, request: httpx.Request) -> httpx.Response:
        return self.images_response or httpx.Response(200, json={"data": self.image_models})

    def _endpoints(self, request: httpx.Request) -> httpx.Response:
        if self.before_endpoints is not None:
            self.before_endpoints(request)
        path = request.url.path.removeprefix("/api/v1/images/models/").removesuffix("/endpoints")
        answer = self.endpoints.get(path)
        if isinstance(answer, httpx.Response):
            return answer
        if answer is None:
            return httpx.Response(404, json={"error": {"code": 404, "message": "no such model"}})
        # Written as text so that numbers keep the exact spelling given (3e-05).
        return httpx.Response(
            200,
            content=json.dumps({"id": path, "endpoints": answer}).encode(),
            headers={"content-type": "application/json"},
        )

    def _models(self, request: httpx.Request) -> httpx.Response:
        if self.models_response is not None:
            return self.models_response
        assert request.url.params.get("output_modalities") == "image"
        if self.models_page_size is None:
            return httpx.Response(200, json={"data": self.models})
        offset = int(request.url.params.get("offset", "0"))
        limit = int(request.url.params.get("limit", str(self.models_page_size)))
        limit = min(limit, self.models_page_size)
        page = self.models[offset : offset + limit]
        following = offset + limit
        links = {
            "next": f"{FAKE_BASE}/models?output_modalities=image&offset={following}&limit={limit}"
            if following < len(self.models)
            else None
        }
        return httpx.Response(
            200, json={"data": page, "total_count": len(self.models), "links": links}
        )


@pytest.fixture
def fake_openrouter() -> Iterator[FakeOpenRouter]:
    with respx.mock(base_url=FAKE_BASE, assert_all_called=False) as router:
        yield FakeOpenRouter(router)
