"""Where image bytes live: content-addressed keys in the configured storage.

The key of a file is its SHA-256, so the same bytes are stored once however
many jobs (or redelivered tasks) produce them, and a key never changes meaning.
"""

from __future__ import annotations

import functools
import mimetypes
import threading
from typing import IO, Any

import boto3
from botocore.config import Config as BotoConfig
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation.models import MEDIA_EXTENSIONS, Job


def original_key(sha256: str, media_type: str) -> str:
    return f"images/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def thumbnail_key(sha256: str, media_type: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def reference_key(sha256: str, media_type: str) -> str:
    return f"references/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def put(key: str, data: bytes) -> str:
    """Store ``data`` under ``key``; returns the key.

    Keys are content hashes, so writing a key again writes the same bytes:
    no existence check first. On S3 this is one PUT through one client shared
    by every thread of the process (boto3 clients are thread-safe; the
    django-storages connection is built per thread, which costs a worker with
    hundreds of threads most of its CPU). Locally, an existing file is kept.
    """
    if settings.USE_S3:
        _s3_client().put_object(
            Bucket=settings.S3_BUCKET, Key=key, Body=data, ContentType=_content_type(key)
        )
        return key
    if default_storage.exists(key):
        return key
    return default_storage.save(key, ContentFile(data))


_client_lock = threading.Lock()
UPLOAD_READ_TIMEOUT = 20


@functools.cache
def _cached_client(bucket: str, endpoint: str | None) -> Any:
    options: dict[str, Any] = settings.S3_OPTIONS
    config = options["client_config"].merge(
        BotoConfig(
            s3={"addressing_style": options.get("addressing_style", "path")},
            signature_version=options.get("signature_version", "s3v4"),
            max_pool_connections=50,
            # Uploads, from workers: longer than a page's reads (a large PUT on a
            # busy server), and ``storing._put_durably`` retries around them.
            read_timeout=UPLOAD_READ_TIMEOUT,
            retries={"total_max_attempts": 2, "mode": "standard"},
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


def _s3_client() -> Any:
    # Settings may differ between tests; the cache key follows them.
    with _client_lock:
        return _cached_client(settings.S3_BUCKET, settings.S3_ENDPOINT_URL or None)


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def open_file(key: str) -> IO[bytes]:
    return default_storage.open(key, "rb")


def read(key: str) -> bytes:
    with open_file(key) as handle:
        return handle.read()


def delete(key: str) -> None:
    default_storage.delete(key)


def download_name(job: Job, index: int, extension: str) -> str:
    """A real file name: the prompt's first words, the model, the image number."""
    words = "".join(c if c.isalnum() else "-" for c in job.prompt.lower()[:48]).strip("-")
    words = "-".join(part for part in words.split("-") if part) or "image"
    model = job.model_slug.split("/")[-1]
    return f"darkroom-{words}-{model}-{index + 1}.{extension}"
