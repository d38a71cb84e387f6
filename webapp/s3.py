"""The process's S3 clients, shared by every thread.

boto3 clients are thread-safe, and building one (or a django-storages
connection, which is a boto3 resource built per thread) costs tens of
milliseconds of CPU: under uvicorn every request runs on a new thread, so a
thumbnail served through django-storages built a resource per request (most
of that request's CPU), and /healthz built a session. Two clients, because
their callers differ in how long they may wait:

* ``"read"``: pages and downloads; storage's short timeouts and no retry, so
  a hung store becomes a 503 within seconds (``webapp.unavailable``);
* ``"upload"``: the workers' PUTs; a longer read timeout and one retry
  (``generation.storing`` retries around them for minutes).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Literal

import boto3
from botocore.config import Config as BotoConfig
from django.conf import settings

Purpose = Literal["read", "upload"]
UPLOAD_READ_TIMEOUT = 20
_lock = threading.Lock()


def client(purpose: Purpose) -> Any:
    """The shared client for ``purpose`` (settings may differ between tests: the
    cache follows them)."""
    with _lock:
        return _client(purpose, settings.S3_BUCKET, settings.S3_ENDPOINT_URL or None)


@functools.cache
def _client(purpose: Purpose, bucket: str, endpoint: str | None) -> Any:
    options: dict[str, Any] = settings.S3_OPTIONS
    extra: dict[str, Any] = {}
    if purpose == "upload":
        extra = {
            "read_timeout": UPLOAD_READ_TIMEOUT,
            "retries": {"total_max_attempts": 2, "mode": "standard"},
        }
    config = options["client_config"].merge(
        BotoConfig(
            s3={"addressing_style": options.get("addressing_style", "path")},
            signature_version=options.get("signature_version", "s3v4"),
            # A worker's threads, or a gallery page's thumbnails, at once.
            max_pool_connections=50,
            **extra,
        )
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=options.get("endpoint_url"),
        aws_access_key_id=options.get("access_key"),
        aws_secret_access_key=options.get("secret_key"),
        region_name=options.get("region_name"),
        config=config,
    )
