"""Each person's last model, style and options, offered again on the Generate page.

``preferences_for(user)`` reads them (an unsaved, empty preference for someone
who never generated); ``remember(user, …)`` writes them after a submission. The
Profile page may edit the same row through these two functions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from generation.models import GenerationPreference

# Option values worth remembering are short: a seed, a ratio, a colour. Long
# structured values (text layouts, JSON) are left out rather than stored.
MAX_OPTION_CHARS = 200
# In the session: a digest of what was last stored, so that submitting with the
# same choices again (the usual case) writes nothing.
SESSION_KEY = "darkroom:remembered"


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
    kept = _kept(options)
    preference, _ = GenerationPreference.objects.update_or_create(
        user_id=user.pk, defaults={"model_slug": model_slug, "style": style, "options": kept}
    )
    return preference


def remember_in_session(
    session: MutableMapping[str, Any],
    user: AbstractBaseUser,
    *,
    model_slug: str,
    style: str,
    options: Mapping[str, Any],
) -> None:
    """``remember``, skipped when this session already stored the same choices."""
    choices = {"model": model_slug, "style": style, "options": _kept(options)}
    digest = hashlib.sha256(json.dumps(choices, sort_keys=True, default=str).encode()).hexdigest()
    if session.get(SESSION_KEY) == digest:
        return
    remember(user, model_slug=model_slug, style=style, options=options)
    session[SESSION_KEY] = digest


def _kept(options: Mapping[str, Any]) -> dict[str, Any]:
    """Blank and overlong values are not worth remembering."""
    return {
        name: value
        for name, value in options.items()
        if value not in (None, "") and len(str(value)) <= MAX_OPTION_CHARS
    }
