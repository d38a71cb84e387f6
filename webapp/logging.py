"""Log hygiene: the OpenRouter key must never reach a log line."""

from __future__ import annotations

import logging
import re

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+")
_OPENROUTER_KEY = re.compile(r"sk-or-[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    text = _BEARER.sub(r"\1[redacted]", text)
    return _OPENROUTER_KEY.sub("[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's rendered message so that keys and bearer tokens are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        from django.conf import settings

        message = record.getMessage()
        cleaned = redact(message)
        key = getattr(settings, "OPENROUTER_API_KEY", "")
        if key:
            cleaned = cleaned.replace(key, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
