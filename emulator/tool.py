"""The ``openrouter:image_generation`` server tool (through Chat Completions and
the Responses API) and the Responses API's own answers."""

from __future__ import annotations

import re
import secrets
import time
from decimal import Decimal
from typing import Any

from generation.openrouter.validation import TOOL_PARAMETERS

from . import catalog_data, directives, pricing
from .chat import (
    Answer,
    Conversation,
    _chat_usage,
    _id_header,
    _provider_of,
    _record,
    _send_chat,
)
from .directives import Directives
from .errors import ApiError, failure
from .generate import (
    REFUSAL_FEE,
    Context,
    _b64,
    _billables,
    _broken,
    _check_credit,
    _deliver,
    _fail_if_asked,
    _latency,
    render,
)
from .state import new_generation_id
from .transport import ClientGone
from .validation import plan_image_request

TOOL_TYPE = "openrouter:image_generation"
# The tool's own image parameters, as the client reads them, less the two the
# emulator handles itself (the image model, and moderation, which it ignores).
TOOL_PASSTHROUGH = tuple(p for p in TOOL_PARAMETERS if p not in ("model", "moderation"))
TOOL_PROMPT_TOKENS = 120  # the tool's definition, as the text model sees it
TOOL_CALL_TOKENS = 40  # the model's call to the tool


def _server_tool(tools: Any) -> dict[str, Any] | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise ApiError(400, "'tools' must be a list")
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == TOOL_TYPE:
            parameters = tool.get("parameters", {})
            if not isinstance(parameters, dict):
                raise ApiError(400, f"{TOOL_TYPE} parameters must be an object")
            return tool
    return None


def _run_tool(
    ctx: Context, tool: dict[str, Any], text: str, d: Directives
) -> tuple[dict[str, Any], Decimal, int]:
    """Generate the tool's image; (result, cost, images)."""
    parameters = tool.get("parameters") or {}
    image_model_id = parameters.get("model") or catalog_data.SERVER_TOOL_DEFAULT_MODEL
    image_model = ctx.state.catalog.image_model(str(image_model_id))
    if image_model is None:
        return {"status": "error", "error": f"Unknown image model {image_model_id}"}, Decimal(0), 0
    request = {"model": image_model_id, "prompt": text or "an image"}
    request |= {k: parameters[k] for k in TOOL_PASSTHROUGH if k in parameters}
    try:
        plan = plan_image_request(image_model, request)
    except ApiError as error:
        return {"status": "error", "error": error.message}, Decimal(0), 0
    if d.refuse:
        return (
            {"status": "error", "error": "Generation failed due to content policy"},
            REFUSAL_FEE,
            0,
        )
    rendered = render(plan, d, 0)
    bill = pricing.charge(image_model, plan.endpoint, _billables(plan, text, 1))
    if d.tool_shape == "imageb64":
        return {"status": "ok", "imageB64": _b64(rendered.data)}, bill.cost, 1
    ext = {"image/svg+xml": "svg", "image/jpeg": "jpeg", "image/webp": "webp"}.get(
        rendered.media_type, "png"
    )
    name = ctx.state.store_file(rendered.data, rendered.media_type, ext)
    url = f"{ctx.origin}/api/v1/__emulator__/files/{name}"
    return {"status": "ok", "imageUrl": url}, bill.cost, 1


def _tool_answer(
    ctx: Context,
    model: dict[str, Any],
    d: Directives,
    conversation: Conversation,
    tool: dict[str, Any],
    *,
    api: str,
) -> int:
    prices = model.get("models_pricing", {})
    _check_credit(
        ctx,
        ctx.body.get("max_tokens") or ctx.body.get("max_output_tokens"),
        prices.get("completion"),
    )
    provider = _provider_of(model)
    _fail_if_asked(ctx, d, conversation.last_user, model["id"], provider)
    text = directives.strip(conversation.last_user)
    result, image_cost, count = _run_tool(ctx, tool, text, d)
    # Responses carries the URL in its output item; its message text has it as
    # markdown (or bare, for plain_url) whatever the item's shape.
    shape = d.tool_shape if api == "chat" or d.tool_shape == "plain_url" else None
    content, extra = _tool_message(result, text, shape)
    prompt_tokens = pricing.text_tokens(conversation.all_text) + TOOL_PROMPT_TOKENS
    completion_tokens = pricing.text_tokens(content) + TOOL_CALL_TOKENS
    cost = pricing.text_charge(prices, prompt_tokens, completion_tokens) + image_cost
    usage = _chat_usage(prompt_tokens, completion_tokens, cost)
    usage["server_tool_use"] = {"image_generation_requests": 1}
    answer = Answer(
        meta={
            "id": new_generation_id(),
            "provider": provider,
            "model": model["id"],
            "created": int(time.time()),
        },
        content=content,
        images=[],
        preview=None,
        usage=usage,
        cost=cost,
        native="stop",
        extra=extra,
        prompt=text,
        image_count=count,
        outcome="ok" if result["status"] == "ok" else "tool_error",
        bills_on_cancel=False,
    )
    if api == "chat":
        return _send_chat(ctx, answer, d)
    return _send_response(ctx, answer, d, result)


