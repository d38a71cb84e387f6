"""Team settings read from the environment: single sign-on, sign-in and e-mail.

``webapp.settings`` calls these once; nothing else reads these variables.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from webapp import env


def oidc_provider() -> dict[str, Any] | None:
    """allauth's OpenID Connect app from ``DARKROOM_OIDC_*``, or None when SSO is off.

    SSO is on when a client id and an issuer URL are both set; one without the
    other stops start-up, since a half-configured sign-in button only fails later.
    """
    client_id = env.string("DARKROOM_OIDC_CLIENT_ID")
    issuer = env.string("DARKROOM_OIDC_ISSUER_URL")
    if not client_id and not issuer:
        return None
    if not client_id or not issuer:
        missing = "DARKROOM_OIDC_CLIENT_ID" if not client_id else "DARKROOM_OIDC_ISSUER_URL"
        raise ImproperlyConfigured(f"{missing} must be set too: single sign-on needs both.")
    issuer = env.http_url("DARKROOM_OIDC_ISSUER_URL", issuer)
    return {
        "provider_id": "sso",
        "name": env.string("DARKROOM_OIDC_NAME", "single sign-on") or "single sign-on",
        "client_id": client_id,
        "secret": env.string("DARKROOM_OIDC_CLIENT_SECRET"),
        "settings": {"server_url": issuer},
    }


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def email_domains() -> list[str]:
    """The e-mail domains SSO accepts (lower case, no ``@``); empty: any invited person."""
    return [domain.lower().lstrip("@") for domain in env.csv("DARKROOM_SSO_EMAIL_DOMAINS")]


def email_settings(debug: bool) -> dict[str, Any]:
    """Django's e-mail settings: SMTP to ``EMAIL_HOST``. In development without
    it, the console (messages are printed in the web server's log, as in
    ``make run``); in production without it, an SMTP server on localhost:25,
    since a console there would lose every invitation silently."""
    host = env.string("EMAIL_HOST") or ("" if debug else "localhost")
    values: dict[str, Any] = {
        "DEFAULT_FROM_EMAIL": env.string("DARKROOM_EMAIL_FROM", "Darkroom <darkroom@localhost>")
    }
    if not host:
        values["MAILERS"] = {
            "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        }
        return values
    use_ssl = env.boolean("EMAIL_USE_SSL", False)
    local = not env.string("EMAIL_HOST")
    default_port = 25 if local else 465 if use_ssl else 587
    values["MAILERS"] = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": host,
                "port": env.integer("EMAIL_PORT", default_port, minimum=1, maximum=65535),
                "username": env.string("EMAIL_HOST_USER"),
                "password": env.string("EMAIL_HOST_PASSWORD"),
                "use_ssl": use_ssl,
                # The production fallback (a local relay) speaks plain SMTP.
                "use_tls": not use_ssl and not local and env.boolean("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
    return values
