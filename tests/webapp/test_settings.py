"""Production settings refuse to start without a secret and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

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
