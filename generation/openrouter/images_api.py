"""The Image API, ``POST /images``: whole answers and ``image_generation.*`` streams."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from generation.openrouter import _coerce, failures
from generation.openrouter.answers import ChatAnswer, is_safety_error, may_be_charged, sum_usage
from generation.openrouter.deadline import Deadline
from generation.openrouter.errors import ErrorKind, OpenRouterError
from generation.openrouter.fetch import ImageFetcher, unreadable_image
from generation.openrouter.transport import is_event_stream
from generation.openrouter.types import (
    Endpoint,
    GeneratedImage,
    GenerationResult,
    PartialImage,
    Usage,
)
from generation.openrouter.validation import check_model_id, check_prompt, validate_image_request

logger = logging.getLogger(__name__)

OnPartial = Callable[[PartialImage], None]


class ImagesApi(ImageFetcher):
    def generate_image(
        self,
        model: str,
        prompt: str,
        *,
        params: Mapping[str, Any] | None = None,
        input_references: Sequence[str] = (),
        provider_options: Mapping[str, Mapping[str, Any]] | None = None,
        stream: bool = False,
        on_partial: OnPartial | None = None,
        endpoint: Endpoint | None = None,
        pin_provider: bool = True,
    ) -> GenerationResult:
        """Generate with the Image API (``POST /images``).

        ``params`` are the image parameters (``n``, ``resolution``,
        ``aspect_ratio``, ``size``, ``quality``, ``output_format``,
        ``background``, ``output_compression``, ``seed``…). With ``endpoint``
        they are validated against its descriptors and, if ``pin_provider`` and
        the endpoint has a ``provider_tag``, the request is pinned to that
        provider so the checks made are the ones that apply. Streaming is
        requested only from endpoints that support it; ``on_partial`` receives
        each preview render, and whatever it raises aborts the call (that is
        how a caller cancels; the provider may still bill). ``n`` is an upper
        bound: fewer images may come back. The result has no
        ``generation_id`` (the API gives none).

        Raises ``RequestInvalid`` before sending, ``OpenRouterError`` after.
        Once the request was accepted every error is ``may_be_charged`` (unless
        a cost of zero was reported) and carries any ``usage.cost`` that had
        arrived, that of a stream's error event included; a safety refusal
        reported on the stream is ``refused``, other stream errors
        ``stream_error``, a stream cut before its completed images
        ``interrupted``.
        """
        check_model_id(model)
        check_prompt(prompt)
        params = dict(params or {})
        validate_image_request(
            params,
            endpoint=endpoint,
            input_references=input_references,
            provider_options=provider_options,
        )
        body: dict[str, Any] = {"model": model, "prompt": prompt, **params}
        if input_references:
            body["input_references"] = [
                {"type": "image_url", "image_url": {"url": url}} for url in input_references
            ]
        provider: dict[str, Any] = {}
        if provider_options:
            provider["options"] = {slug: dict(opts) for slug, opts in provider_options.items()}
        if pin_provider and endpoint is not None and endpoint.provider_tag:
            provider["order"] = [endpoint.provider_tag]
            provider["allow_fallbacks"] = False
        if provider:
            body["provider"] = provider
        streaming = stream and (endpoint is None or endpoint.supports_streaming)
        if streaming:
            body["stream"] = True

        answer = ChatAnswer()
        with self.generation("images", body, stream=streaming, answer=answer) as (
            response,
            deadline,
        ):
            if is_event_stream(response):
                return self._images_stream(response, model, on_partial, deadline, answer)
            payload = self._read_json(response, may_charge=True, deadline=deadline)
            return self._images_result(payload, model, answer)

    def _images_result(
        self, payload: dict[str, Any], model: str, answer: ChatAnswer
    ) -> GenerationResult:
        usage = Usage.from_api(payload.pop("usage", None))
        answer.usage = usage
        answer.provider = _coerce.as_str(payload.get("provider"))
        items = _coerce.as_list(payload.get("data"))
        images: list[GeneratedImage] = []
        for index, item in enumerate(items):
            entry = _coerce.as_dict(item)
            items[index] = None  # Release the encoded copy once decoded.
            images.append(self._image_from_entry(entry))
        if not images:
            raise OpenRouterError(
                ErrorKind.REFUSED,
                "the provider returned no image",
                retryable=False,
                may_be_charged=may_be_charged(usage),
                cost=usage.cost if usage else None,
            )
        return GenerationResult(
            images=images,
            provider=answer.provider,
            model=_coerce.as_str(payload.get("model")) or model,
            usage=usage,
            cost=usage.cost if usage else None,
        )

    def _image_from_entry(self, entry: dict[str, Any]) -> GeneratedImage:
        b64 = _coerce.as_str(entry.pop("b64_json", None))
        declared = _coerce.as_str(entry.get("media_type"))
        if b64:
            return self._image_from_b64(b64, declared)
        url = _coerce.as_str(entry.get("url"))
        if url:
            return self._image_from_url(url)
        raise unreadable_image("the image entry has no data")

    def _images_stream(
        self,
        response: httpx.Response,
        model: str,
        on_partial: OnPartial | None,
        deadline: Deadline,
        answer: ChatAnswer,
    ) -> GenerationResult:
        images: list[GeneratedImage] = []
        usages: list[Usage] = []
        partials = 0
        finished = False
        for chunk in self._chunks(response, deadline):
            if chunk is None:
                finished = True
                break
            kind = _coerce.as_str(chunk.get("type")) or ""
            if kind == "error" or chunk.get("error"):
                error = _coerce.as_dict(chunk.get("error"))
                refused = is_safety_error(
                    error.get("code", chunk.get("code")),
                    _coerce.as_str(error.get("message")) or _coerce.as_str(chunk.get("message")),
                )
                raise failures.stream_error(
                    chunk,
                    ErrorKind.REFUSED if refused else ErrorKind.STREAM_ERROR,
                    secret=self._api_key,
                )
            if kind == "image_generation.partial_image":
                if on_partial is not None:
                    # Decoded only when someone watches: previews can be large.
                    preview = self._image_from_entry(chunk)
                    index = _coerce.as_int(chunk.get("partial_image_index"))
                    number = partials if index is None else index
                    on_partial(PartialImage(number, preview.data, preview.media_type))
                partials += 1
            elif kind == "image_generation.completed":
                usage = Usage.from_api(chunk.pop("usage", None))
                if usage is not None:
                    usages.append(usage)
                    answer.usage = sum_usage(usages)
                images.append(self._image_from_entry(chunk))
        usage = sum_usage(usages)
        if not images:
            raise OpenRouterError(
                ErrorKind.INTERRUPTED,
                "the image stream ended without a completed image",
                retryable=False,
                may_be_charged=True,
            )
        if not finished:
            # The images arrived and are paid for; a missing [DONE] must not lose them.
            logger.warning("Image stream for %s ended without [DONE]", model)
        return GenerationResult(
            images=images, model=model, usage=usage, cost=usage.cost if usage else None
        )
