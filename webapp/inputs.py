"""Cleaning input where it enters: forms, query strings, paths and the JSON API.

What the fuzzer turned into server errors, refused here as bad input instead:

- text PostgreSQL cannot store or even compare: NUL characters, and lone
  surrogates (which JSON's ``\\ud800`` escapes can carry but no encoding can);
- "digits" that ``str.isdigit`` accepts and ``int`` refuses (``"²"``), and
  whole numbers past what an id column holds;
- dates whose arithmetic (the day after, the start of a week, a time zone)
  leaves what Python's ``date`` can hold;
- JSON nested deeply enough to exhaust the parser's recursion.

Forms get ``CleanInputMixin``: a bad value becomes a message on its field and
never reaches the form's own code (which may query with it while building
itself). Views that read values directly use ``check_text``,
``whole_number`` and ``bounded_date``; the API reads its body with
``parse_json_body``. ``webapp.input_guard`` applies ``unstorable`` to every
path and query string, so a value nothing here cleans still cannot reach the
database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

UNSTORABLE_MESSAGE = (
    "This contains a character that cannot be stored (a NUL or a broken Unicode "
    "character); remove it and try again."
)
# Ids are PostgreSQL integers or bigints; nothing a person types is longer.
MAX_WHOLE_NUMBER = 2**63 - 1
# Whole days, with room on both sides for the day after, a week's start and
# any UTC offset: every bound of a range stays a date Python can hold.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)
DATE_RANGE_MESSAGE = (
    f"Dates must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
)
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
# A JSON string (skipped whole, escapes and all) or a bracket that nests.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class BadInput(ValueError):
    """A value refused at the edge; ``message`` is for the person, ``fields`` maps
    the names at fault (as the request named them) to their messages."""

    def __init__(self, message: str, fields: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class BodyTooLarge(BadInput):
    """The body is over the API's size limit (answered 413)."""


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL or a lone surrogate."""
    return _UNSTORABLE.search(text) is not None


def check_text(text: str) -> str:
    """``text`` unchanged, or ``BadInput`` when it cannot be stored."""
    if unstorable(text):
        raise BadInput(UNSTORABLE_MESSAGE)
    return text


def unstorable_paths(value: Any, path: str = "") -> Iterator[str]:
    """The paths (``options.x[2]``) of every string or key in a JSON-like value
    that cannot be stored; ``""`` for the value itself."""
    if isinstance(value, str):
        if unstorable(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and unstorable(key):
                yield path or name
            else:
                yield from unstorable_paths(item, name)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from unstorable_paths(item, f"{path}[{index}]")


def query_is_storable(query: QueryDict) -> bool:
    return not any(
        unstorable(key) or any(unstorable(value) for value in values)
        for key, values in query.lists()
    )


def whole_number(raw: str, *, maximum: int = MAX_WHOLE_NUMBER) -> int | None:
    """``raw`` as a whole number from 0 to ``maximum``: ASCII digits only, no sign
    or spaces (``int`` would take ``" ٣"``); None for anything else."""
    if len(raw) > 19 or not _ASCII_DIGITS.fullmatch(raw):
        return None
    number = int(raw)
    return number if number <= maximum else None


def bounded_date(value: date) -> date:
    """``value``, or ``BadInput`` when it is outside the dates every range can use."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise BadInput(DATE_RANGE_MESSAGE)
    return value


def bounded_datetime(value: datetime) -> datetime:
    """``value`` (naive: taken as UTC), or ``BadInput`` outside the bounded dates."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    bounded_date(value.date())
    return value


class BoundedDateField(forms.DateField):
    """A ``DateField`` that refuses dates outside ``EARLIEST_DATE``..``LATEST_DATE``."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None:
            try:
                bounded_date(value)
            except BadInput as exc:
                raise ValidationError(exc.message, code="out_of_range") from None


def without_unstorable(data: Any) -> tuple[Any, dict[str, str]]:
    """A copy of form ``data`` without the keys whose name or values cannot be
    stored, and those keys (``""`` for a key that is itself unstorable)."""
    bad: dict[str, str] = {}
    if isinstance(data, QueryDict):
        cleaned = data.copy()
        for key, values in data.lists():
            if unstorable(key) or any(unstorable(str(value)) for value in values):
                del cleaned[key]
                bad["" if unstorable(key) else key] = UNSTORABLE_MESSAGE
        return cleaned, bad
    if isinstance(data, Mapping):
        kept: dict[str, Any] = {}
        for key, value in data.items():
            items = value if isinstance(value, (list, tuple)) else [value]
            if unstorable(str(key)) or any(
                isinstance(item, str) and unstorable(item) for item in items
            ):
                bad["" if unstorable(str(key)) else str(key)] = UNSTORABLE_MESSAGE
            else:
                kept[key] = value
        return kept, bad
    return data, bad


class CleanInputMixin:
    """For a ``forms.Form`` (first among its bases): values that cannot be stored
    are taken out of the data before the form sees them, and each becomes a
    message on its field (or on the form, for a key that is no field).

    The form then reads as if the value had not been sent: nothing it does while
    building itself (querying the catalog with a model slug, say) can fail on it.
    """

    input_errors: dict[str, str]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        self.input_errors = {}
        if data is not None:
            data, self.input_errors = without_unstorable(data)
        super().__init__(data, *args, **kwargs)  # type: ignore[call-arg]

    @property
    def input_error(self) -> str:
        """The message for what was taken out of the data; "" when nothing was."""
        return next(iter(self.input_errors.values()), "")

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        form: Any = self
        if not form.is_bound or not self.input_errors:
            return
        for key, message in self.input_errors.items():
            name = key if key in form.fields else None
            if name is not None:
                # Replace "This field is required": the value was sent, and refused.
                form._errors.pop(name, None)
            form.add_error(name, message)


def json_depth_exceeded(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in JSON ``text`` nest deeper than ``limit``,
    found without parsing (the parser would recurse once per level)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def parse_json_body(
    raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """The JSON document in ``raw``, with every string storable.

    Raises ``BadInput`` (``fields`` naming each top-level key whose value holds
    unstorable text) for an empty, oversized, undecodable, invalid or too deeply
    nested body. Callers answer 400 (413 for ``BodyTooLarge``).
    """
    if len(raw) > max_bytes:
        raise BodyTooLarge(f"The request body is larger than {max_bytes // 1024} KiB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("The request body must be JSON in UTF-8.") from None
    if not text.strip():
        raise BadInput("The request body must be a JSON object.")
    if json_depth_exceeded(text, max_depth):
        raise BadInput(f"The request body is nested more than {max_depth} levels deep.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"The request body is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno})."
        ) from None
    except RecursionError:  # belt and braces: the depth check runs first
        raise BadInput(f"The request body is nested more than {max_depth} levels deep.") from None
    paths = list(unstorable_paths(document))
    if paths:
        fields: dict[str, list[str]] = {}
        for path in paths:
            top = re.split(r"[.\[]", path, maxsplit=1)[0] or "body"
            fields.setdefault(top, [UNSTORABLE_MESSAGE])
        raise BadInput("Some fields hold characters that cannot be stored.", fields)
    return document
