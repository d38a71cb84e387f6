"""client_from_settings: configuration comes from Django settings, the key only in one header."""

from __future__ import annotations

import httpx
import pytest
import respx

from generation.openrouter import EMULATOR_API_KEY, client_from_settings

django_settings = pytest.importorskip("django.conf").settings


@pytest.fixture
def configured(monkeypatch):
    """Point settings at a fake host without touching anything else."""
    if not django_settings.configured:
        django_settings.configure()

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setattr(django_settings, name, value, raising=False)

    return apply


def test_client_from_settings_sends_key_and_attribution(configured):
    configured(
        OPENROUTER_BASE_URL="https://or.example/api/v1",
        OPENROUTER_API_KEY="sk-or-v1-abcdefabcdefabcdef",
        DARKROOM_PUBLIC_URL="https://studio.example",
        OPENROUTER_TITLE="Darkroom Test",
    )
    with respx.mock(base_url="https://or.example/api/v1") as router:
        route = router.get("/key").respond(200, json={"data": {"label": "k", "usage": 0}})
        with client_from_settings() as client:
            client.get_key()
    request: httpx.Request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-or-v1-abcdefabcdefabcdef"
    assert request.headers["http-referer"] == "https://studio.example"
    assert request.headers["x-openrouter-title"] == "Darkroom Test"
    assert request.headers["x-title"] == "Darkroom Test"


def test_empty_key_sends_the_emulator_dummy(configured):
    configured(
        OPENROUTER_BASE_URL="http://127.0.0.1:8765/api/v1",
        OPENROUTER_API_KEY="",
        DARKROOM_PUBLIC_URL="",
        OPENROUTER_TITLE="",
    )
    with respx.mock(base_url="http://127.0.0.1:8765/api/v1") as router:
        route = router.get("/key").respond(200, json={"data": {"label": "k", "usage": 0}})
        with client_from_settings() as client:
            client.get_key()
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {EMULATOR_API_KEY}"
    assert "http-referer" not in request.headers
    assert request.headers["x-openrouter-title"] == "Darkroom"
