"""docker-compose.yml describes a complete team server (Docker itself cannot run here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate", "web", "worker", "worker-default", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == APP_SERVICES | {"postgres", "redis", "minio", "minio-init"}
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "minio-data"}


def test_app_services_share_the_runtime_contract(compose: dict[str, Any]) -> None:
    contract = {
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "S3_ENDPOINT_URL",
        "S3_BUCKET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "OPENROUTER_API_KEY",
        "OPENROUTER_BASE_URL",
    }
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert contract <= set(environment), name
        assert environment["DJANGO_DEBUG"] == "0", "compose runs production settings"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["S3_ENDPOINT_URL"] == "http://minio:9000"


def test_secrets_are_required_not_defaulted(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert re.search(r"\$\{" + secret + r":\?", text), secret


def test_services_have_health_checks_and_wait_for_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "worker", "worker-default", "postgres", "redis", "minio"):
        assert "healthcheck" in services[name], name
    web_deps = services["web"]["depends_on"]
    assert web_deps["postgres"]["condition"] == "service_healthy"
    assert web_deps["redis"]["condition"] == "service_healthy"
    assert web_deps["minio-init"]["condition"] == "service_completed_successfully"
    assert web_deps["migrate"]["condition"] == "service_completed_successfully"


def test_workers_serve_both_queues_with_the_right_pools(compose: dict[str, Any]) -> None:
    generation = compose["services"]["worker"]["command"]
    default = compose["services"]["worker-default"]["command"]

    assert generation[generation.index("-Q") + 1] == "generation"
    assert generation[generation.index("-P") + 1] == "threads"
    assert int(generation[generation.index("-c") + 1]) >= 100
    assert default[default.index("-Q") + 1] == "default"
    assert compose["services"]["beat"]["command"][3] == "beat"


def test_minio_bucket_is_created_private(compose: dict[str, Any]) -> None:
    script = " ".join(compose["services"]["minio-init"]["entrypoint"])

    assert "mc mb --ignore-existing local/darkroom" in script
    assert "mc anonymous set none local/darkroom" in script


def test_the_generation_worker_keeps_two_malloc_arenas(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["worker"]["environment"]["MALLOC_ARENA_MAX"] == "2"
    assert "MALLOC_ARENA_MAX" not in services["web"]["environment"]


def test_the_web_server_may_hold_one_descriptor_per_open_page(compose: dict[str, Any]) -> None:
    nofile = compose["services"]["web"]["ulimits"]["nofile"]
    assert nofile["soft"] >= 16384
    assert nofile["hard"] >= nofile["soft"]
