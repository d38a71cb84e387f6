"""Chat Completions with ``modalities``: image models answering in ``message.images``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from generation.openrouter import _coerce, failures
from generation.openrouter.answers import (
    ChatAnswer,
    is_safety_error,
    message_text,
    refusal,
)
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import ErrorKind, OpenRouterError, RequestInvalid
from generation.openrouter.fetch import ImageFetcher, unreadable_image
from generation.openrouter.image_config import chat_modalities, validate_image_config
from generation.openrouter.transport import is_event_stream
from generation.openrouter.types import GeneratedImage, GenerationResult, PartialImage
from generation.openrouter.validation import (
    check_image_url,
    check_max_tokens,
    check_model_id,
    check_prompt,
)

OnPartial = Callable[[PartialImage], None]


class ChatApi(ImageFetcher):
    def chat_image(
        self,
        model: str,
        prompt: str,
        *,
        output_modalities: Sequence[str],
        image_config: Mapping[str, Any] | None = None,
        input_images: Sequence[str] = (),
        stream: bool = False,
        on_partial: OnPartial | None = None,
        max_tokens: int = 1024,
    ) -> GenerationResult:
        """Generate through ``POST /chat/completions`` with ``modalities``.

        ``output_modalities`` are the model's (from the catalog): text is
        requested only from models that output it. ``image_config`` is
        validated for the model's family; ``input_images`` (URLs or data URLs)
        go into the user message. A modest ``max_tokens`` keeps OpenRouter's
        up-front credit reservation small.

        Some models send a smaller preview before the final image: the result
        holds only final images (the rule is ``answers.final_images``), while
        ``on_partial`` receives every image as it arrives, previews included
        (streamed answers only); whatever ``on_partial`` raises aborts the
        call. A 200 answer with no image, or a stream that reports a safety
        refusal, raises ``OpenRouterError(kind=refused)``; other stream errors
        are ``stream_error``, a cut-off answer ``interrupted``. Every error
        after OpenRouter accepted the request carries ``may_be_charged``, the
        ``generation_id`` (known from the first byte) and any ``cost``.
        """
        check_model_id(model)
        check_prompt(prompt)
        modalities = chat_modalities(output_modalities)
        if isinstance(input_images, str):
            raise RequestInvalid("input_images", "must be a list of URLs, not one string")
        config = dict(image_config or {})
        validate_image_config(model, config, has_input_images=bool(input_images))
        for index, url in enumerate(input_images):
            check_image_url(url, f"input_images[{index}]")
        check_max_tokens(max_tokens)

        content: str | list[dict[str, Any]] = prompt
        if input_images:
            content = [{"type": "text", "text": prompt}] + [
                {"type": "image_url", "image_url": {"url": url}} for url in input_images
            ]
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": content}],
            "modalities": modalities,
            "max_tokens": max_tokens,
        }
        if config:
            body["image_config"] = config
        if stream:
            body["stream"] = True

        acc = ChatAnswer()
        with self.generation("chat/completions", body, stream=stream, answer=acc) as (
            response,
            deadline,
        ):
            if is_event_stream(response):
                self._chat_stream(response, acc, on_partial, deadline)
            else:
                self._chat_whole(self._read_json(response, may_charge=True, deadline=deadline), acc)
            if not acc.images:
                raise refusal(acc)
            return acc.result(model)

    def _chat_whole(self, payload: dict[str, Any], acc: ChatAnswer) -> None:
        acc.note_envelope(payload)
        for choice in _coerce.as_list(payload.get("choices")):
            choice = _coerce.as_dict(choice)
            message = _coerce.as_dict(choice.get("message"))
            acc.note_finish(choice)
            acc.text.append(message_text(message.get("content")))
            images = _coerce.as_list(message.get("images"))
            for index, image in enumerate(images):
                images[index] = None  # Release each encoded copy once decoded.
                acc.images.append(self._image_from_part(image))
        if not acc.images and (payload.get("error") or "error" in acc.finish_reasons):
            raise self._chat_error(payload, acc)

    def _chat_stream(
        self,
        response: httpx.Response,
        acc: ChatAnswer,
        on_partial: OnPartial | None,
        deadline: Deadline,
    ) -> None:
        finished = False
        for chunk in self._chunks(response, deadline):
            if chunk is None:
                finished = True
                break
            acc.note_envelope(chunk)
            if chunk.get("error"):
                for choice in _coerce.as_list(chunk.get("choices")):
                    acc.note_finish(_coerce.as_dict(choice))
                raise self._chat_error(chunk, acc)
            for choice in _coerce.as_list(chunk.get("choices")):
                choice = _coerce.as_dict(choice)
                delta = _coerce.as_dict(choice.get("delta"))
                if isinstance(delta.get("content"), str):
                    acc.text.append(delta["content"])
                images = _coerce.as_list(delta.get("images"))
                for index, part in enumerate(images):
                    images[index] = None
                    image = self._image_from_part(part)
                    if on_partial is not None:
                        on_partial(PartialImage(len(acc.images), image.data, image.media_type))
                    acc.images.append(image)
                if choice.get("finish_reason") or choice.get("native_finish_reason"):
                    acc.note_finish(choice)
                if choice.get("finish_reason") == "error":
                    raise self._chat_error(chunk, acc)
        if not finished and not acc.finish_reasons:
            raise OpenRouterError(
                ErrorKind.INTERRUPTED,
                "the stream ended before the generation finished",
                retryable=False,
                may_be_charged=True,
            )

    def _chat_error(self, chunk: Mapping[str, Any], acc: ChatAnswer) -> OpenRouterError:
        """A chat answer that ended in an error: a refusal when its code,
        message or native finish reason is a safety one, else a stream error."""
        error = _coerce.as_dict(chunk.get("error"))
        native = next(
            (reason for reason in acc.native_finish_reasons if reason.lower() != "error"), None
        )
        if native and is_safety_error(native, None) and not acc.images:
            return refusal(acc)
        if is_safety_error(error.get("code"), _coerce.as_str(error.get("message"))):
            return failures.stream_error(chunk, ErrorKind.REFUSED, secret=self._api_key)
        return failures.stream_error(chunk, secret=self._api_key)

    def _image_from_part(self, part: object) -> GeneratedImage:
        entry = _coerce.as_dict(part)
        image_url = entry.get("image_url")
        url = _coerce.as_str(_coerce.as_dict(image_url).get("url")) or _coerce.as_str(image_url)
        url = url or _coerce.as_str(entry.get("url"))
        if not url:
            raise unreadable_image("the image part has no URL")
        return self._image_from_url(url)
