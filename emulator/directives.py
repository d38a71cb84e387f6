"""Failure and timing directives written inside a prompt.

Syntax: ``[emulator:key=value,key=value,flag]`` anywhere in the prompt text
(several blocks merge; later keys win). They are stripped from the text drawn
on the image. Keys:

``latency=S``        seconds before answering (overrides the global latency)
``stream_delay=S``   extra seconds between SSE events
``fail=CODE``        answer this HTTP error (400 401 402 403 404 408 413 429 500
                     502 503 524 529); 403 is a moderation error, 429 carries
                     ``Retry-After`` (``retry_after=N``, default 1) and
                     ``X-RateLimit-*`` headers; not charged
``reason=R``         with ``fail=402`` (or 403): ``credits`` (default for 402, the
                     account is out of credits) or ``key_limit`` ("Key limit
                     exceeded": the key's own spending limit)
``fail_times=N``     with ``fail``: fail only the first N attempts with this exact
                     prompt text, then succeed (default ``fail=503``)
``refuse``           HTTP 200 without an image (``IMAGE_SAFETY``); charged a little,
                     except a streamed Image API request: an error event, not charged
``preview``          chat: send a smaller, blurred preview image before the final
                     one (streamed: its own chunk; whole answer: first in ``images``)
``stream_error``     streaming: an error event after the partials (charged), with
                     ``usage.cost`` in it; buffered: a 502 (not charged)
``no_usage``         with ``stream_error`` (or ``refuse`` on a streamed Image API
                     request, whose error event otherwise reports a cost of 0):
                     the error event carries no ``usage``
``malformed``        the 200 body (or one SSE event) is not valid JSON (charged)
``truncate``         the body or stream is cut off midway and the connection
                     closed (charged; chat and responses send ``X-Generation-Id``
                     and chunk ids first, and ``GET /generation`` knows the id)
``tool_shape=S``     server tool, where the image URL is: Chat Completions
                     ``markdown`` (default: only as ``![…](url)`` in the text, as
                     the real service), ``plain_url`` (a bare URL in the text) or
                     ``structured`` (also ``message.server_tool_results``);
                     Responses ``imageUrl`` (default), ``result`` (the URL in
                     ``result``) or ``imageB64`` (base64 only, no URL)
``fewer=K``          return at most K images, whatever ``n`` asked for
``bytes=garbage``    ``b64_json`` / data URL holds bytes that are not an image
``bomb``             a small PNG that declares 30000x30000 pixels
``svg=hostile``      SVG markup with ``<script>``, ``on*=`` handlers and external hrefs
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ApiError

_BLOCK = re.compile(r"\[emulator:([^\]]*)\]", re.IGNORECASE)
_FAIL_CODES = frozenset({400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 524, 529})
_FLAGS = frozenset(
    {"refuse", "stream_error", "malformed", "truncate", "bomb", "preview", "no_usage"}
)
_REASONS = frozenset({"credits", "key_limit"})
CHAT_TOOL_SHAPES = frozenset({"markdown", "plain_url", "structured"})
RESPONSES_TOOL_SHAPES = frozenset({"imageurl", "result", "imageb64"})


@dataclass(frozen=True)
class Directives:
    latency: float | None = None
    stream_delay: float | None = None
    fail: int | None = None
    retry_after: int = 1
    fail_times: int | None = None
    refuse: bool = False
    preview: bool = False
    stream_error: bool = False
    no_usage: bool = False
    reason: str | None = None
    tool_shape: str | None = None
    malformed: bool = False
    truncate: bool = False
    fewer: int | None = None
    garbage: bool = False
    bomb: bool = False
    hostile_svg: bool = False


def _bad(message: str) -> ApiError:
    return ApiError(
        400,
        f"Bad emulator directive: {message}",
        metadata={"provider_name": "OpenRouter Emulator", "raw": '{"error":"bad directive"}'},
    )


def _number(key: str, value: str, *, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        raise _bad(f"{key}={value!r} is not a number") from None
    if number < 0 or number > 3600:
        raise _bad(f"{key}={value!r} is out of range")
    return number


def parse(text: str) -> Directives:
    """The directives in ``text``; raises ``ApiError`` (400) on an unknown or bad one."""
    values: dict[str, object] = {}
    for block in _BLOCK.findall(text):
        for item in block.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key in _FLAGS and not sep:
                values[key] = True
            elif key in ("latency", "stream_delay"):
                values[key] = _number(key, value)
            elif key in ("retry_after", "fail_times", "fewer"):
                values[key] = int(_number(key, value, integer=True))
            elif key == "fail":
                code = int(_number(key, value, integer=True))
                if code not in _FAIL_CODES:
                    raise _bad(f"fail={code} is not one of {sorted(_FAIL_CODES)}")
                values["fail"] = code
            elif key == "reason":
                if value.lower() not in _REASONS:
                    raise _bad(f"reason={value!r} is not one of {sorted(_REASONS)}")
                values["reason"] = value.lower()
            elif key == "tool_shape":
                shape = value.lower()
                if shape not in CHAT_TOOL_SHAPES | RESPONSES_TOOL_SHAPES:
                    known = [*sorted(CHAT_TOOL_SHAPES), "imageUrl", "result", "imageB64"]
                    raise _bad(f"tool_shape={value!r} is not one of {known}")
                values["tool_shape"] = shape
            elif key == "bytes" and value == "garbage":
                values["garbage"] = True
            elif key == "svg" and value == "hostile":
                values["hostile_svg"] = True
            else:
                raise _bad(f"unknown directive {item!r}")
    if "fail_times" in values and "fail" not in values:
        values["fail"] = 503
    return Directives(**values)  # type: ignore[arg-type]


def strip(text: str) -> str:
    """``text`` without directive blocks, whitespace collapsed."""
    return " ".join(_BLOCK.sub(" ", text).split())
