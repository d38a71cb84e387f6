"""/healthz: 200 with every dependency up, 503 naming the one that is down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client

from tests.services import free_port
from webapp import health

pytestmark = pytest.mark.django_db


def test_all_up_answers_200_without_login() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "redis",
        "storage",
    }
    assert body["checks"]["storage"]["detail"].startswith("s3 bucket")
    assert body["openrouter"]["mode"] == "emulator"
    expected_vendor = os.environ.get("DARKROOM_TEST_DATABASE", "postgres").replace(
        "postgres", "postgresql"
    )
    assert body["checks"]["database"]["detail"] == expected_vendor


def test_redis_down_answers_503(settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = Client().get("/healthz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False
    assert "ConnectionError" in checks["redis"]["detail"]
    assert checks["database"]["ok"] is True


def test_missing_bucket_answers_503(settings: Any) -> None:
    settings.S3_BUCKET = "no-such-bucket"

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False


def test_database_down_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "x",
                "USER": "x",
                "HOST": "127.0.0.1",
                "PORT": free_port(),
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    monkeypatch.setattr(health, "connection", unreachable["default"])

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_local_storage_up_and_missing(settings: Any, tmp_path: Path) -> None:
    settings.USE_S3 = False
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    assert health.check_storage() == health.Check(False, "local media folder is missing")

    (tmp_path / "media").mkdir()

    assert health.check_storage() == health.Check(True, "local files")
