"""The generation routes' shared machinery, and the Image API (``POST /images``).

Each route validates, applies the prompt's directives, waits out the latency,
draws, bills the ledger *before* the body is written (so a test that reads the
ledger right after the response sees the charge), and answers. Routes raise
``ApiError`` for anything answered before a stream starts; the handler turns
it into a real-shaped error body. Chat Completions live in ``chat``, the
server tool and the Responses API in ``tool``, the two routes that choose
between them in ``routes``.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import directives, drawing, pricing
from .directives import Directives
from .errors import KEY_LIMIT_MESSAGE, ApiError, failure, no_endpoints
from .state import State
from .transport import ClientGone, Transport
from .validation import Plan, plan_image_request

# A refused image still costs a little: this fee plus the request's input costs.
REFUSAL_FEE = Decimal("0.0002")


@dataclass
class Context:
    state: State
    io: Transport
    body: dict[str, Any]
    tag: str | None
    origin: str  # scheme://host[:port] as the client addressed us, for tool image URLs
    route: str
    started: float = field(default_factory=time.monotonic)


@dataclass
class Rendered:
    data: bytes
    media_type: str
    index: int | None = None  # the image's index when it was drawn (and so has partials)


def _model_id(body: dict[str, Any]) -> str:
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise ApiError(400, "'model' is required")
    return model_id


def _latency(ctx: Context, d: Directives) -> float:
    """What is left of the request's latency: drawing counts towards it, so that
    hundreds of concurrent slow requests draw while they wait."""
    latency = d.latency if d.latency is not None else ctx.state.settings().latency
    return max(0.0, latency - (time.monotonic() - ctx.started))


def _fail_if_asked(
    ctx: Context, d: Directives, raw_prompt: str, model_id: str, provider: str
) -> None:
    if d.fail is None:
        return
    if d.fail_times is not None and ctx.state.attempt(raw_prompt) > d.fail_times:
        return
    ctx.io.wait(_latency(ctx, d))
    raise failure(
        d.fail,
        model=model_id,
        provider_name=provider,
        prompt=directives.strip(raw_prompt),
        retry_after=d.retry_after,
        reason=d.reason,
    )


def _check_credit(
    ctx: Context, max_tokens: Any = None, completion_price: str | None = None
) -> None:
    limit = ctx.state.settings().key_limit
    if limit is None:
        return
    # ``key_limit`` is the key's own spending limit: answered in the key's wording.
    remaining = Decimal(str(limit)) - ctx.state.usage()
    if remaining <= 0:
        raise ApiError(402, KEY_LIMIT_MESSAGE)
    price = Decimal(completion_price or "0")
    if isinstance(max_tokens, int) and price > 0 and max_tokens * price > remaining:
        raise ApiError(
            402,
            f"This request requires more credits, or fewer max_tokens. You requested up to "
            f"{max_tokens} tokens, but can only afford {int(remaining / price)}. To increase, visit "
            "https://openrouter.ai/settings/keys and create a key with a higher total limit",
        )


def render(plan: Plan, d: Directives, index: int) -> Rendered:
    text = directives.strip(plan.prompt)
    size = plan.sizes[index]
    model_id = plan.model["id"]
    if d.hostile_svg:
        return Rendered(drawing.hostile_svg(size), "image/svg+xml")
    if d.bomb:
        return Rendered(drawing.bomb(), "image/png")
    if d.garbage:
        return Rendered(drawing.garbage(model_id, text, plan.seed, index), plan.media_type)
    data = drawing.rendered(
        size,
        plan.fmt,
        plan.compression,
        text,
        model_id,
        plan.seed,
        index,
        plan.transparent,
        tuple(plan.palette),
        plan.background,
    )
    return Rendered(data, plan.media_type, index if plan.fmt != "svg" else None)


def _partial(rendered: Rendered, plan: Plan, stage: int) -> bytes:
    if rendered.index is None:
        return rendered.data  # SVG and the broken-on-purpose payloads have no partials
    return _encoded_preview(
        plan.sizes[rendered.index],
        stage,
        directives.strip(plan.prompt),
        plan.model["id"],
        plan.seed,
        rendered.index,
        plan.transparent,
        tuple(plan.palette),
        plan.background,
        plan.fmt,
        plan.compression,
    )


@functools.lru_cache(maxsize=128)
def _encoded_preview(
    size: drawing.Size,
    stage: int,
    text: str,
    model: str,
    seed: int | None,
    index: int,
    transparent: bool,
    palette: tuple[drawing.RGB, ...],
    background: drawing.RGB | None,
    fmt: str,
    compression: int | None,
) -> bytes:
    """A partial image, encoded (cached as ``drawing.rendered`` caches the final
    one, so that a benchmark's harness does not draw the same previews again)."""
    image = drawing.preview(
        size,
        stage,
        text=text,
        model=model,
        seed=seed,
        index=index,
        transparent=transparent,
        palette=palette,
        background=background,
    )
    return drawing.encode(image, fmt, compression)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _count(plan: Plan, d: Directives) -> int:
    return len(plan.sizes) if d.fewer is None else min(len(plan.sizes), d.fewer)


def _billables(plan: Plan, prompt_text: str, count: int) -> pricing.Billables:
    return pricing.Billables(
        prompt_text=prompt_text,
        outputs=plan.sizes[:count],
        quality=plan.quality,
        input_images=plan.input_images,
        input_references=plan.input_references,
        fonts=plan.fonts,
    )


def _refusal(plan: Plan, prompt_text: str) -> pricing.Charge:
    inputs = pricing.charge(plan.model, plan.endpoint, _billables(plan, prompt_text, 0))
    return pricing.Charge(inputs.cost + REFUSAL_FEE, inputs.prompt_tokens, 0)


def _deliver(
    ctx: Context, body: dict[str, Any], d: Directives, headers: dict[str, str] | None = None
) -> int:
    """Answer 200 with ``body``, or break it as ``malformed`` / ``truncate`` ask."""
    if d.malformed or d.truncate:
        data = json.dumps(body).encode()
        if d.truncate:
            ctx.io.send_truncated(200, data, "application/json", headers)
        else:
            ctx.io.send_bytes(200, data[: len(data) * 3 // 5], "application/json", headers)
    else:
        ctx.io.send_json(200, body, headers)
    return 200


def _broken(payload: dict[str, Any]) -> str:
    text = json.dumps(payload)
    return text[: len(text) * 3 // 5]


def images(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    model = ctx.state.catalog.image_model(model_id)
    if model is None:
        if ctx.state.catalog.text_model(model_id) is not None:
            raise no_endpoints(
                "No endpoints found that support the requested output modalities: image"
            )
        raise no_endpoints(f"No endpoints found for {model_id}.")
    prompt_field = body.get("prompt")
    raw_prompt = prompt_field if isinstance(prompt_field, str) else ""
    d = directives.parse(raw_prompt)
    plan = plan_image_request(model, body)
    _check_credit(ctx)
    _fail_if_asked(ctx, d, raw_prompt, model_id, plan.provider_name)
    text = directives.strip(raw_prompt)
    # OpenAI stamps `created`; other providers' answers come through with 0.
    created = int(time.time()) if plan.endpoint.get("provider_slug") == "openai" else 0
    if plan.stream:
        return _stream_images(ctx, plan, d, text)

    count = 0 if d.refuse or d.stream_error else _count(plan, d)
    rendered = [render(plan, d, i) for i in range(count)]
    ctx.io.wait(_latency(ctx, d))
    if d.stream_error:
        raise failure(502, model=model_id, provider_name=plan.provider_name, prompt=text)
    if d.refuse:
        bill = _refusal(plan, text)
        _ledger(ctx, plan, bill.cost, text, 0, outcome="refused")
        return _deliver(ctx, {"created": created, "data": [], "usage": _image_usage(bill)}, d)
    bill = pricing.charge(model, plan.endpoint, _billables(plan, text, count))
    _ledger(ctx, plan, bill.cost, text, count)
    answer = {
        "created": created,
        "data": [_image_item(r) for r in rendered],
        "usage": _image_usage(bill),
    }
    return _deliver(ctx, answer, d)


def _image_item(rendered: Rendered) -> dict[str, Any]:
    item = {"b64_json": _b64(rendered.data)}
    if rendered.media_type != "image/png":
        item["media_type"] = rendered.media_type
    return item


def _image_usage(bill: pricing.Charge) -> dict[str, Any]:
    return {
        "prompt_tokens": bill.prompt_tokens,
        "completion_tokens": bill.completion_tokens,
        "total_tokens": bill.total_tokens,
        "cost": pricing.as_number(bill.cost),
    }


def _ledger(
    ctx: Context,
    plan: Plan,
    cost: Decimal,
    prompt: str,
    images: int,
    *,
    generation_id: str | None = None,
    outcome: str = "ok",
    model: str | None = None,
    provider: str | None = None,
) -> None:
    ctx.state.charge(
        route=ctx.route,
        model=model or plan.model["id"],
        provider=provider or plan.provider_name,
        cost=cost,
        prompt=prompt,
        images=images,
        tag=ctx.tag,
        generation_id=generation_id,
        outcome=outcome,
    )


def _stream_images(ctx: Context, plan: Plan, d: Directives, text: str) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    count = _count(plan, d)
    charged = False

    def bill_once(cost: Decimal, images: int, outcome: str) -> None:
        nonlocal charged
        if not charged:
            charged = True
            _ledger(ctx, plan, cost, text, images, outcome=outcome)

    io.start_sse(d.stream_delay)
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        if d.refuse:
            io.wait(latency)
            # Not billed: Image API billing is all-or-nothing, and the error event
            # says so with a cost of zero (without it, with no_usage, a client
            # cannot tell and must assume it may have been charged).
            refusal_event: dict[str, Any] = {
                "type": "error",
                "error": {
                    "message": "Image generation refused by the provider's safety system (IMAGE_SAFETY)",
                    "code": "content_policy_violation",
                },
            }
            if not d.no_usage:
                refusal_event["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "cost": 0}
            io.sse(refusal_event)
            io.sse("[DONE]")
            io.end_sse()
            return 200
        rendered = [render(plan, d, i) for i in range(count)]
        bill = pricing.charge(plan.model, plan.endpoint, _billables(plan, text, count))
        media = {} if plan.media_type == "image/png" else {"media_type": plan.media_type}
        partials = [
            {"type": "image_generation.partial_image", "partial_image_index": stage, "index": 0}
            | media
            | {"b64_json": _b64(_partial(rendered[0], plan, stage))}
            for stage in (0, 1)
            if rendered
        ]
        io.wait(latency / 3)
        if partials:
            io.sse(partials[0])
        if d.truncate:
            bill_once(bill.cost, count, "truncated")
            io.sse_cut(partials[1] if partials else {"type": "image_generation.partial_image"})
            return 200
        io.wait(latency / 3)
        if partials:
            io.sse(partials[1])
        io.wait(latency / 3)
        if d.stream_error:
            # Like Google: the work was done, the stream broke; it is billed, and
            # the error event tells what it cost unless no_usage asks otherwise.
            bill_once(bill.cost, count, "stream_error")
            error_event: dict[str, Any] = {
                "type": "error",
                "error": {"message": "Generation failed", "code": "server_error"},
            }
            if not d.no_usage:
                error_event["usage"] = _image_usage(bill)
            io.sse(error_event)
            io.sse("[DONE]")
            io.end_sse()
            return 200
        bill_once(bill.cost, count, "ok")
        for index, item in enumerate(rendered):
            event: dict[str, Any] = {
                "type": "image_generation.completed",
                "index": index,
                "b64_json": _b64(item.data),
                "created": int(time.time()),
            }
            if item.media_type != "image/png":
                event["media_type"] = item.media_type
            if index == count - 1:
                event["usage"] = _image_usage(bill)
            io.sse(_broken(event) if d.malformed and index == count - 1 else event)
        io.sse("[DONE]")
        io.end_sse()
    except ClientGone:
        if plan.endpoint.get("_emulator", {}).get("bills_on_cancel"):
            bill_once(
                pricing.charge(plan.model, plan.endpoint, _billables(plan, text, count)).cost,
                count,
                "cancelled",
            )
    return 200
