"""Files go to the S3-compatible server over HTTP whenever a bucket is configured."""

from __future__ import annotations

import boto3
import httpx
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from storages.backends.s3 import S3Storage


def test_configured_storage_is_s3() -> None:
    assert settings.USE_S3
    assert isinstance(storages["default"], S3Storage)


def test_store_and_read_back_through_the_real_s3_server() -> None:
    payload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64

    name = default_storage.save("tests/roundtrip.png", ContentFile(payload))
    try:
        with default_storage.open(name) as stored:
            assert stored.read() == payload
        # Read it back with a separate client to prove it went over HTTP to the server.
        s3 = boto3.client(
            "s3",
            endpoint_url=settings.S3_ENDPOINT_URL,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        head = s3.head_object(Bucket=settings.S3_BUCKET, Key=name)
        assert head["ContentLength"] == len(payload)
        assert head["ContentType"] == "image/png"
    finally:
        default_storage.delete(name)
    assert not default_storage.exists(name)


def test_bucket_is_private() -> None:
    name = default_storage.save("tests/private.txt", ContentFile(b"secret"))
    try:
        public_url = f"{settings.S3_ENDPOINT_URL}/{settings.S3_BUCKET}/{name}"
        assert httpx.get(public_url, timeout=5).status_code == 403
    finally:
        default_storage.delete(name)
