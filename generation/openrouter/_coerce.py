"""Tolerant readers for untrusted JSON values.

OpenRouter's payloads change shape without notice (keys appear, disappear,
switch between numbers and strings), so every parser reads fields through these
helpers: a wrong type becomes ``None`` or an empty value, never an exception.
Payloads are parsed with ``parse_float=Decimal``, so numbers arrive as ``int``
or ``Decimal``; plain ``float`` is accepted too for callers that parsed JSON
themselves (the catalog's stored payloads).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any


def loads(data: bytes | bytearray | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``.

    Raises ``ValueError`` (``json.JSONDecodeError`` or ``UnicodeDecodeError``).
    """
    return json.loads(data, parse_float=Decimal)


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_str_tuple(value: object) -> tuple[str, ...]:
    return tuple(item for item in as_list(value) if isinstance(item, str))


def as_int(value: object) -> int | None:
    """An integer from an int, an integral Decimal/float, or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)):
        try:
            return int(value) if value == int(value) else None
        except (ValueError, OverflowError):  # NaN, infinity
            return None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_number(value: object) -> int | float | None:
    """A plain number for non-money values (descriptor bounds and the like)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)):
        integral = as_int(value)
        return integral if integral is not None else float(value)
    return None


def as_decimal(value: object) -> Decimal | None:
    """Money as an exact ``Decimal``, from numbers or decimal strings.

    Accepts exponent notation (``3e-05``). Floats go through ``str`` so that
    ``0.1`` stays ``Decimal("0.1")``. Non-finite values and garbage give ``None``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float)):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def as_bool(value: object) -> bool:
    return value is True
