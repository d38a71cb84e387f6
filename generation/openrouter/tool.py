"""The ``openrouter:image_generation`` server tool, through Chat Completions and
the Responses API: a text model decides to draw, OpenRouter runs the image
model, and the image comes back as a temporary URL (or base64) to take at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from generation.openrouter import _coerce, media
from generation.openrouter.answers import (
    ChatAnswer,
    ToolFindings,
    ToolRef,
    message_text,
    refusal,
    responses_text,
    tool_error,
)
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import OpenRouterError, RequestInvalid
from generation.openrouter.fetch import ImageFetcher
from generation.openrouter.types import GeneratedImage, GenerationResult
from generation.openrouter.validation import (
    check_max_tokens,
    check_model_id,
    check_prompt,
    validate_tool_parameters,
)


class ToolApi(ImageFetcher):
    def tool_image(
        self,
        model: str,
        prompt: str,
        *,
        tool_parameters: Mapping[str, Any] | None = None,
        api: Literal["chat", "responses"] = "chat",
        max_tokens: int = 1024,
    ) -> GenerationResult:
        """Let text model ``model`` draw with the ``openrouter:image_generation``
        server tool, through Chat Completions or the Responses API.

        Tool images are looked for in every documented shape (see
        ``answers.ToolFindings``: markdown or plain URLs in the assistant's
        text, structured tool results, Responses ``openrouter:image_generation``
        items with ``imageUrl``, ``result`` or ``imageB64``) and their
        temporary URLs fetched at once. A tool error raises ``OpenRouterError``
        (``refused`` for policy refusals, else ``upstream``), an answer without
        any image raises ``refused``; every error carries ``cost`` and
        ``generation_id`` since the text model was billed, and none names the
        image's URL.
        """
        check_model_id(model)
        check_prompt(prompt)
        parameters = dict(tool_parameters or {})
        validate_tool_parameters(parameters)
        check_max_tokens(max_tokens)
        tool: dict[str, Any] = {"type": "openrouter:image_generation"}
        if parameters:
            tool["parameters"] = parameters
        if api == "chat":
            path = "chat/completions"
            body: dict[str, Any] = {
                "model": model,
                "messages": [{"role": "user", "content": prompt}],
                "tools": [tool],
                "max_tokens": max_tokens,
            }
        elif api == "responses":
            path = "responses"
            body = {
                "model": model,
                "input": prompt,
                "tools": [tool],
                "max_output_tokens": max_tokens,
            }
        else:
            raise RequestInvalid("api", f"{api!r} is not 'chat' or 'responses'")

        acc = ChatAnswer()
        with self.generation(path, body, stream=False, answer=acc) as (response, deadline):
            payload = self._read_json(response, may_charge=True, deadline=deadline)
            acc.note_envelope(payload)
            for choice in _coerce.as_list(payload.get("choices")):
                choice = _coerce.as_dict(choice)
                acc.note_finish(choice)
                acc.text.append(message_text(_coerce.as_dict(choice.get("message")).get("content")))
            if api == "responses":
                acc.text.append(responses_text(payload))
            payload.pop("usage", None)
            findings = ToolFindings()
            findings.walk(payload)
            del payload
            findings.scan_text("\n".join(acc.text))
            self._take_images(findings, acc, deadline)
            if not acc.images and findings.errors:
                raise tool_error(findings.errors[0], acc, secret=self._api_key)
            if not acc.images:
                raise refusal(acc)
            return acc.result(model)

    def _take_images(self, findings: ToolFindings, acc: ChatAnswer, deadline: Deadline) -> None:
        """Fetch or decode every tool image. A plain link from the model's text
        may be no image at all: it is skipped, unless nothing else is found."""
        skipped: OpenRouterError | None = None
        for ref in findings.refs:
            try:
                image = self._tool_image(ref, deadline)
            except OpenRouterError as exc:
                if not ref.from_text:
                    raise
                skipped = skipped or exc
                continue
            if image is None:
                continue
            acc.images.append(image)
        if not acc.images and skipped is not None:
            raise skipped

    def _tool_image(self, ref: ToolRef, deadline: Deadline) -> GeneratedImage | None:
        if ref.b64 is not None:
            return self._image_from_b64(ref.b64, strict=True)
        image = self._image_from_url(ref.url, deadline)
        if ref.from_text and media.sniff_media_type(image.data) is None:
            return None  # a page the model linked to, not the tool's image
        return image
