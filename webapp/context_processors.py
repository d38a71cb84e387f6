from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def darkroom(request: HttpRequest) -> dict[str, object]:
    return {"openrouter_emulated": settings.OPENROUTER_EMULATED}
