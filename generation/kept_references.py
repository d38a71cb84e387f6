"""References carried between requests: a signed token for an upload kept from a
refused form, and the gallery image or job a Generate link points at (only when
the person may see it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError

from generation.models import Job
from generation.selectors import visible_images, visible_jobs

REFERENCE_SALT = "generation.kept-reference"
# A kept reference (uploaded with a form that was then refused) stays usable this long.
REFERENCE_MAX_AGE = 24 * 3600


def reference_token(user: User, reference: Mapping[str, Any]) -> str:
    """A signed token that carries one stored reference upload for ``user``."""
    return signing.dumps({**reference, "user": user.pk}, salt=REFERENCE_SALT, compress=True)


def read_reference_token(user: User, token: str) -> dict[str, Any] | None:
    """The reference a token carries, when it is valid and ``user``'s; else None."""
    try:
        reference = signing.loads(token, salt=REFERENCE_SALT, max_age=REFERENCE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(reference, dict) or reference.get("user") != user.pk:
        return None
    return {k: v for k, v in reference.items() if k != "user"}


def visible_reference(user: User, image_id: Any) -> dict[str, Any] | None:
    """A gallery image the user may see, as a reference upload (raster images only)."""
    if not image_id:
        return None
    try:
        image = visible_images(user).filter(pk=image_id).first()
    except (ValueError, ValidationError):
        return None
    if image is None or image.media_type == "image/svg+xml":
        return None
    return {
        "kind": "upload",
        "key": image.original_key,
        "media_type": image.media_type,
        "name": f"gallery image {str(image.pk)[:8]}.{image.extension}",
    }


def visible_job(user: User, job_id: Any) -> Job | None:
    """A job the user may see, by its id (None for a missing or malformed id)."""
    if not job_id:
        return None
    try:
        return visible_jobs(user).filter(pk=job_id).first()
    except (ValueError, ValidationError):
        return None
