"""One emulator per test module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator import EmulatorServer

KEY = {"Authorization": "Bearer sk-or-v1-emulator-test"}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0) as emulator:
        yield emulator


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    httpx.post(f"{server.url}/__emulator__/reset").raise_for_status()
    with httpx.Client(base_url=server.url, headers=KEY, timeout=30) as client:
        yield client
