"""Real-shaped OpenRouter error bodies.

Every error the emulator answers is ``{"error": {"code": <int>, "message": "…",
"metadata": {…}}}``; ``metadata`` is present for errors that come from a
provider (``provider_name`` and ``raw``, a JSON string) or from moderation
(``reasons``, ``flagged_input``), and absent for OpenRouter's own (401, 402,
404, 413), as on the real service.
"""

from __future__ import annotations

import json
import time
from typing import Any


class ApiError(Exception):
    """An error to answer with; ``status`` is the HTTP status and ``error.code``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.metadata is not None:
            error["metadata"] = self.metadata
        return {"error": error, "user_id": "user_emulator"}


def raw(message: str, **extra: Any) -> str:
    """A provider's own error body, as the JSON string OpenRouter forwards in ``raw``."""
    return json.dumps({"error": {"message": message, **extra}})


def bad_request(message: str, provider_name: str, *, param: str | None = None) -> ApiError:
    """A 400 from provider-side validation: ``metadata.provider_name`` names the provider."""
    return ApiError(
        400,
        message,
        metadata={
            "provider_name": provider_name,
            "raw": raw(message, type="invalid_request_error", param=param),
        },
    )


def unauthorized(message: str = "No auth credentials found") -> ApiError:
    return ApiError(401, message)


def no_endpoints(message: str) -> ApiError:
    return ApiError(404, message)


KEY_LIMIT_MESSAGE = (
    "Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys"
)


def key_limit(status: int = 402) -> ApiError:
    """The key's own limit is reached (the account may still have credits)."""
    return ApiError(status, KEY_LIMIT_MESSAGE)


def failure(
    status: int,
    *,
    model: str,
    provider_name: str,
    prompt: str,
    retry_after: int = 1,
    reason: str | None = None,
) -> ApiError:
    """The error a ``[emulator:fail=CODE]`` directive asks for, shaped like the real one.

    ``reason="key_limit"`` on a 402 or 403 is OpenRouter's answer for a key
    that reached its own spending limit, as opposed to an account out of credits.
    """
    if status in (402, 403) and reason == "key_limit":
        return key_limit(status)
    if status == 429:
        reset_ms = int((time.time() + retry_after) * 1000)
        return ApiError(
            429,
            f"{model} is temporarily rate-limited upstream. Please retry shortly.",
            metadata={
                "provider_name": provider_name,
                "raw": raw("Resource has been exhausted (e.g. check quota).", code=429),
            },
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": "20",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset_ms),
            },
        )
    if status == 403:
        return ApiError(
            403,
            f'{model} requires moderation on {provider_name}. Your input was flagged for "violence". '
            "No credits were charged.",
            metadata={
                "reasons": ["violence"],
                "flagged_input": prompt[:100],
                "provider_name": provider_name,
                "model_slug": model,
            },
        )
    if status == 402:
        return ApiError(
            402,
            "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
        )
    messages = {
        400: "Provider returned error",
        401: "User not found.",
        404: f"No endpoints found for {model}.",
        408: "Request timed out upstream.",
        413: "Request entity too large.",
        500: "Internal Server Error",
        502: "Provider returned error",
        503: f"No allowed providers are available for the selected model {model}.",
        524: "Provider timed out (edge timeout).",
        529: "Provider returned error: overloaded",
    }
    message = messages.get(status, "Provider returned error")
    if status in (401, 404, 413, 500):
        return ApiError(status, message)
    return ApiError(
        status,
        message,
        metadata={
            "provider_name": provider_name,
            "raw": raw(
                {
                    502: "upstream connect error or disconnect/reset before headers",
                    503: "The model is overloaded. Please try again later.",
                    529: "Overloaded",
                }.get(status, message),
                code=status,
            ),
        },
    )
