"""Chat Completions with image models (and text models answering in text):
whole answers and ``chat.completion.chunk`` streams."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import directives, drawing, pricing
from .directives import Directives
from .errors import ApiError, failure
from .generate import (
    Context,
    Rendered,
    _billables,
    _broken,
    _check_credit,
    _count,
    _deliver,
    _fail_if_asked,
    _latency,
    _refusal,
    render,
)
from .options import decode_image_url
from .state import Generation, new_generation_id
from .transport import ClientGone
from .validation import Plan, plan_chat_image


@dataclass
class Conversation:
    last_user: str
    all_text: str
    image_urls: list[Any]


def _read_messages(messages: Any) -> Conversation:
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' is required and must be a non-empty list")
    last_user = ""
    texts: list[str] = []
    urls: list[Any] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            raise ApiError(
                400, "each message needs a role: system, developer, user, assistant or tool"
            )
        content = message.get("content")
        parts: list[str] = []
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    raise ApiError(400, "message content parts must be objects")
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "image_url":
                    image_url = part.get("image_url")
                    url = image_url.get("url") if isinstance(image_url, dict) else image_url
                    if message.get("role") == "user":
                        urls.append(url)
        elif content is not None:
            raise ApiError(400, "message content must be a string or a list of parts")
        texts.extend(parts)
        if message.get("role") == "user":
            last_user = " ".join(parts)
    return Conversation(last_user, "\n".join(texts), urls)


def _provider_of(model: dict[str, Any]) -> str:
    endpoints = model.get("endpoints") or []
    return str(
        endpoints[0]["provider_name"] if endpoints else model.get("provider_name", "OpenRouter")
    )


def _chunk(
    meta: dict[str, Any],
    delta: dict[str, Any],
    finish: str | None = None,
    native: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    chunk = {
        "id": meta["id"],
        "provider": meta["provider"],
        "model": meta["model"],
        "object": "chat.completion.chunk",
        "created": meta["created"],
        "choices": [
            {
                "index": 0,
                "delta": delta,
                "finish_reason": finish,
                "native_finish_reason": native,
                "logprobs": None,
            }
        ],
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _chat_usage(
    prompt_tokens: int, completion_tokens: int, cost: Decimal, image_tokens: int = 0
) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": pricing.as_number(cost),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "cost_details": {"upstream_inference_cost": None},
        "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": image_tokens},
    }


@dataclass
class Answer:
    """A finished chat answer, ready to be sent buffered or streamed."""

    meta: dict[str, Any]
    content: str
    images: list[dict[str, Any]]
    preview: dict[str, Any] | None
    usage: dict[str, Any]
    cost: Decimal
    native: str
    extra: dict[str, Any]  # more assistant-message fields (server_tool_results)
    prompt: str
    image_count: int
    outcome: str
    bills_on_cancel: bool


def _id_header(answer: Answer) -> dict[str, str]:
    """Chat Completions and Responses answers name their generation in a header,
    sent before any byte of the body."""
    return {"X-Generation-Id": answer.meta["id"]}


def _image_url_item(data: bytes, media_type: str, index: int) -> dict[str, Any]:
    return {
        "type": "image_url",
        "image_url": {"url": drawing.data_url(data, media_type)},
        "index": index,
    }


def _chat_preview(rendered: Rendered, plan: Plan) -> bytes:
    """A chat model's preview: blurred and at most half the final size, with the
    same aspect ratio, as the models that send one do."""
    assert rendered.index is not None
    width, height = plan.sizes[rendered.index]
    image = drawing.preview(
        (width, height),
        0,
        text=directives.strip(plan.prompt),
        model=plan.model["id"],
        seed=plan.seed,
        index=rendered.index,
        transparent=plan.transparent,
        palette=plan.palette,
        background=plan.background,
    )
    half = (max(1, width // 2), max(1, height // 2))
    if image.width * image.height > half[0] * half[1]:
        image = image.resize(half)
    return drawing.encode(image, plan.fmt, plan.compression)


def _image_chat(
    ctx: Context, model: dict[str, Any], d: Directives, conversation: Conversation, *, talks: bool
) -> int:
    body = ctx.body
    provider_hint = _provider_of(model)
    sizes = [decode_image_url(url, provider_hint, "messages") for url in conversation.image_urls]
    plan = plan_chat_image(model, body, conversation.last_user, sizes)
    _check_credit(ctx, body.get("max_tokens"), model.get("models_pricing", {}).get("completion"))
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], plan.provider_name)
    text = directives.strip(conversation.last_user)
    google = str(plan.endpoint.get("provider_slug", "")).startswith("google")
    native = "STOP" if google else "stop"
    images: list[dict[str, Any]] = []
    preview = None
    if d.refuse:
        bill = _refusal(plan, conversation.all_text)
        content = "I can't generate that image." if talks else ""
        native, outcome, count = "IMAGE_SAFETY", "refused", 0
    else:
        count = _count(plan, d)
        rendered = [render(plan, d, i) for i in range(count)]
        images = [_image_url_item(r.data, r.media_type, i) for i, r in enumerate(rendered)]
        sends_preview = plan.endpoint.get("_emulator", {}).get("sends_preview")
        if (d.preview or sends_preview) and rendered and rendered[0].index is not None:
            preview = _image_url_item(_chat_preview(rendered[0], plan), plan.media_type, 0)
        bill = pricing.charge(model, plan.endpoint, _billables(plan, conversation.all_text, count))
        content = f"Here is your image: {text[:160]}" if talks else ""
        outcome = "ok"
    content_tokens = pricing.text_tokens(content) if content else 0
    text_cost = pricing.text_charge(
        {"completion": model.get("models_pricing", {}).get("completion", "0")}, 0, content_tokens
    )
    cost = bill.cost + text_cost
    meta = {
        "id": new_generation_id(),
        "provider": plan.provider_name,
        "model": model["id"],
        "created": int(time.time()),
    }
    answer = Answer(
        meta=meta,
        content=content,
        images=images,
        preview=preview,
        usage=_chat_usage(
            bill.prompt_tokens,
            bill.completion_tokens + content_tokens,
            cost,
            bill.completion_tokens,
        ),
        cost=cost,
        native=native,
        extra={},
        prompt=text,
        image_count=count,
        outcome=outcome,
        bills_on_cancel=bool(plan.endpoint.get("_emulator", {}).get("bills_on_cancel")),
    )
    return _send_chat(ctx, answer, d)


def _text_chat(
    ctx: Context, model: dict[str, Any], d: Directives, conversation: Conversation
) -> int:
    answer = _text_answer(ctx, model, d, conversation, ctx.body.get("max_tokens"))
    return _send_chat(ctx, answer, d)


def _text_answer(
    ctx: Context,
    model: dict[str, Any],
    d: Directives,
    conversation: Conversation,
    max_tokens: object,
) -> Answer:
    """A text model answering without drawing (Chat Completions or Responses)."""
    prices = model.get("models_pricing", {})
    _check_credit(ctx, max_tokens, prices.get("completion"))
    provider = _provider_of(model)
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], provider)
    text = directives.strip(conversation.last_user)
    content = f"(OpenRouter emulator) You said: {text[:400]}"
    prompt_tokens = pricing.text_tokens(conversation.all_text)
    completion_tokens = pricing.text_tokens(content)
    cost = pricing.text_charge(prices, prompt_tokens, completion_tokens)
    return Answer(
        meta={
            "id": new_generation_id(),
            "provider": provider,
            "model": model["id"],
            "created": int(time.time()),
        },
        content=content,
        images=[],
        preview=None,
        usage=_chat_usage(prompt_tokens, completion_tokens, cost),
        cost=cost,
        native="stop",
        extra={},
        prompt=text,
        image_count=0,
        outcome="ok",
        bills_on_cancel=False,
    )


def _record(ctx: Context, answer: Answer, *, streamed: bool, finish: str, api_type: str) -> None:
    usage = answer.usage
    ctx.state.charge(
        route=ctx.route,
        model=answer.meta["model"],
        provider=answer.meta["provider"],
        cost=answer.cost,
        prompt=answer.prompt,
        images=answer.image_count,
        tag=ctx.tag,
        generation_id=answer.meta["id"],
        outcome=answer.outcome,
    )
    ctx.state.record_generation(
        Generation(
            id=answer.meta["id"],
            model=answer.meta["model"],
            provider_name=answer.meta["provider"],
            total_cost=answer.cost,
            prompt_tokens=usage.get("prompt_tokens", usage.get("input_tokens", 0)),
            completion_tokens=usage.get("completion_tokens", usage.get("output_tokens", 0)),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(answer.meta["created"])),
            finished=time.monotonic(),
            streamed=streamed,
            finish_reason=finish,
            native_finish_reason=answer.native if finish != "error" else "error",
            images=answer.image_count,
            api_type=api_type,
            latency_ms=int(ctx.state.settings().latency * 1000),
        )
    )


def _send_chat(ctx: Context, answer: Answer, d: Directives) -> int:
    if d.truncate:
        answer.outcome = "truncated"
    if ctx.body.get("stream"):
        return _stream_chat(ctx, answer, d)
    ctx.io.wait(_latency(ctx, d))
    if d.stream_error:
        raise failure(
            502,
            model=answer.meta["model"],
            provider_name=answer.meta["provider"],
            prompt=answer.prompt,
        )
    _record(ctx, answer, streamed=False, finish="stop", api_type="completions")
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "refusal": None,
        "reasoning": None,
    }
    images = ([answer.preview] if answer.preview else []) + answer.images
    if images:
        message["images"] = images
    message |= answer.extra
    response = {
        "id": answer.meta["id"],
        "provider": answer.meta["provider"],
        "model": answer.meta["model"],
        "object": "chat.completion",
        "created": answer.meta["created"],
        "choices": [
            {
                "logprobs": None,
                "finish_reason": "stop",
                "native_finish_reason": answer.native,
                "index": 0,
                "message": message,
            }
        ],
        "usage": answer.usage,
    }
    return _deliver(ctx, response, d, _id_header(answer))


def _stream_chat(ctx: Context, answer: Answer, d: Directives) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    meta = answer.meta
    charged = False
    io.start_sse(d.stream_delay, _id_header(answer))
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        io.sse(_chunk(meta, {"role": "assistant", "content": ""}))
        if answer.preview:
            io.wait(latency / 2)
            io.sse(_chunk(meta, {"role": "assistant", "content": "", "images": [answer.preview]}))
            io.wait(latency / 2)
        else:
            io.wait(latency)
        if d.stream_error:
            charged = True
            _record(ctx, answer, streamed=True, finish="error", api_type="completions")
            error_chunk = _chunk(meta, {"role": "assistant", "content": ""}, "error", "error")
            error_chunk["error"] = {
                "code": 502,
                "message": "Provider returned error",
                "metadata": {
                    "provider_name": meta["provider"],
                    "raw": '{"error":"stream interrupted"}',
                },
            }
            if not d.no_usage:
                error_chunk["usage"] = answer.usage
            io.sse(error_chunk)
            io.end_sse()
            return 200
        charged = True
        _record(ctx, answer, streamed=True, finish="stop", api_type="completions")
        if answer.content:
            io.sse(_chunk(meta, {"role": "assistant", "content": answer.content}))
        extra_delta = {"role": "assistant", "content": ""} | answer.extra
        if answer.extra:
            io.sse(_chunk(meta, extra_delta))
        images_chunk = _chunk(meta, {"role": "assistant", "content": "", "images": answer.images})
        if d.truncate:
            io.sse_cut(images_chunk)
            return 200
        if d.malformed:
            io.sse(_broken(images_chunk))
        elif answer.images:
            io.sse(images_chunk)
        io.sse(
            _chunk(meta, {"role": "assistant", "content": ""}, "stop", answer.native, answer.usage)
        )
        io.sse("[DONE]")
        io.end_sse()
    except ClientGone:
        if not charged and answer.bills_on_cancel:
            answer.outcome = "cancelled"
            _record(ctx, answer, streamed=True, finish="cancelled", api_type="completions")
    return 200
