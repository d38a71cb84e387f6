"""Reading generation answers: what a chat or Responses body delivered.

Pure functions over parsed JSON, no HTTP: the accumulator of what an answer
delivered (shared by whole and streamed answers, and by the errors raised once
OpenRouter accepted a request), the rule that tells preview images from final
ones, the search for server-tool results, and the mapping of an answer without
an image to a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generation.openrouter import _coerce, media
from generation.openrouter.errors import ErrorKind, OpenRouterError
from generation.openrouter.types import GeneratedImage, GenerationResult, Usage

# Tool-result strings parsed as JSON are bounded; real ones are tiny.
_MAX_EMBEDDED_JSON = 1024 * 1024

_POLICY_RE = re.compile(r"polic|safety|moderat|refus|prohibit|not allowed|inappropriate", re.I)
# Native finish reasons of provider safety filters (Gemini's IMAGE_SAFETY,
# PROHIBITED_CONTENT, BLOCKLIST, SPII; "content_filter" elsewhere).
_SAFETY_REASON_RE = re.compile(r"SAFETY|PROHIBITED|BLOCKLIST|SPII|content_filter|RECITATION", re.I)
# Stream errors that are refusals: narrower than _POLICY_RE, since an error
# message may say "connection refused".
_SAFETY_ERROR_RE = re.compile(
    r"safety|moderat|content[ _-]?polic|content[ _-]?filter|prohibited|blocklist|flagged", re.I
)
_ERROR_STATUSES = frozenset({"error", "failed", "incomplete"})
_IMAGE_URL_KEYS = ("imageUrl", "image_url", "imageURL", "url")
_IMAGE_B64_KEYS = ("imageB64", "image_b64", "b64_json")
# An image in markdown (``![alt](url "title")``, the URL maybe in <…>), as the
# text model writes the tool's result into its answer.
_MARKDOWN_IMAGE_RE = re.compile(
    r"!\[[^\]]*\]\(\s*<?((?:https?://|data:image/)[^\s)>]+)>?(?:\s+\"[^\"]*\")?\s*\)", re.I
)
_PLAIN_URL_RE = re.compile(r"https?://[^\s<>()\[\]\"'`]+", re.I)
# Two images are "the same shape" when their aspect ratios differ by under 2 %.
_SAME_RATIO = 0.02


def is_safety_error(code: object, message: str | None) -> bool:
    """Whether a stream's error (its code, message or native finish reason)
    is a provider's safety or moderation refusal rather than a failure."""
    code_text = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    return bool(
        _SAFETY_ERROR_RE.search(code_text) or (message and _SAFETY_ERROR_RE.search(message))
    )


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
    # Told the generation id once, the moment it is first seen (see
    # ``Transport.on_generation_id``).
    on_generation_id: Callable[[str], None] | None = field(default=None, repr=False)

    def learn_generation_id(self, value: object) -> None:
        """Keep the first generation id seen (header or body) and announce it once."""
        text = _coerce.as_str(value)
        if self.generation_id or not text:
            return
        self.generation_id = text
        if self.on_generation_id is not None:
            self.on_generation_id(text)

    def note_envelope(self, payload: Mapping[str, Any]) -> None:
        self.learn_generation_id(payload.get("id"))
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

    def attach(self, exc: OpenRouterError) -> OpenRouterError:
        """``exc``, raised after OpenRouter accepted the request, completed with
        what had arrived: the generation id, the cost, the provider. Never
        retryable (retrying would pay again); may be charged unless a cost of
        zero was reported."""
        exc.generation_id = exc.generation_id or self.generation_id
        if exc.cost is None:
            exc.cost = self.cost
        exc.provider = exc.provider or self.provider
        exc.retryable = False
        exc.may_be_charged = exc.cost is None or exc.cost > 0
        return exc

    def result(self, model: str) -> GenerationResult:
        return GenerationResult(
            images=final_images(self.images),
            text="".join(self.text),
            generation_id=self.generation_id,
            provider=self.provider,
            model=self.model or model,
            finish_reasons=self.finish_reasons,
            native_finish_reasons=self.native_finish_reasons,
            usage=self.usage,
            cost=self.cost,
        )


def final_images(images: Sequence[GeneratedImage]) -> list[GeneratedImage]:
    """The images of one answer without its previews, in order.

    Some models send a smaller preview before the final image. The rule: an
    image is a preview when a *later* image of the same answer has the same
    aspect ratio (within 2 %) and more pixels. Images of the same size are
    all kept (``n`` > 1), and so is any image whose size cannot be read from
    its header (SVG, unknown formats): only a clearly superseded image goes.
    """
    sizes = [media.image_size(image.data) for image in images]
    kept = []
    for index, image in enumerate(images):
        size = sizes[index]
        if size is None or not _superseded(size, sizes[index + 1 :]):
            kept.append(image)
    return kept


