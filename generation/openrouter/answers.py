"""Reading generation answers: what a chat or Responses body delivered.

Pure functions over parsed JSON, no HTTP: the chat accumulator shared by the
whole and the streamed answer, the search for server-tool results, and the
mapping of an answer without an image to a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generation.openrouter import _coerce
from generation.openrouter.errors import ErrorKind, OpenRouterError
from generation.openrouter.types import GeneratedImage, GenerationResult, Usage

# Tool-result strings parsed as JSON are bounded; real ones are tiny.
_MAX_EMBEDDED_JSON = 1024 * 1024

_POLICY_RE = re.compile(r"polic|safety|moderat|refus|prohibit|not allowed|inappropriate", re.I)
# Native finish reasons of provider safety filters (Gemini's IMAGE_SAFETY,
# PROHIBITED_CONTENT, BLOCKLIST, SPII; "content_filter" elsewhere).
_SAFETY_REASON_RE = re.compile(r"SAFETY|PROHIBITED|BLOCKLIST|SPII|content_filter|RECITATION", re.I)
_OK_STATUSES = frozenset({"ok", "success", "succeeded", "completed"})
_ERROR_STATUSES = frozenset({"error", "failed"})


def may_be_charged(usage: Usage | None) -> bool:
    """False only when OpenRouter reported a cost of zero."""
    return usage is None or usage.cost is None or usage.cost > 0


@dataclass
class ChatAnswer:
    """What a chat answer (whole or streamed) has delivered so far."""

    images: list[GeneratedImage] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    native_finish_reasons: list[str] = field(default_factory=list)
    generation_id: str | None = None
    provider: str | None = None
    model: str | None = None
    usage: Usage | None = None

    def note_envelope(self, payload: Mapping[str, Any]) -> None:
        self.generation_id = self.generation_id or _coerce.as_str(payload.get("id"))
        self.provider = self.provider or _coerce.as_str(payload.get("provider"))
        self.model = self.model or _coerce.as_str(payload.get("model"))
        usage = Usage.from_api(payload.get("usage"))
        if usage is not None:
            self.usage = usage

    def note_finish(self, choice: Mapping[str, Any]) -> None:
        reason = _coerce.as_str(choice.get("finish_reason"))
        native = _coerce.as_str(choice.get("native_finish_reason"))
        if reason:
            self.finish_reasons.append(reason)
        if native:
            self.native_finish_reasons.append(native)

    @property
    def cost(self) -> Decimal | None:
        return self.usage.cost if self.usage is not None else None

    def result(self, model: str) -> GenerationResult:
        return GenerationResult(
            images=self.images,
            text="".join(self.text),
            generation_id=self.generation_id,
            provider=self.provider,
            model=self.model or model,
            finish_reasons=self.finish_reasons,
            native_finish_reasons=self.native_finish_reasons,
            usage=self.usage,
            cost=self.cost,
        )


@dataclass
class ToolRef:
    url: str = ""
    b64: str | None = None


@dataclass
class ToolFindings:
    """Tool results found anywhere in a chat or Responses answer.

    The server tool is in beta and its result's place in the answer is not
    documented, so the whole tree is searched: objects with ``status`` and
    ``imageUrl``/``image_url``, ``image_url: {url}`` parts, base64 ``result``
    of ``*image_generation*`` items, and JSON strings under ``output``,
    ``result`` or ``content`` of non-assistant objects (tool outputs).
    """

    refs: list[ToolRef] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add_url(self, url: str) -> None:
        if url and url not in self._seen:
            self._seen.add(url)
            self.refs.append(ToolRef(url=url))

    def walk(self, node: object, depth: int = 0) -> None:
        if depth > 32:
            return
        if isinstance(node, list):
            for item in node:
                self.walk(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        status = _coerce.as_str(node.get("status"))
        image_url = node.get("imageUrl", node.get("image_url"))
        if status is not None and status.lower() in _OK_STATUSES and isinstance(image_url, str):
            self.add_url(image_url)
        elif status is not None and status.lower() in _ERROR_STATUSES and node.get("error"):
            error = node["error"]
            message = _coerce.as_str(error) or _coerce.as_str(_coerce.as_dict(error).get("message"))
            self.errors.append(message or "image generation failed")
        if isinstance(image_url, dict):
            self.add_url(_coerce.as_str(image_url.get("url")) or "")
        kind = _coerce.as_str(node.get("type")) or ""
        result = node.get("result")
        if (
            "image_generation" in kind
            and isinstance(result, str)
            and len(result) > 64
            and not result.lstrip().startswith("{")
        ):
            self.refs.append(ToolRef(b64=result))
        assistant = node.get("role") == "assistant"
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                self.walk(value, depth + 1)
            elif (
                isinstance(value, str)
                and not assistant
                and key in ("output", "result", "content")
                and value.lstrip().startswith("{")
                and len(value) < _MAX_EMBEDDED_JSON
            ):
                with suppress(ValueError):
                    self.walk(_coerce.loads(value), depth + 1)


def message_text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in _coerce.as_list(content):
        text = _coerce.as_str(_coerce.as_dict(part).get("text"))
        if text:
            parts.append(text)
    return "".join(parts)


def responses_text(payload: Mapping[str, Any]) -> str:
    text = _coerce.as_str(payload.get("output_text"))
    if text:
        return text
    parts = []
    for item in _coerce.as_list(payload.get("output")):
        item = _coerce.as_dict(item)
        if item.get("type") == "message":
            parts.append(message_text(item.get("content")))
    return "".join(parts)


def sum_usage(usages: Sequence[Usage]) -> Usage | None:
    """One usage for several completed images.

    Each ``image_generation.completed`` event reports the image it completes,
    so the charges add up.
    """
    if not usages:
        return None
    if len(usages) == 1:
        return usages[0]

    def total(values: Sequence[int | None]) -> int | None:
        known = [value for value in values if value is not None]
        return sum(known) if known else None

    costs = [usage.cost for usage in usages if usage.cost is not None]
    return Usage(
        prompt_tokens=total([usage.prompt_tokens for usage in usages]),
        completion_tokens=total([usage.completion_tokens for usage in usages]),
        total_tokens=total([usage.total_tokens for usage in usages]),
        cost=sum(costs, Decimal(0)) if costs else None,
        raw={"parts": [usage.raw for usage in usages]},
    )


def refusal(acc: ChatAnswer) -> OpenRouterError:
    reason = next(iter(acc.native_finish_reasons), None) or next(iter(acc.finish_reasons), None)
    if reason and _SAFETY_REASON_RE.search(reason):
        message = f"blocked by the provider's safety filter ({reason})"
    elif reason:
        message = f"the answer ended without one ({reason})"
    else:
        message = "the answer had no image"
    text = "".join(acc.text).strip()
    if text:
        message += f"; the model said: {text[:300]}"
    return OpenRouterError(
        ErrorKind.REFUSED,
        message,
        code=reason,
        metadata={"native_finish_reasons": acc.native_finish_reasons},
        provider=acc.provider,
        retryable=False,
        may_be_charged=may_be_charged(acc.usage),
        cost=acc.cost,
        generation_id=acc.generation_id,
    )


def tool_error(message: str, answer: ChatAnswer, *, secret: str | None = None) -> OpenRouterError:
    """The error for a server-tool result with ``status: error``.

    ``refused`` when the text reads like a policy refusal, else ``upstream``;
    never retryable, since the text model has already been billed.
    """
    return OpenRouterError(
        ErrorKind.REFUSED if _POLICY_RE.search(message) else ErrorKind.UPSTREAM,
        message,
        provider=answer.provider,
        retryable=False,
        may_be_charged=True,
        cost=answer.cost,
        generation_id=answer.generation_id,
        secret=secret,
    )
