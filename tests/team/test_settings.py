"""Team settings from the environment: SSO, password sign-in, e-mail."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]


def settings_with(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    for name in ("EMAIL_HOST", "DARKROOM_OIDC_CLIENT_ID", "DARKROOM_OIDC_ISSUER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "webapp" / "settings.py"), run_name="settings_probe")


def test_sso_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = settings_with(
        monkeypatch,
        DARKROOM_OIDC_CLIENT_ID="darkroom",
        DARKROOM_OIDC_CLIENT_SECRET="s3cret",
        DARKROOM_OIDC_ISSUER_URL="https://login.example.com/realms/team/",
        DARKROOM_OIDC_NAME="Example SSO",
        DARKROOM_SSO_EMAIL_DOMAINS="Example.com, @corp.example",
    )

    app = probe["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"][0]
    assert app["client_id"] == "darkroom"
    assert app["secret"] == "s3cret"
    assert app["name"] == "Example SSO"
    assert app["settings"]["server_url"] == "https://login.example.com/realms/team"
    assert probe["DARKROOM_SSO_EMAIL_DOMAINS"] == ["example.com", "corp.example"]
    assert "https://login.example.com" in probe["SECURE_CSP"]["form-action"]


def test_without_sso_there_is_no_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = settings_with(monkeypatch)

    assert probe["DARKROOM_OIDC"] is None
    assert probe["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"] == []
    assert probe["AUTHENTICATION_BACKENDS"] == ["team.backends.MemberBackend"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"DARKROOM_OIDC_CLIENT_ID": "x"}, "DARKROOM_OIDC_ISSUER_URL must be set too"),
        (
            {"DARKROOM_OIDC_ISSUER_URL": "https://idp.example"},
            "DARKROOM_OIDC_CLIENT_ID must be set too",
        ),
        (
            {"DARKROOM_OIDC_CLIENT_ID": "x", "DARKROOM_OIDC_ISSUER_URL": "idp.example"},
            "DARKROOM_OIDC_ISSUER_URL must be an absolute http:// or https:// URL",
        ),
        ({"DARKROOM_PASSWORD_LOGIN": "0"}, "DARKROOM_PASSWORD_LOGIN=0 needs single sign-on"),
        ({"DARKROOM_INVITATION_DAYS": "0"}, "DARKROOM_INVITATION_DAYS must be between 1 and 90"),
        ({"DARKROOM_LOGIN_ATTEMPTS": "many"}, "DARKROOM_LOGIN_ATTEMPTS must be a whole number"),
    ],
)
def test_bad_team_settings_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_with(monkeypatch, **environment)


def test_password_login_off_accepts_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = settings_with(
        monkeypatch,
        DARKROOM_PASSWORD_LOGIN="0",
        DARKROOM_OIDC_CLIENT_ID="x",
        DARKROOM_OIDC_ISSUER_URL="https://idp.example",
    )

    assert probe["AUTHENTICATION_BACKENDS"] == ["team.backends.NoPasswordBackend"]


def test_email_is_smtp_when_a_host_is_set_and_the_console_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = settings_with(monkeypatch)["MAILERS"]["default"]
    smtp = settings_with(
        monkeypatch,
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="darkroom",
        EMAIL_HOST_PASSWORD="pw",
        DARKROOM_EMAIL_FROM="Studio <studio@example.com>",
    )

    assert console["BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert smtp["MAILERS"]["default"]["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert smtp["MAILERS"]["default"]["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 587,
        "username": "darkroom",
        "password": "pw",
        "use_ssl": False,
        "use_tls": True,
        "timeout": 10,
    }
    assert smtp["DEFAULT_FROM_EMAIL"] == "Studio <studio@example.com>"
