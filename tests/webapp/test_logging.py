"""The OpenRouter key never reaches a log line."""

from __future__ import annotations

import logging

import pytest

from webapp.logging import RedactSecrets, redact


def test_redact_masks_keys_and_bearer_tokens() -> None:
    line = "calling with Authorization: Bearer sk-or-v1-abc123 and key sk-or-v1-def456"

    cleaned = redact(line)

    assert "sk-or-v1" not in cleaned
    assert cleaned.count("[redacted]") == 2


def test_filter_masks_the_configured_key(settings: pytest.FixtureRequest) -> None:
    settings.OPENROUTER_API_KEY = "custom-key-without-prefix"  # type: ignore[attr-defined]
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "failed with %s", ("custom-key-without-prefix",), None
    )

    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == "failed with [redacted]"
