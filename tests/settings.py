"""Settings for the test suite: the production settings module, pointed at real services.

Importing this module starts Redis, PostgreSQL (or SQLite with
DARKROOM_TEST_DATABASE=sqlite) and an S3-compatible server on free ports; see
tests/services.py. Environment variables are set before webapp.settings reads
them, so the app is configured exactly as it is in production, only elsewhere.
"""

from __future__ import annotations

import os

from tests import services as _services

# Nothing from a developer's .env or shell may leak into the suite.
for _name in ("OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "DJANGO_SECRET_KEY", "S3_BUCKET"):
    os.environ.pop(_name, None)
os.environ["DJANGO_DEBUG"] = "1"
# Sign-in failures are counted per address in Redis for the whole run; the
# suite's many deliberate failures from 127.0.0.1 must not lock later tests
# out. tests/team lowers the limit in-process where it tests it.
os.environ["DARKROOM_LOGIN_ATTEMPTS"] = "1000"
# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make around it are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SERVICES = _services.start_all()
os.environ.update(SERVICES.env)
# The offline OpenRouter emulator, in this process, on a free port: the app and
# the Celery worker processes reach it over real HTTP.
EMULATOR = _services.start_emulator(SERVICES)
os.environ["OPENROUTER_BASE_URL"] = EMULATOR.url

from webapp.settings import *  # noqa: E402, F403
from webapp.settings import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that Celery worker processes see the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(SERVICES.root / "test.sqlite3")}

# Fast hashing: the suite creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
