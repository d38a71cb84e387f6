"""Reading the API's JSON bodies by ``webapp.inputs.parse_json_body``: size and
nesting limits, UTF-8, and no text PostgreSQL cannot store (NUL, lone
surrogates). Its ``BadInput`` reaches ``generation.api.errors`` as the cause
of ninja's ``HttpError`` and is answered with its own message and fields
(413 when the body is too large)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from webapp import inputs


class GuardedJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        document = inputs.parse_json_body(request.body)
        if not isinstance(document, dict):
            raise inputs.BadInput("The request body must be a JSON object.")
        return document
