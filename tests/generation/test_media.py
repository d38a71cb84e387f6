"""Image bytes are served only to those who may see them, SVG sandboxed; 503 while storage is down."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from PIL import Image as PILImage

from generation import imaging, storage
from generation.models import Image, Job, Status
from tests.concurrency import run_async
from tests.generation.conftest import submit
from tests.services import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def finished_job(user: User, capture: Any, *, private: bool = False, svg: bool = False) -> Image:
    with capture(execute=False):
        job = submit(user, "openai/gpt-image-1", "a blue door at noon", private=private)
    if svg:
        data = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    else:
        out = io.BytesIO()
        PILImage.new("RGB", (32, 32), (0, 0, 255)).save(out, format="PNG")
        data = out.getvalue()
    verified = imaging.verify(data, "")
    key = storage.put(storage.original_key(verified.sha256, verified.media_type), verified.data)
    thumb = storage.put(
        storage.thumbnail_key(verified.sha256, verified.thumbnail_media_type), verified.thumbnail
    )
    Job.objects.filter(pk=job.pk).update(status=Status.SUCCEEDED)
    return Image.objects.create(
        job=job,
        index=0,
        original_key=key,
        thumbnail_key=thumb,
        media_type=verified.media_type,
        width=verified.width,
        height=verified.height,
        bytes=len(verified.data),
        sha256=verified.sha256,
    )


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_original_and_thumbnail_for_a_team_member(
    user: User, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks)
    teammate = Client()
    teammate.force_login(make_user("bob"))

    original = teammate.get(f"/media/{image.pk}/original")
    thumbnail = teammate.get(f"/media/{image.pk}/thumbnail")

    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    data = body(original)
    assert PILImage.open(io.BytesIO(data)).size == (32, 32)
    assert original["Content-Length"] == str(len(data)) == str(image.bytes)
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert thumbnail["Content-Length"] == str(len(body(thumbnail)))
    assert "sandbox" in original["Content-Security-Policy"]


def test_download_uses_a_real_file_name(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks)

    response = user_client.get(f"/media/{image.pk}/original?download=1")

    assert response["Content-Disposition"] == (
        'attachment; filename="darkroom-a-blue-door-at-noon-gpt-image-1-1.png"'
    )


def test_private_image_bytes_are_invisible_to_others(
    user: User, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks, private=True)
    other = Client()
    other.force_login(make_user("bob"))
    owner = Client()
    owner.force_login(user)

    assert other.get(f"/media/{image.pk}/original").status_code == 404
    assert other.get(f"/media/{image.pk}/thumbnail").status_code == 404
    assert owner.get(f"/media/{image.pk}/original").status_code == 200


def test_anonymous_visitors_get_nothing(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks)

    response = Client().get(f"/media/{image.pk}/original")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_svg_is_served_sandboxed(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks, svg=True)

    response = user_client.get(f"/media/{image.pk}/original")

    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_file_missing_from_storage_is_a_404(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks)
    Image.objects.filter(pk=image.pk).update(original_key="images/00/missing.png")

    assert user_client.get(f"/media/{image.pk}/original").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_bytes_are_streamed_not_buffered(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import AsyncClient

    image = finished_job(user, django_capture_on_commit_callbacks)
    client = AsyncClient()
    client.force_login(user)

    async def fetch() -> tuple[bool, bytes]:
        response: Any = await client.get(f"/media/{image.pk}/original")
        chunks = [chunk async for chunk in response.streaming_content]
        return response.is_async, b"".join(chunks)

    is_async, data = run_async(fetch())

    assert is_async  # Django would otherwise read the whole file before sending
    assert PILImage.open(io.BytesIO(data)).size == (32, 32)


def test_storage_refusing_connections_is_a_503_with_a_message(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    image = finished_job(user, django_capture_on_commit_callbacks)
    dead = f"http://127.0.0.1:{free_port()}"
    options = {**settings.S3_OPTIONS, "endpoint_url": dead}
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    client = Client(raise_request_exception=False)
    client.force_login(user)

    with override_settings(STORAGES=storages, S3_OPTIONS=options, S3_ENDPOINT_URL=dead):
        original = client.get(f"/media/{image.pk}/original")
        thumbnail = client.get(f"/media/{image.pk}/thumbnail")

    assert original.status_code == 503
    assert thumbnail.status_code == 503
    text = original.content.decode()
    assert "image storage is not answering right now" in text
    assert "Try again in a minute" in text
    assert dead not in text
    # Back on the real storage, the same image is served again.
    assert body(user_client.get(f"/media/{image.pk}/original"))
