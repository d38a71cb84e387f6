"""Discovery and accounting: /images/models, endpoints, /models paging, /key, /generation."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from generation.openrouter import (
    Descriptor,
    Endpoint,
    ErrorKind,
    ImageModel,
    OpenRouterError,
    PricingLine,
    RequestInvalid,
)
from tests.openrouter.payloads import (
    API_KEY,
    MODELS_PAGE,
    REFERER,
    SEEDREAM_ENDPOINTS_JSON,
    SEEDREAM_MODEL,
)


def assert_api_headers(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["http-referer"] == REFERER
    assert request.headers["x-openrouter-title"] == "Darkroom"
    assert request.headers["x-title"] == "Darkroom"


def test_list_image_models(api, client):
    odd = {"id": "recraft/recraft-v4-vector", "created": 0, "supported_parameters": None}
    route = api.get("/images/models").respond(
        200, json={"data": [SEEDREAM_MODEL, odd, {"name": "no id"}]}
    )
    models = client.list_image_models()

    request = route.calls.last.request
    assert str(request.url) == "https://openrouter.ai/api/v1/images/models"
    assert_api_headers(request)
    assert [model.id for model in models] == [
        "bytedance-seed/seedream-4.5",
        "recraft/recraft-v4-vector",
    ]
    seedream, vector = models
    assert seedream == ImageModel(
        id="bytedance-seed/seedream-4.5",
        name="Seedream 4.5",
        description="A text-to-image model.",
        created=1692901234,
        input_modalities=("text", "image"),
        output_modalities=("image",),
        supported_parameters={
            "resolution": Descriptor("enum", ("1K", "2K", "4K")),
            "seed": Descriptor("boolean"),
        },
        supports_streaming=False,
        endpoints_url="/api/v1/images/models/bytedance-seed/seedream-4.5/endpoints",
    )
    assert seedream.raw == SEEDREAM_MODEL
    assert (vector.created, vector.name, vector.supported_parameters) == (
        0,
        "recraft/recraft-v4-vector",
        {},
    )


def test_get_endpoints_parses_pricing_exactly(api, client):
    route = api.get("/images/models/bytedance-seed/seedream-4.5/endpoints").respond(
        200, content=SEEDREAM_ENDPOINTS_JSON.encode(), headers={"content-type": "application/json"}
    )
    endpoints = client.get_endpoints("bytedance-seed/seedream-4.5")

    assert_api_headers(route.calls.last.request)
    assert [endpoint.provider_slug for endpoint in endpoints] == ["bytedance", "fal"]
    bytedance, fal = endpoints
    assert bytedance.pricing == (PricingLine("output_image", "image", Decimal("0.05")),)
    assert bytedance.provider_tag == "bytedance"
    assert bytedance.supported_parameters["resolution"].values == ("1K", "2K", "4K")
    assert fal.provider_tag is None
    assert fal.supports_streaming is True
    assert fal.allowed_passthrough_parameters == ("steps",)
    # 3e-05 is exact, the unpriced line is dropped rather than read as free.
    assert fal.pricing == (
        PricingLine("input_text", "token", Decimal("0.00003")),
        PricingLine("output_image", "megapixel", Decimal("0.04"), "4k"),
    )


def test_endpoint_round_trips_through_its_raw_payload():
    raw = json.loads(SEEDREAM_ENDPOINTS_JSON)["endpoints"][1]
    endpoint = Endpoint.from_api(raw)
    assert endpoint is not None
    assert Endpoint.from_api(endpoint.raw) == endpoint
    assert endpoint.pricing[0].as_json() == {
        "billable": "input_text",
        "unit": "token",
        "cost_usd": "0.00003",
    }


def test_descriptor_as_json_round_trip():
    for raw in (
        {"type": "enum", "values": ["1K", "2K"]},
        {"type": "range", "min": 0, "max": 100},
        {"type": "boolean"},
    ):
        assert Descriptor.from_api(raw).as_json() == raw


def test_endpoint_path_quotes_variant_suffix(api, client):
    route = api.get("/images/models/google/gemini-2.5-flash-image:free/endpoints").respond(
        200, json={"endpoints": []}
    )
    assert client.get_endpoints("google/gemini-2.5-flash-image:free") == []
    assert route.called


@pytest.mark.parametrize("model_id", ["no-slash", "a/../b?x", "/slug", "author/"])
def test_get_endpoints_rejects_bad_ids_before_sending(api, client, model_id):
    with pytest.raises(RequestInvalid) as caught:
        client.get_endpoints(model_id)
    assert caught.value.field == "model"
    assert not api.calls


def test_list_models_single_page_and_pricing(api, client):
    route = api.get("/models").respond(200, json=MODELS_PAGE)
    models = client.list_models()

    request = route.calls.last.request
    assert request.url.params["output_modalities"] == "image"
    assert "offset" not in request.url.params
    assert_api_headers(request)
    gemini, flux = models
    assert gemini.pricing == {
        "prompt": Decimal("0.0000003"),
        "completion": Decimal("0.0000025"),
        "image": Decimal("0.001238"),
        "image_output": Decimal("0.00003"),
    }
    assert gemini.discount == Decimal(0)
    assert gemini.output_modalities == ("image", "text")
    assert gemini.context_length == 32768
    # Only the keys present, unparseable ones dropped; "0" is a real zero.
    assert flux.pricing == {"prompt": Decimal(0), "completion": Decimal(0)}
    assert flux.discount is None
    assert flux.created == 0


def test_list_models_pages_by_total_count(api, client):
    first = {"data": MODELS_PAGE["data"][:1], "total_count": 2}
    second = {"data": MODELS_PAGE["data"][1:], "total_count": 2}
    route = api.get("/models").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    models = client.list_models("all")

    assert [model.id for model in models] == [
        "google/gemini-2.5-flash-image",
        "black-forest-labs/flux.2-pro",
    ]
    assert route.call_count == 2
    params = route.calls[1].request.url.params
    assert dict(params) == {"output_modalities": "all", "offset": "1", "limit": "1"}


def test_list_models_follows_links_next(api, client):
    next_link = "/api/v1/models?output_modalities=image&offset=1&limit=1"
    route = api.get("/models").mock(
        side_effect=[
            httpx.Response(
                200, json={"data": MODELS_PAGE["data"][:1], "links": {"next": next_link}}
            ),
            httpx.Response(200, json={"data": MODELS_PAGE["data"][1:], "links": {"next": None}}),
        ]
    )
    models = client.list_models()

    assert len(models) == 2
    first, second = (call.request for call in route.calls)
    assert str(first.url) == "https://openrouter.ai/api/v1/models?output_modalities=image"
    assert str(second.url) == f"https://openrouter.ai{next_link}"
    assert_api_headers(second)


def test_list_models_stops_on_an_empty_page(api, client):
    route = api.get("/models").respond(200, json={"data": [], "total_count": 10})
    assert client.list_models() == []
    assert route.call_count == 1


def test_list_models_refuses_a_next_link_to_another_host(api, client):
    api.get("/models").respond(
        200, json={"data": MODELS_PAGE["data"], "links": {"next": "https://evil.example/models"}}
    )
    with pytest.raises(OpenRouterError) as caught:
        client.list_models()
    assert caught.value.kind is ErrorKind.MALFORMED


def test_get_key(api, client):
    route = api.get("/key").respond(
        200,
        json={
            "data": {
                "label": "sk-or-v1-abc...xyz",
                "usage": 12.5,
                "limit": None,
                "limit_remaining": None,
                "is_free_tier": False,
                "rate_limit": {"requests": 10, "interval": "10s"},
            }
        },
    )
    info = client.get_key()
    assert_api_headers(route.calls.last.request)
    assert (info.label, info.usage, info.limit, info.limit_remaining, info.is_free_tier) == (
        "sk-or-v1-abc...xyz",
        Decimal("12.5"),
        None,
        None,
        False,
    )
    assert info.raw["rate_limit"] == {"requests": 10, "interval": "10s"}


GENERATION = {
    "data": {
        "id": "gen-123",
        "total_cost": 0.0391,
        "model": "google/gemini-2.5-flash-image",
        "provider_name": "Google",
        "created_at": "2025-10-01T12:00:00Z",
        "tokens_prompt": 12,
        "tokens_completion": 1300,
        "native_tokens_prompt": 10,
        "native_tokens_completion": 1290,
        "native_tokens_reasoning": 0,
        "num_media_completion": 1,
        "finish_reason": "stop",
        "native_finish_reason": "STOP",
        "generation_time": 8123,
        "latency": 900,
        "cancelled": False,
    }
}


def test_get_generation_retries_early_404s(api, client):
    not_yet = httpx.Response(404, json={"error": {"code": 404, "message": "Generation not found"}})
    route = api.get("/generation", params={"id": "gen-123"}).mock(
        side_effect=[not_yet, not_yet, httpx.Response(200, json=GENERATION)]
    )
    stats = client.get_generation("gen-123")

    assert route.call_count == 3
    assert_api_headers(route.calls.last.request)
    assert stats.id == "gen-123"
    assert stats.total_cost == Decimal("0.0391")
    assert (stats.provider_name, stats.native_finish_reason) == ("Google", "STOP")
    assert (stats.native_tokens_completion, stats.generation_time_ms) == (1290, 8123)
    assert stats.cancelled is False


def test_get_generation_gives_up_after_bounded_attempts(api, client):
    route = api.get("/generation").respond(
        404, json={"error": {"code": 404, "message": "Generation not found"}}
    )
    with pytest.raises(OpenRouterError) as caught:
        client.get_generation("gen-404")
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert route.call_count == 5


def test_get_generation_does_not_retry_other_errors(api, client):
    route = api.get("/generation").respond(500, json={"error": {"code": 500, "message": "x"}})
    with pytest.raises(OpenRouterError) as caught:
        client.get_generation("gen-1", delays=(0, 0))
    assert caught.value.kind is ErrorKind.UPSTREAM
    assert route.call_count == 1


def test_get_generation_tolerates_missing_fields(api, client):
    api.get("/generation").respond(200, json={"data": {"total_cost": "3e-05"}})
    stats = client.get_generation("gen-9")
    assert (stats.id, stats.total_cost, stats.model, stats.cancelled) == (
        "gen-9",
        Decimal("0.00003"),
        None,
        None,
    )
