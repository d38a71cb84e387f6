"""Each person's last model, style and options, offered again on the Generate page.

``preferences_for(user)`` reads them (an unsaved, empty preference for someone
who never generated); ``remember(user, …)`` writes them after a submission. The
Profile page may edit the same row through these two functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from generation.models import GenerationPreference

# Option values worth remembering are short: a seed, a ratio, a colour. Long
# structured values (text layouts, JSON) are left out rather than stored.
MAX_OPTION_CHARS = 200


def preferences_for(user: AbstractBaseUser | AnonymousUser) -> GenerationPreference:
    """The user's stored preference, or an unsaved empty one (never None)."""
    if user.pk is None:
        return GenerationPreference()
    found = GenerationPreference.objects.filter(user_id=user.pk).first()
    return found or GenerationPreference(user_id=user.pk)


def remember(
    user: AbstractBaseUser, *, model_slug: str, style: str, options: Mapping[str, Any]
) -> GenerationPreference:
    """Store what ``user`` just generated with, replacing what was stored.

    ``options`` maps option names to submitted values; blank and overlong
    values are dropped.
    """
    kept = {
        name: value
        for name, value in options.items()
        if value not in (None, "") and len(str(value)) <= MAX_OPTION_CHARS
    }
    preference, _ = GenerationPreference.objects.update_or_create(
        user_id=user.pk, defaults={"model_slug": model_slug, "style": style, "options": kept}
    )
    return preference
