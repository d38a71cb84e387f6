"""Settings: production refuses to start without a secret and passes the deploy checks;
every numeric setting works across its documented range and start-up refuses the rest."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import respx
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from generation.openrouter import client_from_settings
from webapp import env

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    clean.update(extra_env)
    clean["DJANGO_SETTINGS_MODULE"] = "webapp.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_refuses_to_start() -> None:
    result = run_manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_checks() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 20 + "a-long-and-random-enough-production-secret-1234567890",
        DJANGO_ALLOWED_HOSTS="darkroom.example.com",
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_bad_boolean_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be 0 or 1"):
        env.boolean("DJANGO_DEBUG", True)


def load_settings(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    """Execute webapp/settings.py afresh with ``environment`` and return its names.

    The running suite's settings are not touched: the module runs under another
    name and nothing registers it.
    """
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "webapp" / "settings.py"), run_name="settings_probe")


# (variable, lowest accepted, highest accepted); production-only ones run with DEBUG off.
RANGES = [
    ("DARKROOM_GENERATION_TIME_LIMIT", 10, 3600),
    ("DARKROOM_DB_POOL_SIZE", 1, 200),
    ("DARKROOM_RETRY_BACKOFF_MS", 0, 60000),
    ("DARKROOM_PORT", 1, 65535),
    ("OPENROUTER_EMULATOR_PORT", 1, 65535),
    ("DJANGO_HSTS_SECONDS", 0, 63072000),
]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-long-and-random-enough-production-secret-1234567890abcdef",
}


def _environment(variable: str, value: int) -> dict[str, str]:
    environment = {variable: str(value)}
    if variable.startswith("DJANGO_HSTS"):
        environment.update(PRODUCTION)
    if variable == "DARKROOM_DB_POOL_SIZE":
        environment["DATABASE_URL"] = "postgres://darkroom@127.0.0.1:5432/darkroom"
    return environment


@pytest.mark.parametrize(("variable", "lowest", "highest"), RANGES)
def test_each_numeric_setting_accepts_both_ends_of_its_range(
    monkeypatch: pytest.MonkeyPatch, variable: str, lowest: int, highest: int
) -> None:
    for value in (lowest, highest):
        loaded = load_settings(monkeypatch, **_environment(variable, value))

        assert value in _values_read_from(loaded, variable), (variable, value)


@pytest.mark.parametrize(("variable", "lowest", "highest"), RANGES)
def test_each_numeric_setting_refuses_values_outside_its_range(
    monkeypatch: pytest.MonkeyPatch, variable: str, lowest: int, highest: int
) -> None:
    for value in (lowest - 1, highest + 1):
        with pytest.raises(ImproperlyConfigured, match=f"{variable} must be between") as raised:
            load_settings(monkeypatch, **_environment(variable, value))

        assert f"{lowest} and {highest}" in str(raised.value)


def _values_read_from(loaded: dict[str, Any], variable: str) -> set[float]:
    """Where each variable ends up once the settings have read it."""
    pool = loaded["DATABASES"]["default"].get("OPTIONS", {}).get("pool", {})
    return {
        "DARKROOM_GENERATION_TIME_LIMIT": {loaded["GENERATION_TIME_LIMIT"]},
        "DARKROOM_DB_POOL_SIZE": {pool.get("max_size")},
        "DARKROOM_RETRY_BACKOFF_MS": {loaded["DARKROOM_RETRY_BACKOFF_SECONDS"] * 1000},
        "DARKROOM_PORT": {loaded["DARKROOM_PORT"]},
        "OPENROUTER_EMULATOR_PORT": {loaded["OPENROUTER_EMULATOR_PORT"]},
        "DJANGO_HSTS_SECONDS": {loaded.get("SECURE_HSTS_SECONDS")},
    }[variable]


def test_the_shortest_time_limit_leaves_the_call_most_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = load_settings(monkeypatch, DARKROOM_GENERATION_TIME_LIMIT="10")

    assert loaded["GENERATION_CALL_LIMIT"] == 9.0
    assert loaded["GENERATION_OVERSTAY_SECONDS"] > 10
    assert loaded["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] >= 30
    assert loaded["CELERY_TASK_TIME_LIMIT"] > loaded["CELERY_TASK_SOFT_TIME_LIMIT"]


def test_a_time_limit_below_the_range_stops_start_up_with_its_name() -> None:
    refused = run_manage("check", DARKROOM_GENERATION_TIME_LIMIT="9")
    accepted = run_manage("check", DARKROOM_GENERATION_TIME_LIMIT="10")

    assert refused.returncode != 0
    assert (
        "DARKROOM_GENERATION_TIME_LIMIT must be between 10 and 3600 seconds, not '9'"
        in refused.stderr
    )
    assert accepted.returncode == 0, accepted.stderr


def test_a_non_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="DARKROOM_PORT must be a whole number"):
        load_settings(monkeypatch, DARKROOM_PORT="eighty")


@pytest.mark.parametrize(
    "url", ["localhost:8000", "ftp://studio.example", "https://", "http://x:99999"]
)
def test_a_public_url_that_is_not_one_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DARKROOM_PUBLIC_URL must be an absolute"):
        load_settings(monkeypatch, DARKROOM_PUBLIC_URL=url)


def test_an_unknown_s3_addressing_style_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="S3_ADDRESSING_STYLE must be one of path"):
        load_settings(monkeypatch, S3_BUCKET="b", S3_ADDRESSING_STYLE="sideways")


def test_the_public_url_defaults_to_where_make_run_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DARKROOM_PUBLIC_URL", raising=False)

    default = load_settings(monkeypatch)
    moved = load_settings(monkeypatch, DARKROOM_HOST="studio.lan", DARKROOM_PORT="9100")
    chosen = load_settings(monkeypatch, DARKROOM_PUBLIC_URL="https://darkroom.example.com/")

    assert default["DARKROOM_PUBLIC_URL"] == "http://localhost:8000"
    assert moved["DARKROOM_PUBLIC_URL"] == "http://studio.lan:9100"
    assert chosen["DARKROOM_PUBLIC_URL"] == "https://darkroom.example.com"


@pytest.mark.parametrize(
    ("environment", "referer"),
    [
        ({"DARKROOM_PORT": "9100"}, "http://localhost:9100"),
        ({"DARKROOM_HOST": "studio.lan", "DARKROOM_PORT": "8080"}, "http://studio.lan:8080"),
        ({"DARKROOM_PUBLIC_URL": "https://darkroom.example.com"}, "https://darkroom.example.com"),
    ],
)
def test_the_public_url_reaches_openrouter_as_http_referer(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], referer: str
) -> None:
    monkeypatch.delenv("DARKROOM_PUBLIC_URL", raising=False)
    loaded = load_settings(monkeypatch, **environment)

    with (
        override_settings(
            DARKROOM_PUBLIC_URL=loaded["DARKROOM_PUBLIC_URL"],
            OPENROUTER_BASE_URL="https://or.example/api/v1",
        ),
        respx.mock(base_url="https://or.example/api/v1") as router,
    ):
        route = router.get("/key").respond(200, json={"data": {"label": "k", "usage": 0}})
        with client_from_settings() as client:
            client.get_key()

    assert route.calls.last.request.headers["http-referer"] == referer
