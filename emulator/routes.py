"""The Chat Completions and Responses routes: which kind of answer a request gets
(an image model drawing, the server tool, or a text model talking)."""

from __future__ import annotations

from . import directives
from .catalog import in_models_list
from .chat import _image_chat, _read_messages, _text_answer, _text_chat
from .errors import ApiError, no_endpoints
from .generate import Context, _model_id
from .tool import _read_input, _send_response, _server_tool, _tool_answer
from .validation import require_modalities


def chat(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    conversation = _read_messages(body.get("messages"))
    image_model = ctx.state.catalog.image_model(model_id)
    if image_model is not None and not in_models_list(image_model):
        image_model = None  # served by the Image API only
    model = image_model or ctx.state.catalog.text_model(model_id)
    if model is None:
        raise no_endpoints(f"No endpoints found for {model_id}.")
    d = directives.parse(conversation.last_user)
    architecture = model.get("architecture", {})
    outputs = architecture.get("output_modalities", [])
    if conversation.image_urls and "image" not in architecture.get("input_modalities", []):
        raise no_endpoints("No endpoints found that support image input")
    modalities = body.get("modalities")
    if modalities is not None and (
        not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities)
    ):
        raise ApiError(400, "'modalities' must be a list of strings")
    tool = _server_tool(body.get("tools"))
    if tool is not None and "text" in outputs and (modalities is None or "image" not in modalities):
        return _tool_answer(ctx, model, d, conversation, tool, api="chat")
    requested = (
        modalities
        if modalities is not None
        else (["image", "text"] if image_model is not None and "text" in outputs else ["text"])
    )
    require_modalities(model, requested, model_id)
    if "image" in requested and image_model is not None:
        return _image_chat(ctx, image_model, d, conversation, talks="text" in requested)
    return _text_chat(ctx, model, d, conversation)


def responses(ctx: Context) -> int:
    body = ctx.body
    model_id = _model_id(body)
    conversation = _read_input(body.get("input"))
    model = ctx.state.catalog.text_model(model_id) or ctx.state.catalog.image_model(model_id)
    if model is None:
        raise no_endpoints(f"No endpoints found for {model_id}.")
    require_modalities(model, ["text"], model_id)
    d = directives.parse(conversation.last_user)
    tool = _server_tool(body.get("tools"))
    if tool is not None:
        return _tool_answer(ctx, model, d, conversation, tool, api="responses")
    answer = _text_answer(ctx, model, d, conversation, body.get("max_output_tokens"))
    return _send_response(ctx, answer, d, None)
