"""Darkroom's OpenRouter client: the only code that speaks HTTP to OpenRouter.

Build a client with ``client_from_settings()`` (or ``OpenRouterClient(...)``
directly) and use it as a context manager. Failures are ``RequestInvalid``
(raised before sending; fix the named field) or ``OpenRouterError`` (check
``retryable``; ``may_be_charged``/``cost`` tell whether money was spent and
``generation_id`` lets ``GET /generation`` confirm it; ``kind`` is
``interrupted`` when an accepted answer was cut off on the way).
"""

from __future__ import annotations

from generation.openrouter.client import DEFAULT_BASE_URL, OpenRouterClient
from generation.openrouter.errors import ErrorKind, OpenRouterError, RequestInvalid
from generation.openrouter.image_config import (
    IMAGE_CONFIG_FAMILIES,
    OptionSpec,
    chat_modalities,
    image_config_options_for,
    validate_image_config,
)
from generation.openrouter.media import sniff_media_type
from generation.openrouter.sse import SSEDecoder, SSEEvent, iter_events
from generation.openrouter.types import (
    Descriptor,
    Endpoint,
    GeneratedImage,
    GenerationResult,
    GenerationStats,
    ImageModel,
    KeyInfo,
    ModelInfo,
    PartialImage,
    PricingLine,
    Usage,
)
from generation.openrouter.validation import validate_image_request, validate_tool_parameters

# Sent when no key is configured: the offline emulator accepts any bearer
# token, and a recognisable dummy reads better in its logs than an empty one.
EMULATOR_API_KEY = "sk-or-emulator"


def client_from_settings() -> OpenRouterClient:
    """A client configured from Django settings.

    Reads ``OPENROUTER_BASE_URL``, ``OPENROUTER_API_KEY`` (empty when the
    offline emulator is in use), ``DARKROOM_PUBLIC_URL`` (sent as
    ``HTTP-Referer``) and ``OPENROUTER_TITLE``.
    """
    from django.conf import settings  # Only here: the rest stays Django-free.

    return OpenRouterClient(
        getattr(settings, "OPENROUTER_API_KEY", "") or EMULATOR_API_KEY,
        base_url=getattr(settings, "OPENROUTER_BASE_URL", "") or DEFAULT_BASE_URL,
        referer=getattr(settings, "DARKROOM_PUBLIC_URL", "") or None,
        title=getattr(settings, "OPENROUTER_TITLE", "") or "Darkroom",
    )


__all__ = [
    "DEFAULT_BASE_URL",
    "EMULATOR_API_KEY",
    "IMAGE_CONFIG_FAMILIES",
    "Descriptor",
    "Endpoint",
    "ErrorKind",
    "GeneratedImage",
    "GenerationResult",
    "GenerationStats",
    "ImageModel",
    "KeyInfo",
    "ModelInfo",
    "OpenRouterClient",
    "OpenRouterError",
    "OptionSpec",
    "PartialImage",
    "PricingLine",
    "RequestInvalid",
    "SSEDecoder",
    "SSEEvent",
    "Usage",
    "chat_modalities",
    "client_from_settings",
    "image_config_options_for",
    "iter_events",
    "sniff_media_type",
    "validate_image_config",
    "validate_image_request",
    "validate_tool_parameters",
]