def _superseded(size: tuple[int, int], later: Sequence[tuple[int, int] | None]) -> bool:
    width, height = size
    if width <= 0 or height <= 0:
        return False
    ratio = width / height
    for other in later:
        if other is None or other[0] <= 0 or other[1] <= 0:
            continue
        if (
            other[0] * other[1] > width * height
            and abs(other[0] / other[1] / ratio - 1) < _SAME_RATIO
        ):
            return True
    return False


@dataclass
class ToolRef:
    """One tool image: a URL to fetch or base64 bytes. ``from_text`` marks a
    URL only seen as a plain link in the model's text: it may not be an image."""

    url: str = ""
    b64: str | None = None
    from_text: bool = False


@dataclass
class ToolFindings:
    """Tool images found anywhere in a chat or Responses answer.

    The documented answers put them in several places, all searched:

    * structured results anywhere in the tree: objects with ``status`` and
      ``imageUrl``/``image_url``/``url`` (a string or ``{url}``), ``imageB64``,
      or ``result`` (a URL, base64 of an ``*image_generation*`` item, or a
      JSON string of such an object, as tool outputs carry it);
    * Responses output items of ``type: "openrouter:image_generation"``;
    * the assistant's text, where the model writes the tool's URL as markdown
      (``![Generated image](https://…)``), or failing that as a plain URL.

    Structured results win; markdown images are used when there are none,
    plain URLs only when there is neither. ``errors`` holds the messages of
    tool results with an error status.
    """

    refs: list[ToolRef] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add_url(self, url: str, *, from_text: bool = False) -> None:
        url = url.strip()
        if url and url not in self._seen:
            self._seen.add(url)
            self.refs.append(ToolRef(url=url, from_text=from_text))

    def add_b64(self, b64: str) -> None:
        if b64 not in self._seen:
            self._seen.add(b64)
            self.refs.append(ToolRef(b64=b64))

    def walk(self, node: object, depth: int = 0) -> None:
        if depth > 32:
            return
        if isinstance(node, list):
            for item in node:
                self.walk(item, depth + 1)
            return
        if not isinstance(node, dict):
            return
        status = (_coerce.as_str(node.get("status")) or "").lower()
        kind = _coerce.as_str(node.get("type")) or ""
        is_tool = "image_generation" in kind or kind == "image_url"
        if status in _ERROR_STATUSES and node.get("error"):
            error = node["error"]
            message = _coerce.as_str(error) or _coerce.as_str(_coerce.as_dict(error).get("message"))
            self.errors.append(message or "image generation failed")
        elif status or is_tool:
            self._take_result(node, is_tool)
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

    def _take_result(self, node: Mapping[str, Any], is_tool: bool) -> None:
        for key in _IMAGE_URL_KEYS:
            value = node.get(key)
            if key == "url" and not is_tool:
                continue  # a bare "url" is only a tool image inside a tool item
            url = _coerce.as_str(value) or _coerce.as_str(_coerce.as_dict(value).get("url"))
            if url:
                self.add_url(url)
        for key in _IMAGE_B64_KEYS:
            b64 = _coerce.as_str(node.get(key))
            if b64 and len(b64) > 64:
                self.add_b64(b64)
        result = _coerce.as_str(node.get("result"))
        if result is None:
            return
        text = result.strip()
        if text.lower().startswith(("https://", "http://", "data:image/")):
            self.add_url(text)
        elif is_tool and len(text) > 64 and not text.startswith("{"):
            self.add_b64(text)

    def scan_text(self, text: str) -> None:
        """URLs the model wrote into its answer; used only when nothing
        structured was found."""
        if self.refs or not text:
            return
        for match in _MARKDOWN_IMAGE_RE.finditer(text):
            self.add_url(match.group(1))
        if self.refs:
            return
        for match in _PLAIN_URL_RE.finditer(text):
            self.add_url(match.group(0).rstrip(".,;:!?*_'"), from_text=True)


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
    # Links are dropped from the quote: a tool image's address is temporary.
    text = _PLAIN_URL_RE.sub("[link]", _MARKDOWN_IMAGE_RE.sub("[image]", "".join(acc.text)))
    text = " ".join(text.split())
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
