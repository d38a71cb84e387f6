"""What the generate form reads: generatable models and the default endpoint."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from catalog import estimates, selectors
from catalog.models import Endpoint, ImageModel
from emulator import catalog_data

pytestmark = pytest.mark.django_db


def test_generatable_models_are_current_grouped_and_prefetched(
    synced: Any, django_assert_num_queries: Any
) -> None:
    ImageModel.objects.filter(slug="recraft/recraft-v4").update(retired_at=timezone.now())

    with django_assert_num_queries(3):
        models = list(selectors.generatable_models())
        endpoint_count = sum(len(selectors.current_endpoints(m)) for m in models)
        prices = [
            p for m in models for e in selectors.current_endpoints(m) for p in e.current_prices()
        ]

    assert "recraft/recraft-v4" not in [m.slug for m in models]
    # Every endpoint the emulator serves, less the retired model's one.
    served = sum(len(model["endpoints"]) for model in catalog_data.IMAGE_MODELS)
    assert endpoint_count == served - 1
    assert prices
    groups = dict(selectors.group_by_author(models))
    assert [m.slug for m in groups["black-forest-labs"]] == [
        "black-forest-labs/flux.2-flex",
        "black-forest-labs/flux.2-klein-4b",
        "black-forest-labs/flux.2-max",
        "black-forest-labs/flux.2-pro",
    ]
    assert list(groups) == sorted(groups)


def test_the_default_endpoint_is_the_cheapest(synced: Any) -> None:
    flux = selectors.generatable_models().get(slug="black-forest-labs/flux.2-pro")

    endpoint = selectors.default_endpoint(flux)

    assert endpoint is not None
    assert endpoint.provider_slug == "black-forest-labs"


def test_equal_prices_prefer_streaming_then_name(
    make_model: Callable[..., ImageModel], make_endpoint: Callable[..., Endpoint]
) -> None:
    model = make_model()
    price = [("output_image", "image", "0.04", "")]
    make_endpoint(model, "zeta", prices=price, supports_streaming=True)
    make_endpoint(model, "alpha", prices=price)
    make_endpoint(model, "beta", prices=price, supports_streaming=True)
    make_endpoint(
        model, "gone", prices=[("output_image", "image", "0.01", "")], retired_at=timezone.now()
    )

    endpoint = selectors.default_endpoint(model)

    assert endpoint is not None
    assert endpoint.provider_slug == "beta"


def test_no_default_endpoint_for_retired_or_chat_only_models(
    make_model: Callable[..., ImageModel], make_endpoint: Callable[..., Endpoint]
) -> None:
    retired = make_model("a/retired", retired_at=timezone.now())
    make_endpoint(retired, prices=[("output_image", "image", "0.04", "")])

    assert selectors.default_endpoint(retired) is None
    assert selectors.default_endpoint(make_model("a/chat", image_api=False)) is None


def test_estimate_for_an_endpoint_and_for_a_model(synced: Any) -> None:
    gpt = ImageModel.objects.get(slug="openai/gpt-image-1")
    endpoint = gpt.endpoints.get()

    high = estimates.estimate(endpoint, estimates.EstimateRequest(quality="high"))
    by_model = estimates.estimate(gpt, estimates.EstimateRequest(quality="high"))

    assert high.total == Decimal("0.1664") == by_model.total  # 4160 tokens x $0.00004
    # Seedream has no quality knob: the quality is not counted.
    seedream = ImageModel.objects.get(slug="bytedance-seed/seedream-4.5").endpoints.get()
    assert estimates.estimate(seedream, estimates.EstimateRequest(quality="high")).total == Decimal(
        "0.04"
    )


def test_estimate_for_a_chat_only_model_uses_models_prices(
    make_model: Callable[..., ImageModel],
) -> None:
    from catalog.models import Price, PriceSource

    model = make_model("acme/chat", image_api=False)
    Price.objects.create(
        model=model,
        source=PriceSource.MODELS,
        billable="image_output",
        unit="token",
        cost_usd=Decimal("0.00003"),
        valid_from=timezone.now(),
    )

    result = estimates.estimate(model, estimates.EstimateRequest())

    assert result.total == Decimal("0.0387")
    assert any("/models" in note for note in result.assumptions)


def test_the_endpoint_converts_to_the_clients_type(synced: Any) -> None:
    endpoint = Endpoint.objects.get(
        model__slug="google/gemini-2.5-flash-image", provider_slug="google-vertex"
    )

    spec = endpoint.to_spec()

    assert spec.provider_tag == "google-vertex/global"
    assert spec.supported_parameters["seed"].type == "boolean"
    assert spec.allowed_passthrough_parameters == ("safety_settings",)
    assert {(line.billable, line.cost_usd) for line in spec.pricing} == {
        ("input_text", Decimal("3E-7")),
        ("input_image", Decimal("3E-7")),
        ("output_image", Decimal("0.00003")),
    }
