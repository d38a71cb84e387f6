"""The checks behind /healthz: each returns quickly, with a timeout of its own."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from webapp import s3
from webapp.logging import redact

TIMEOUT_SECONDS = 2


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


def _failure(exc: Exception) -> Check:
    # Only the exception's class and first line: enough to diagnose, never a secret.
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return Check(False, redact(f"{type(exc).__name__}: {first_line}")[:200])


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return _failure(exc)
    return Check(True, connection.vendor)


def check_redis() -> Check:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return _failure(exc)
    finally:
        client.close()
    return Check(True, "ping ok")


def check_storage() -> Check:
    try:
        if settings.USE_S3:
            s3.client("read").head_bucket(Bucket=settings.S3_BUCKET)
            return Check(True, f"s3 bucket {settings.S3_BUCKET}")
        default_storage.listdir("")
    except FileNotFoundError:
        return Check(False, "local media folder is missing")
    except Exception as exc:  # botocore raises many types; all mean "down"
        return _failure(exc)
    return Check(True, "local files")


def report() -> dict[str, object]:
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "storage": check_storage(),
    }
    ok = all(check.ok for check in checks.values())
    return {
        "status": "ok" if ok else "unavailable",
        "checks": {name: check.as_dict() for name, check in checks.items()},
        "openrouter": {
            "mode": "emulator" if settings.OPENROUTER_EMULATED else "openrouter",
            "base_url": settings.OPENROUTER_BASE_URL,
        },
    }
