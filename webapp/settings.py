"""Darkroom's settings, read from the environment only (see README, "Configuration").

Development gets safe defaults; production (DJANGO_DEBUG=0) never defaults a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from dotenv import load_dotenv

from team import config as _team_config
from webapp import env
from webapp.limits import GenerationLimits, served_url

BASE_DIR = Path(__file__).resolve().parent.parent

# A developer's .env fills in what the real environment leaves unset; it never overrides it.
load_dotenv(BASE_DIR / ".env", override=False)

# Local state of a single-machine install (SQLite, media, collected static files).
VAR_DIR = Path(env.string("DARKROOM_VAR_DIR") or BASE_DIR / "var")

DEBUG = env.boolean("DJANGO_DEBUG", True)

if DEBUG:
    SECRET_KEY = (
        env.string("DJANGO_SECRET_KEY") or "dev-only-not-secret-3f9c1b7e2a6d4c8e9f0a1b2c3d4e5f60"
    )
else:
    SECRET_KEY = env.required(
        "DJANGO_SECRET_KEY",
        "production (DJANGO_DEBUG=0) refuses to start without a secret key; generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`",
    )

ALLOWED_HOSTS = env.csv("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env.csv("DJANGO_CSRF_TRUSTED_ORIGINS")
# Where `make run` serves (scripts/run.py reads the same variables).
DARKROOM_HOST = env.string("DARKROOM_HOST", "127.0.0.1") or "127.0.0.1"
DARKROOM_PORT = env.integer("DARKROOM_PORT", 8000, minimum=1, maximum=65535)
# The address people open; sent to OpenRouter as HTTP-Referer (app attribution).
# Unset, it is where this machine serves, so attribution matches `make run`.
DARKROOM_PUBLIC_URL = env.http_url("DARKROOM_PUBLIC_URL", served_url(DARKROOM_HOST, DARKROOM_PORT))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "webapp",
    "catalog",
    "generation",
    "gallery",
    "costs",
    "team",
    # Single sign-on: allauth's OpenID Connect client (team/sso.py decides who may sign in).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    # First, so that it sees every response: a request that failed because the
    # database, Redis or storage is down is answered 503 with a message, not 500.
    "webapp.middleware.UnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Authorization: Bearer <personal API token> makes that token's user the
    # request's user (and skips CSRF: browsers never send the header on their own).
    "webapp.middleware.ApiTokenMiddleware",
    "webapp.input_guard.UnstorableInputMiddleware",  # NUL in a path or query: 400
    # Every page and endpoint needs a login unless its view says otherwise
    # (@login_not_required: the login page and /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "team.middleware.LastSeenMiddleware",  # the Members page's "last seen"
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "webapp.context_processors.darkroom",
                "team.context_processors.team",
            ],
        },
    },
]

if not env.string("DATABASE_URL"):
    # The default SQLite file lives in var/, which a fresh clone does not have yet.
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'darkroom.sqlite3'}",
        # Persistent connections misbehave under ASGI (each request may run on
        # another thread), so every request opens its own.
        conn_max_age=0,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One pool per process: a generation worker's hundreds of threads share a
    # few connections instead of opening one per task (and per request).
    from psycopg_pool import ConnectionPool

    # Django's backend, answering at once while the server is down (webapp/postgresql).
    DATABASES["default"]["ENGINE"] = "webapp.postgresql"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # A PostgreSQL that does not answer must give a quick "unavailable" page,
    # not hold every request for a minute: libpq waits forever by default.
    _options.setdefault("connect_timeout", 5)
    _options["pool"] = {
        "min_size": 1,
        "max_size": env.integer("DARKROOM_DB_POOL_SIZE", 20, minimum=1, maximum=200),
        # How long a request waits for a connection before it is answered 503.
        # Queries take milliseconds and the worker hands its connection back
        # while it waits on OpenRouter, so waiting longer only hides an outage.
        "timeout": 5,
        # Connections a restart broke are found and replaced when they are
        # handed out, instead of failing the request that got them.
        "check": ConnectionPool.check_connection,
        # The pool retries a failed connect with doubling delays; giving up
        # after 2 s means the next request after an outage connects at once
        # rather than waiting out a backoff grown over the outage.
        "reconnect_timeout": 2,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE makes
    # writers queue for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.string("REDIS_URL", "redis://localhost:6379/0")
# A Redis that does not answer must fail fast enough to tell the user, not hang a minute.
REDIS_SOCKET_TIMEOUT = 5

CACHES = {
    "default": {
        # One client and pool for the process, not one per request thread (see webapp.cache).
        "BACKEND": "webapp.cache.SharedRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Team: sign-in, single sign-on, invitations (see README, "Team").
# With DARKROOM_PASSWORD_LOGIN=0 no password is accepted anywhere (login page,
# admin, invitations, password reset): only the identity provider signs people in.
DARKROOM_PASSWORD_LOGIN = env.boolean("DARKROOM_PASSWORD_LOGIN", True)
AUTHENTICATION_BACKENDS = [
    "team.backends.MemberBackend" if DARKROOM_PASSWORD_LOGIN else "team.backends.NoPasswordBackend"
]
DARKROOM_OIDC = _team_config.oidc_provider()
DARKROOM_SSO_EMAIL_DOMAINS = _team_config.email_domains()
if not DARKROOM_PASSWORD_LOGIN and DARKROOM_OIDC is None:
    raise ImproperlyConfigured(
        "DARKROOM_PASSWORD_LOGIN=0 needs single sign-on: set DARKROOM_OIDC_CLIENT_ID and "
        "DARKROOM_OIDC_ISSUER_URL, or nobody could sign in."
    )
DARKROOM_INVITATION_DAYS = env.integer(
    "DARKROOM_INVITATION_DAYS", 7, minimum=1, maximum=90, unit="days"
)
# Failed sign-ins (per address and per username) and bad invitation links (per
# address) allowed in a 15-minute window, counted in the Redis cache.
DARKROOM_LOGIN_ATTEMPTS = env.integer("DARKROOM_LOGIN_ATTEMPTS", 10, minimum=1, maximum=1000)
PASSWORD_RESET_TIMEOUT = 3600 * 3
globals().update(_team_config.email_settings(DEBUG))

SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": [DARKROOM_OIDC] if DARKROOM_OIDC else [],
        "OAUTH_PKCE_ENABLED": True,
        "SCOPE": ["openid", "profile", "email"],
    }
}
SOCIALACCOUNT_ADAPTER = "team.sso.SocialAccountAdapter"
ACCOUNT_ADAPTER = "team.sso.AccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in button POSTs, with CSRF
SOCIALACCOUNT_STORE_TOKENS = False
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.string("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Images live in S3-compatible storage when a bucket is configured, in local
# files otherwise. The bucket stays private either way: browsers never get a
# storage URL, only Darkroom's own authenticated /media/ view, which checks who
# may see the image on every request, serves SVG sandboxed, and sets the real
# download name (see README, "Storage").
S3_BUCKET = env.string("S3_BUCKET")
S3_ENDPOINT_URL = env.string("S3_ENDPOINT_URL")
USE_S3 = bool(S3_BUCKET)
MEDIA_ROOT = VAR_DIR / "media"

# Seconds a storage request may wait for an answer before the page says 503.
S3_TIMEOUT = env.integer("DARKROOM_S3_TIMEOUT", 5, minimum=1, maximum=300, unit="seconds")

S3_OPTIONS: dict[str, Any] = {}
if USE_S3:
    S3_OPTIONS = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL or None,
        "access_key": env.string("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env.string("AWS_SECRET_ACCESS_KEY") or None,
        "region_name": env.string("S3_REGION", "us-east-1"),
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 600,
        "file_overwrite": True,  # keys are content hashes: same key, same bytes
        "addressing_style": env.choice("S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto")),
        "signature_version": "s3v4",
        # boto3 >= 1.36 sends checksums many S3-compatible servers reject.
        "client_config": BotoConfig(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # Short: a storage server that hangs must turn into a 503 for the
            # page within seconds (webapp.unavailable); the worker's uploads
            # have their own retries (generation.storage.put).
            connect_timeout=3,
            read_timeout=S3_TIMEOUT,
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
        # One PUT below 64 MiB: multipart uploads cost tens of MiB of copies.
        "transfer_config": TransferConfig(multipart_threshold=64 * 1024 * 1024, use_threads=False),
    }
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": S3_OPTIONS}
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }

STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The OpenRouter key stays on the server: it is read here, used only in the
# Authorization header, and scrubbed from every log line.
OPENROUTER_API_KEY = env.string("OPENROUTER_API_KEY")
OPENROUTER_EMULATED = not OPENROUTER_API_KEY
OPENROUTER_EMULATOR_PORT = env.integer("OPENROUTER_EMULATOR_PORT", 8765, minimum=1, maximum=65535)
OPENROUTER_BASE_URL = env.string("OPENROUTER_BASE_URL") or (
    f"http://127.0.0.1:{OPENROUTER_EMULATOR_PORT}/api/v1"
    if OPENROUTER_EMULATED
    else "https://openrouter.ai/api/v1"
)
OPENROUTER_TITLE = "Darkroom"

# The longest a single generation may take, upstream call and storing included.
# Every bound that depends on it is derived in one place (webapp/limits.py).
GENERATION_LIMITS = GenerationLimits(
    env.integer(
        "DARKROOM_GENERATION_TIME_LIMIT",
        300,
        minimum=GenerationLimits.MINIMUM,
        maximum=GenerationLimits.MAXIMUM,
        unit="seconds",
    )
)
GENERATION_TIME_LIMIT = GENERATION_LIMITS.total
# The OpenRouter call's own bound: the rest of the limit is left for storing.
GENERATION_CALL_LIMIT = GENERATION_LIMITS.call
# The sweep ends a job still running this long after it started.
GENERATION_OVERSTAY_SECONDS = GENERATION_LIMITS.overstay
# First wait before retrying a transient upstream failure; doubles each time.
DARKROOM_RETRY_BACKOFF_SECONDS = (
    env.integer("DARKROOM_RETRY_BACKOFF_MS", 5000, minimum=0, maximum=60000, unit="ms") / 1000
)
# How long a worker keeps retrying to store paid images while storage is down.
DARKROOM_STORAGE_RETRY_SECONDS = env.integer(
    "DARKROOM_STORAGE_RETRY_SECONDS", 600, minimum=0, maximum=86400, unit="s"
)
# Decoded pixels a process holds at once across its decodes (about 4 bytes
# each): 64 is one 8K image, four whole 4K ones or dozens of 4K PNGs thumbnailed
# a strip at a time (generation/pixel_budget.py).
DARKROOM_DECODE_MEGAPIXELS = env.integer(
    "DARKROOM_DECODE_MEGAPIXELS", 64, minimum=8, maximum=4096, unit="megapixels"
)
# Threads reading every model's endpoints during a catalog sync (each call is a
# network round trip: 300 models at 200 ms take 2.6 s on 24 threads).
DARKROOM_CATALOG_SYNC_THREADS = env.integer(
    "DARKROOM_CATALOG_SYNC_THREADS", 24, minimum=1, maximum=64, unit="threads"
)
# The text model that calls the openrouter:image_generation server tool.
DARKROOM_TOOL_TEXT_MODEL = env.string("DARKROOM_TOOL_TEXT_MODEL", "openai/gpt-4o-mini")

# Celery: see webapp/celery.py for the app and the beat schedule.
CELERY_BROKER_URL = REDIS_URL
# Kombu's Redis transport, surviving a Redis that goes away (see webapp/broker.py).
CELERY_BROKER_TRANSPORT = "webapp.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True  # pages read job rows, never Celery results
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# With acks_late alone, a task whose worker process was killed is lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"generation.tasks.run_job": {"queue": "generation"}}
CELERY_TASK_SOFT_TIME_LIMIT = GENERATION_LIMITS.task_soft
CELERY_TASK_TIME_LIMIT = GENERATION_LIMITS.task_hard
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Off: a Redis restart must not touch the generations in flight. Their jobs'
# rows and heartbeats, not the broker, say what still runs, and a redelivered
# task finds its job claimed and does nothing. On, the worker crashed on
# reconnecting (celery#9250) and the paid calls died with it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# One try per publish: with Redis hung each retry waited a socket timeout (a
# submit took 26 s). A job the broker did not take stays queued in the
# database and the sweep sends it (see generation.services.enqueue).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers an unacknowledged task after this long, even if it is
    # still running: keep it far above the longest generation.
    "visibility_timeout": GENERATION_LIMITS.visibility_timeout,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_TIMEZONE = "UTC"

# Security. Development runs on plain http://localhost; production is HTTPS only.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.boolean("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.integer(
        "DJANGO_HSTS_SECONDS", 31536000, minimum=0, maximum=63072000, unit="seconds"
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.boolean("DJANGO_TRUST_X_FORWARDED_PROTO", False):
        # Only behind a proxy that sets this header itself; otherwise clients could spoof it.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A strict policy: no inline script or style, nothing from another origin.
# htmx runs under it with eval off and its indicator styles shipped in our CSS.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if DARKROOM_OIDC:
    # The SSO button's form is answered with a redirect to the identity
    # provider, and browsers apply form-action to that redirect too.
    SECURE_CSP["form-action"] = [
        CSP.SELF,
        _team_config.origin(DARKROOM_OIDC["settings"]["server_url"]),
    ]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "webapp.logging.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": env.string("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # httpx logs every request line at INFO: too chatty for a worker.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
