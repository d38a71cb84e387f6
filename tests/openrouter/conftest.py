"""Fixtures for the OpenRouter client tests: a client pointed at a respx-mocked API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from generation.openrouter import OpenRouterClient
from tests.openrouter.payloads import API_KEY, BASE_URL, PUBLIC_IP, REFERER


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must match a route; unmatched ones fail the test."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> Iterator[OpenRouterClient]:
    with OpenRouterClient(
        API_KEY,
        base_url=BASE_URL,
        referer=REFERER,
        title="Darkroom",
        generation_retry_delays=(0, 0, 0, 0),
        resolver=lambda host, port: [PUBLIC_IP],
    ) as instance:
        yield instance
