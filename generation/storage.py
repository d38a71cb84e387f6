"""Where image bytes live: content-addressed keys in the configured storage.

The key of a file is its SHA-256, so the same bytes are stored once however
many jobs (or redelivered tasks) produce them, and a key never changes meaning.
"""

from __future__ import annotations

import mimetypes
from typing import IO, NamedTuple

import botocore.exceptions
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generation.models import MEDIA_EXTENSIONS, Job
from webapp import s3


def original_key(sha256: str, media_type: str) -> str:
    return f"images/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def thumbnail_key(sha256: str, media_type: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def reference_key(sha256: str, media_type: str) -> str:
    return f"references/{sha256[:2]}/{sha256}.{MEDIA_EXTENSIONS.get(media_type, 'bin')}"


def put(key: str, data: bytes) -> str:
    """Store ``data`` under ``key``; returns the key.

    Keys are content hashes, so writing a key again writes the same bytes:
    no existence check first. On S3 this is one PUT through the process's
    shared upload client (``webapp.s3``). Locally, an existing file is kept.
    """
    if settings.USE_S3:
        s3.client("upload").put_object(
            Bucket=settings.S3_BUCKET, Key=key, Body=data, ContentType=_content_type(key)
        )
        return key
    if default_storage.exists(key):
        return key
    return default_storage.save(key, ContentFile(data))


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class Opened(NamedTuple):
    handle: IO[bytes]
    # Bytes in all when the store said so (S3); a local file's handle can seek.
    size: int | None


def open_file(key: str) -> Opened:
    """The stored file, to read from the start. Raises ``FileNotFoundError``.

    On S3 the body streams from one GET through the shared read client: no
    per-thread django-storages connection, no copy into a temporary file.
    """
    if not settings.USE_S3:
        return Opened(default_storage.open(key, "rb"), None)
    try:
        answer = s3.client("read").get_object(Bucket=settings.S3_BUCKET, Key=key)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            raise FileNotFoundError(key) from None
        raise
    return Opened(answer["Body"], answer.get("ContentLength"))


def read(key: str) -> bytes:
    with open_file(key).handle as handle:
        return handle.read()


def delete(key: str) -> None:
    default_storage.delete(key)


def download_name(job: Job, index: int, extension: str) -> str:
    """A real file name: the prompt's first words, the model, the image number."""
    words = "".join(c if c.isalnum() else "-" for c in job.prompt.lower()[:48]).strip("-")
    words = "-".join(part for part in words.split("-") if part) or "image"
    model = job.model_slug.split("/")[-1]
    return f"darkroom-{words}-{model}-{index + 1}.{extension}"