def _tool_message(
    result: dict[str, Any], text: str, chat_shape: str | None
) -> tuple[str, dict[str, Any]]:
    """The text model's reply after the tool ran, and any more message fields.

    As on the real service the model writes the tool's URL into its text as
    markdown; ``tool_shape=plain_url`` makes it a bare URL, and ``structured``
    (or a Responses shape asked of Chat Completions) adds the tool result as
    ``message.server_tool_results``.
    """
    url = result.get("imageUrl")
    if result["status"] != "ok":
        content = f"I could not generate the image: {result['error']}"
    elif url and chat_shape == "plain_url":
        content = f"Here is the image I generated for you: {url}"
    elif url and chat_shape in (None, "markdown"):
        content = f"Here is the image I generated for you.\n\n![{_alt(text)}]({url})"
    else:
        content = "Here is the image I generated for you."
    extra: dict[str, Any] = {"images": []}
    if chat_shape not in (None, "markdown", "plain_url") or result["status"] != "ok":
        extra["server_tool_results"] = [{"type": TOOL_TYPE} | result]
    return content, extra


def _alt(text: str) -> str:
    return re.sub(r"[\[\]()\n]", " ", text)[:80].strip() or "generated image"


def _read_input(value: Any) -> Conversation:
    if isinstance(value, str):
        if not value.strip():
            raise ApiError(400, "'input' must not be empty")
        return Conversation(value, value, [])
    if not isinstance(value, list) or not value:
        raise ApiError(400, "'input' is required: a string or a non-empty list of items")
    last_user, texts = "", []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(400, "each input item must be an object")
        content = item.get("content")
        parts: list[str] = []
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                p["text"]
                for p in content
                if isinstance(p, dict)
                and p.get("type") in ("input_text", "text", "output_text")
                and isinstance(p.get("text"), str)
            )
        texts.extend(parts)
        if item.get("role") == "user":
            last_user = " ".join(parts)
    return Conversation(last_user, "\n".join(texts), [])


def _tool_item(result: dict[str, Any], shape: str | None) -> dict[str, Any]:
    """The Responses output item of the tool: ``imageUrl`` by default, the URL
    in ``result`` or only ``imageB64`` as ``tool_shape`` asks; ``markdown`` and
    ``plain_url`` leave the URL to the message text alone."""
    item: dict[str, Any] = {"type": TOOL_TYPE, "id": f"ig_{secrets.token_hex(12)}"}
    if result["status"] != "ok":
        return item | {"status": "failed", "error": result["error"]}
    item["status"] = "completed"
    url = result.get("imageUrl")
    if "imageB64" in result:
        item["imageB64"] = result["imageB64"]
    elif shape == "result":
        item["result"] = url
    elif shape not in ("markdown", "plain_url"):
        item["imageUrl"] = url
    return item


def _response_document(
    answer: Answer, tool_result: dict[str, Any] | None, status: str, shape: str | None = None
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if tool_result is not None:
        output.append(_tool_item(tool_result, shape))
    output.append(
        {
            "type": "message",
            "id": f"msg_{secrets.token_hex(12)}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": answer.content, "annotations": []}],
        }
    )
    usage = answer.usage
    return {
        "id": answer.meta["id"],
        "object": "response",
        "created_at": answer.meta["created"],
        "model": answer.meta["model"],
        "provider": answer.meta["provider"],
        "status": status,
        "output": output if status == "completed" else [],
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "cost": usage["cost"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        | ({"server_tool_use": usage["server_tool_use"]} if "server_tool_use" in usage else {}),
    }


def _send_response(
    ctx: Context, answer: Answer, d: Directives, tool_result: dict[str, Any] | None
) -> int:
    io = ctx.io
    latency = _latency(ctx, d)
    if d.truncate:
        answer.outcome = "truncated"
    if not ctx.body.get("stream"):
        io.wait(latency)
        if d.stream_error:
            raise failure(
                502,
                model=answer.meta["model"],
                provider_name=answer.meta["provider"],
                prompt=answer.prompt,
            )
        _record(ctx, answer, streamed=False, finish="stop", api_type="responses")
        document = _response_document(answer, tool_result, "completed", d.tool_shape)
        return _deliver(ctx, document, d, _id_header(answer))
    document = _response_document(answer, tool_result, "completed", d.tool_shape)
    io.start_sse(d.stream_delay, _id_header(answer))
    charged = False
    try:
        io.sse_comment("OPENROUTER PROCESSING")
        created = _response_document(answer, tool_result, "in_progress", d.tool_shape)
        io.sse({"type": "response.created", "response": created}, event="response.created")
        io.wait(latency)
        if d.stream_error:
            charged = True
            _record(ctx, answer, streamed=True, finish="error", api_type="responses")
            io.sse(
                {"type": "error", "code": "server_error", "message": "Provider returned error"},
                event="error",
            )
            io.end_sse()
            return 200
        charged = True
        _record(ctx, answer, streamed=True, finish="stop", api_type="responses")
        for index, item in enumerate(document["output"]):
            event = {"type": "response.output_item.done", "output_index": index, "item": item}
            if d.truncate and index == len(document["output"]) - 1:
                io.sse_cut(event)
                return 200
            io.sse(event, event="response.output_item.done")
        final = {"type": "response.completed", "response": document}
        io.sse(_broken(final) if d.malformed else final, event="response.completed")
        io.end_sse()
    except ClientGone:
        if not charged:
            return 200
    return 200
