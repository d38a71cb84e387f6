"""The one place Darkroom speaks HTTP to OpenRouter.

``OpenRouterClient`` is synchronous (it runs in Celery thread-pool workers),
wraps a single ``httpx.Client`` with explicit timeouts, never follows
redirects, caps every body it reads, and raises only ``RequestInvalid``
(before sending) and ``OpenRouterError`` (after), besides whatever an
``on_partial`` callback raises. The API key travels only in
the ``Authorization`` header of requests to ``base_url``; images fetched from
other hosts get neither the key nor the attribution headers.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import certifi
import httpx

from generation.openrouter import _coerce, media
from generation.openrouter.answers import (
    ChatAnswer,
    ToolFindings,
    may_be_charged,
    message_text,
    refusal,
    responses_text,
    sum_usage,
    tool_error,
)
from generation.openrouter.errors import (
    ErrorKind,
    OpenRouterError,
    RequestInvalid,
    error_from_payload,
    redact,
)
from generation.openrouter.sse import SSEDecoder, SSEError, SSEEvent
from generation.openrouter.types import (
    Endpoint,
    GeneratedImage,
    GenerationResult,
    GenerationStats,
    ImageModel,
    KeyInfo,
    ModelInfo,
    PartialImage,
    Usage,
)
from generation.openrouter.validation import (
    chat_modalities,
    check_image_url,
    check_model_id,
    validate_image_config,
    validate_image_request,
    validate_tool_parameters,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
MiB = 1024 * 1024

# Generations take from seconds to over a minute and a half (4K, high
# quality): the read timeout is the longest silence we accept between bytes.
GENERATION_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=10.0)
# Discovery, /key and /generation answer quickly or not at all.
API_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=10.0)
FETCH_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=10.0, pool=10.0)
# Error bodies are small; a huge one is a proxy page, not an OpenRouter error.
_ERROR_BODY_LIMIT = MiB
_MAX_PAGES = 100

OnPartial = Callable[[PartialImage], None]
Resolver = Callable[[str, int], Sequence[str]]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle, about 20 ms
    of CPU, which a client per job would otherwise pay every time."""
    return ssl.create_default_context(cafile=certifi.where())


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_public(address: str) -> bool:
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            address.split("%", 1)[0]
        )
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _json_default(value: object) -> object:
    # Form values may arrive as Decimal (e.g. image_config.strength).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(body: Mapping[str, Any]) -> bytes:
    text = json.dumps(
        body, default=_json_default, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode()


class OpenRouterClient:
    """A synchronous OpenRouter client; use it as a context manager.

    One instance may serve many calls (it pools connections); create one per
    task rather than sharing one across threads. ``max_duration`` bounds a whole generation,
    stream included, since keep-alive comments would otherwise keep a slow
    stream open forever. ``resolver`` (host, port) -> addresses is used to
    refuse image URLs that point at private addresses; tests inject one.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        referer: str | None = None,
        title: str = "Darkroom",
        timeout: httpx.Timeout = GENERATION_TIMEOUT,
        max_response_bytes: int = 64 * MiB,
        max_stream_bytes: int = 256 * MiB,
        max_duration: float = 600.0,
        generation_retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        resolver: Resolver | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url + "/")
        self._referer = referer
        self._title = title
        self.max_response_bytes = max_response_bytes
        self.max_stream_bytes = max_stream_bytes
        self.max_duration = max_duration
        self.generation_retry_delays = tuple(generation_retry_delays)
        self._resolver: Resolver = resolver or _system_resolver
        # The key is added per request, never as a client default, so a
        # request to another host can never carry it.
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            verify=_tls_context(),
            headers={"User-Agent": f"Darkroom (+{referer})" if referer else "Darkroom"},
        )

    def __repr__(self) -> str:
        return f"OpenRouterClient(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Discovery

    def list_image_models(self) -> list[ImageModel]:
        """``GET /images/models``: every image model with its union of capabilities."""
        payload = self._get_json("images/models")
        models = [ImageModel.from_api(item) for item in _coerce.as_list(payload.get("data"))]
        return [model for model in models if model is not None]

    def get_endpoints(self, model_id: str) -> list[Endpoint]:
        """``GET /images/models/{author}/{slug}/endpoints``: the definitive
        per-provider capabilities and pricing lines of one image model."""
        author, slug = check_model_id(model_id).split("/", 1)
        path = f"images/models/{quote(author, safe='')}/{quote(slug, safe=':')}/endpoints"
        payload = self._get_json(path)
        endpoints = [Endpoint.from_api(item) for item in _coerce.as_list(payload.get("endpoints"))]
        return [endpoint for endpoint in endpoints if endpoint is not None]

    def list_models(self, output_modalities: str = "image") -> list[ModelInfo]:
        """``GET /models?output_modalities=…``, all pages.

        Follows ``links.next`` when given (only on OpenRouter's own host),
        else pages by ``offset``/``limit`` while ``total_count`` says more
        remain; a bare ``data`` list is a single page. The default filter is
        ``image`` because OpenRouter's own default (``text``) hides pure image
        models.
        """
        params: dict[str, str | int] | None = {"output_modalities": output_modalities}
        target: str = "models"
        models: list[ModelInfo] = []
        seen_targets: set[str] = set()
        for _ in range(_MAX_PAGES):
            payload = self._get_json(target, params=params)
            page = _coerce.as_list(payload.get("data"))
            for item in page:
                model = ModelInfo.from_api(item)
                if model is not None:
                    models.append(model)
            next_link = _coerce.as_str(_coerce.as_dict(payload.get("links")).get("next"))
            total = _coerce.as_int(payload.get("total_count"))
            if not page:
                break
            if next_link:
                target = self._same_origin(next_link)
                if target in seen_targets:
                    break
                seen_targets.add(target)
                params = None  # The link carries its own query.
            elif total is not None and len(models) < total:
                params = {
                    "output_modalities": output_modalities,
                    "offset": len(models),
                    "limit": len(page),
                }
            else:
                break
        return models

    # Accounting

    def get_key(self) -> KeyInfo:
        """``GET /key``: usage and limit of the configured key."""
        return KeyInfo.from_api(self._get_json("key").get("data"))

    def get_generation(
        self, generation_id: str, *, delays: Sequence[float] | None = None
    ) -> GenerationStats:
        """``GET /generation?id=…``: the final cost of a chat generation.

        OpenRouter answers 404 for a short while after a generation finishes,
        so a 404 is retried after each of ``delays`` (default
        ``generation_retry_delays``) before ``OpenRouterError(not_found)``.
        """
        waits = self.generation_retry_delays if delays is None else tuple(delays)
        for wait in waits:
            try:
                return self._generation_stats(generation_id)
            except OpenRouterError as exc:
                if exc.kind is not ErrorKind.NOT_FOUND:
                    raise
            time.sleep(wait)
        return self._generation_stats(generation_id)

    def _generation_stats(self, generation_id: str) -> GenerationStats:
        payload = self._get_json("generation", params={"id": generation_id})
        return GenerationStats.from_api(payload.get("data"), fallback_id=generation_id)

    # POST /images

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
        how a caller cancels; the provider may still bill). ``n`` is an upper bound: fewer images may come
        back. The result has no ``generation_id`` (the API gives none).

        Raises ``RequestInvalid`` before sending, ``OpenRouterError`` after.
        """
        check_model_id(model)
        _check_prompt(prompt)
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

        deadline = time.monotonic() + self.max_duration
        with self._open("POST", "images", body=body, stream=streaming, may_charge=True) as response:
            if _is_event_stream(response):
                return self._images_stream(response, model, on_partial, deadline)
            payload = self._read_json(response, may_charge=True, deadline=deadline)
        return self._images_result(payload, model)

    def _images_result(self, payload: dict[str, Any], model: str) -> GenerationResult:
        usage = Usage.from_api(payload.pop("usage", None))
        items = _coerce.as_list(payload.get("data"))
        images: list[GeneratedImage] = []
        for index, item in enumerate(items):
            entry = _coerce.as_dict(item)
            items[index] = None  # Release the encoded copy once decoded.
            images.append(self._image_from_entry(entry, usage))
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
            provider=_coerce.as_str(payload.get("provider")),
            model=_coerce.as_str(payload.get("model")) or model,
            usage=usage,
            cost=usage.cost if usage else None,
        )

    def _image_from_entry(self, entry: dict[str, Any], usage: Usage | None) -> GeneratedImage:
        b64 = _coerce.as_str(entry.pop("b64_json", None))
        declared = _coerce.as_str(entry.get("media_type"))
        try:
            if b64:
                return media.decode_b64_image(b64, declared)
        except ValueError as exc:
            raise self._unreadable_image(exc, usage) from exc
        url = _coerce.as_str(entry.get("url"))
        if url:
            return self._image_from_url(url, usage)
        raise self._unreadable_image(ValueError("image entry has no b64_json"), usage)

    def _images_stream(
        self,
        response: httpx.Response,
        model: str,
        on_partial: OnPartial | None,
        deadline: float,
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
                usage = sum_usage(usages)
                raise self._stream_error(chunk, usage, None, charged=bool(images))
            if kind == "image_generation.partial_image":
                if on_partial is not None:
                    # Decoded only when someone watches: previews can be large.
                    preview = self._image_from_entry(chunk, None)
                    index = _coerce.as_int(chunk.get("partial_image_index"))
                    number = partials if index is None else index
                    on_partial(PartialImage(number, preview.data, preview.media_type))
                partials += 1
            elif kind == "image_generation.completed":
                usage = Usage.from_api(chunk.pop("usage", None))
                if usage is not None:
                    usages.append(usage)
                images.append(self._image_from_entry(chunk, usage))
        usage = sum_usage(usages)
        if not images:
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                "the image stream ended without a completed image",
                retryable=False,
                may_be_charged=True,
                cost=usage.cost if usage else None,
            )
        if not finished:
            # The images arrived and are paid for; a missing [DONE] must not lose them.
            logger.warning("Image stream for %s ended without [DONE]", model)
        return GenerationResult(
            images=images, model=model, usage=usage, cost=usage.cost if usage else None
        )

    # Chat Completions

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

        Every image is returned, in order; when streaming each one is also
        passed to ``on_partial`` as it arrives (some models send a preview
        before the final image, so the first may be superseded); whatever
        ``on_partial`` raises aborts the call. A 200 answer
        with no image raises ``OpenRouterError(kind=refused)`` carrying
        ``cost`` and ``generation_id``: refusals may still be billed.
        """
        check_model_id(model)
        _check_prompt(prompt)
        modalities = chat_modalities(output_modalities)
        if isinstance(input_images, str):
            raise RequestInvalid("input_images", "must be a list of URLs, not one string")
        config = dict(image_config or {})
        validate_image_config(model, config, has_input_images=bool(input_images))
        for index, url in enumerate(input_images):
            check_image_url(url, f"input_images[{index}]")
        _check_max_tokens(max_tokens)

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

        deadline = time.monotonic() + self.max_duration
        acc = ChatAnswer()
        with self._open(
            "POST", "chat/completions", body=body, stream=stream, may_charge=True
        ) as response:
            if _is_event_stream(response):
                self._chat_stream(response, acc, on_partial, deadline)
                return self._finish_chat(acc, model)
            payload = self._read_json(response, may_charge=True, deadline=deadline)
        acc.note_envelope(payload)
        choices = _coerce.as_list(payload.get("choices"))
        for choice in choices:
            choice = _coerce.as_dict(choice)
            message = _coerce.as_dict(choice.get("message"))
            acc.note_finish(choice)
            acc.text.append(message_text(message.get("content")))
            images = _coerce.as_list(message.get("images"))
            for index, image in enumerate(images):
                images[index] = None  # Release each encoded copy once decoded.
                acc.images.append(self._image_from_part(image, acc))
        if not acc.images and (payload.get("error") or "error" in acc.finish_reasons):
            raise self._stream_error(payload, acc.usage, acc.generation_id, charged=True)
        return self._finish_chat(acc, model)

    def _chat_stream(
        self,
        response: httpx.Response,
        acc: ChatAnswer,
        on_partial: OnPartial | None,
        deadline: float,
    ) -> None:
        finished = False
        for chunk in self._chunks(response, deadline):
            if chunk is None:
                finished = True
                break
            acc.note_envelope(chunk)
            if chunk.get("error"):
                raise self._stream_error(chunk, acc.usage, acc.generation_id, charged=True)
            for choice in _coerce.as_list(chunk.get("choices")):
                choice = _coerce.as_dict(choice)
                delta = _coerce.as_dict(choice.get("delta"))
                if isinstance(delta.get("content"), str):
                    acc.text.append(delta["content"])
                images = _coerce.as_list(delta.get("images"))
                for index, part in enumerate(images):
                    images[index] = None
                    image = self._image_from_part(part, acc)
                    if on_partial is not None:
                        on_partial(PartialImage(len(acc.images), image.data, image.media_type))
                    acc.images.append(image)
                if choice.get("finish_reason") == "error":
                    raise self._stream_error(chunk, acc.usage, acc.generation_id, charged=True)
                if choice.get("finish_reason") or choice.get("native_finish_reason"):
                    acc.note_finish(choice)
        if not finished and not acc.finish_reasons:
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                "the stream ended before the generation finished",
                retryable=False,
                may_be_charged=True,
                cost=acc.cost,
                generation_id=acc.generation_id,
            )

    def _finish_chat(self, acc: ChatAnswer, model: str) -> GenerationResult:
        if not acc.images:
            raise refusal(acc)
        return acc.result(model)

    def _image_from_part(self, part: object, acc: ChatAnswer) -> GeneratedImage:
        entry = _coerce.as_dict(part)
        image_url = entry.get("image_url")
        url = _coerce.as_str(_coerce.as_dict(image_url).get("url")) or _coerce.as_str(image_url)
        url = url or _coerce.as_str(entry.get("url"))
        if not url:
            raise self._unreadable_image(
                ValueError("image part has no URL"), acc.usage, acc.generation_id
            )
        return self._image_from_url(url, acc.usage, acc.generation_id)

    # The openrouter:image_generation server tool

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

        Tool results (``{"status": "ok", "imageUrl": …}``) are looked for
        anywhere in the answer and their temporary URLs fetched at once. A
        tool error raises ``OpenRouterError`` (``refused`` for policy
        refusals, else ``upstream``), an answer without any image raises
        ``refused``; both carry ``cost`` since the text model was billed.
        """
        check_model_id(model)
        _check_prompt(prompt)
        parameters = dict(tool_parameters or {})
        validate_tool_parameters(parameters)
        _check_max_tokens(max_tokens)
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

        deadline = time.monotonic() + self.max_duration
        with self._open("POST", path, body=body, stream=False, may_charge=True) as response:
            payload = self._read_json(response, may_charge=True, deadline=deadline)
        acc = ChatAnswer()
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
        for ref in findings.refs:
            if ref.b64 is not None:
                try:
                    acc.images.append(media.decode_b64_image(ref.b64, strict=True))
                except ValueError as exc:
                    raise self._unreadable_image(exc, acc.usage, acc.generation_id) from exc
            else:
                acc.images.append(self._image_from_url(ref.url, acc.usage, acc.generation_id))
        if not acc.images and findings.errors:
            raise tool_error(findings.errors[0], acc, secret=self._api_key)
        return self._finish_chat(acc, model)

    # Images by URL

    def _image_from_url(
        self, url: str, usage: Usage | None, generation_id: str | None = None
    ) -> GeneratedImage:
        if media.is_data_url(url):
            try:
                return media.decode_data_url(url)
            except ValueError as exc:
                raise self._unreadable_image(exc, usage, generation_id) from exc
        return self._fetch_image(url, usage, generation_id)

    def _fetch_image(
        self, url: str, usage: Usage | None, generation_id: str | None
    ) -> GeneratedImage:
        """GET a generated image by URL: no key, no redirects, capped, and
        only from OpenRouter's host or a public address (pinned once resolved,
        so DNS cannot switch it to a private one between check and connect)."""

        def failure(message: str) -> OpenRouterError:
            # The generation succeeded and was paid for; retrying it would pay again.
            return OpenRouterError(
                ErrorKind.UPSTREAM,
                f"could not download the generated image: {message}",
                retryable=False,
                may_be_charged=True,
                cost=usage.cost if usage else None,
                generation_id=generation_id,
                secret=self._api_key,
            )

        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise failure(f"invalid URL ({exc})") from exc
        headers: dict[str, str] = {"Accept": "image/*"}
        extensions: dict[str, Any] = {}
        host = target.host
        if target.scheme not in ("http", "https") or not host:
            raise failure(f"unsupported URL {url[:80]!r}")
        if not self._on_api_host(target):
            if target.scheme != "https":
                raise failure("only https image URLs are fetched")
            port = target.port or 443
            try:
                addresses = list(self._resolver(host, port))
            except OSError as exc:
                raise failure(f"cannot resolve {host}: {exc}") from exc
            if not addresses or not all(_is_public(address) for address in addresses):
                raise failure(f"{host} does not resolve to a public address")
            headers["Host"] = host if target.port is None else f"{host}:{target.port}"
            extensions["sni_hostname"] = host
            target = target.copy_with(host=addresses[0])
        request = self._http.build_request(
            "GET", target, headers=headers, timeout=FETCH_TIMEOUT, extensions=extensions
        )
        deadline = time.monotonic() + self.max_duration
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise failure(type(exc).__name__) from exc
        try:
            if response.status_code != 200:
                raise failure(f"HTTP {response.status_code}")
            try:
                body = self._read_capped(response, self.max_response_bytes, deadline)
            except OpenRouterError as exc:
                raise failure(exc.message) from exc
            except httpx.HTTPError as exc:
                raise failure(type(exc).__name__) from exc
        finally:
            response.close()
        if not body:
            raise failure("empty body")
        data = bytes(body)
        del body
        return GeneratedImage(
            data, media.media_type_for(data, response.headers.get("content-type"))
        )

    # HTTP plumbing

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": accept,
            "X-OpenRouter-Title": self._title,
            "X-Title": self._title,
        }
        if self._referer:
            headers["HTTP-Referer"] = self._referer
        return headers

    def _url(self, target: str) -> httpx.URL:
        return self._base.join(target)

    def _on_api_host(self, url: httpx.URL) -> bool:
        base = self._base
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def _same_origin(self, link: str) -> str:
        """A ``links.next`` target, only if it stays on OpenRouter's host."""
        url = self._base.join(link)
        if not self._on_api_host(url):
            raise OpenRouterError(
                ErrorKind.MALFORMED, f"refusing to follow a next link to {url.host}"
            )
        return str(url)

    @contextmanager
    def _open(
        self,
        method: str,
        target: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        stream: bool = False,
        may_charge: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> Iterator[httpx.Response]:
        """Send a request to the API; yield the 2xx response with its body unread."""
        headers = self._headers("text/event-stream" if stream else "application/json")
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            try:
                content = _dumps(body)
            except (TypeError, ValueError) as exc:
                raise RequestInvalid("params", f"cannot be sent as JSON: {exc}") from exc
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        request = self._http.build_request(
            method, self._url(target), content=content, params=params, headers=headers, **extra
        )
        del content
        started = time.monotonic()
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, may_charge=may_charge) from exc
        logger.debug(
            "OpenRouter %s %s -> %s in %.2fs",
            method,
            request.url.path,
            response.status_code,
            time.monotonic() - started,
        )
        try:
            if not 200 <= response.status_code < 300:
                raise self._status_error(response, may_charge=may_charge)
            yield response
        finally:
            response.close()

    def _get_json(
        self, target: str, *, params: Mapping[str, str | int] | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + self.max_duration
        with self._open("GET", target, params=params, timeout=API_TIMEOUT) as response:
            return self._read_json(response, may_charge=False, deadline=deadline)

    def _read_capped(self, response: httpx.Response, limit: int, deadline: float) -> bytearray:
        """The (decompressed) body, refusing more than ``limit`` bytes."""
        declared = _coerce.as_int(response.headers.get("content-length"))
        if declared is not None and declared > limit:
            raise OpenRouterError(
                ErrorKind.TOO_LARGE,
                f"response of {declared} bytes exceeds {limit}",
                retryable=False,
            )
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise OpenRouterError(
                    ErrorKind.TOO_LARGE, f"response exceeds {limit} bytes", retryable=False
                )
            if time.monotonic() > deadline:
                raise OpenRouterError(
                    ErrorKind.TIMEOUT,
                    f"response took longer than {self.max_duration:.0f} s",
                    retryable=False,
                )
        return body

    def _read_json(
        self, response: httpx.Response, *, may_charge: bool, deadline: float
    ) -> dict[str, Any]:
        """Read and parse a 2xx JSON body; a body that is an error object raises."""
        try:
            body = self._read_capped(response, self.max_response_bytes, deadline)
        except OpenRouterError as exc:
            exc.may_be_charged = may_charge
            raise
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, may_charge=may_charge) from exc
        try:
            # Text first, bytes dropped, then parse: json.loads(bytes) would
            # hold the bytes, a decoded copy and the parsed strings at once.
            text = body.decode("utf-8")
            del body
            payload = _coerce.loads(text)
        except ValueError as exc:
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                f"unreadable JSON from OpenRouter ({exc.__class__.__name__}: {exc})",
                status=response.status_code,
                retryable=False,
                may_be_charged=may_charge,
            ) from None
        del text
        if not isinstance(payload, dict):
            raise OpenRouterError(
                ErrorKind.MALFORMED,
                f"expected a JSON object, got {type(payload).__name__}",
                status=response.status_code,
                retryable=False,
                may_be_charged=may_charge,
            )
        error = payload.get("error")
        if isinstance(error, dict) and not payload.get("choices") and not payload.get("data"):
            # An error reported with HTTP 200 (it happened after the headers
            # were sent). Never retried: the attempt may have been billed.
            code = _coerce.as_int(error.get("code"))
            raise error_from_payload(
                code if code and 400 <= code < 600 else 502,
                payload,
                response.headers,
                secret=self._api_key,
                retryable=False,
                may_be_charged=may_charge,
            )
        return payload

    def _chunks(self, response: httpx.Response, deadline: float) -> Iterator[dict[str, Any] | None]:
        """The JSON objects of a generation stream, then ``None`` for ``[DONE]``.

        Each event's text is parsed and dropped before its object is yielded,
        so a multi-megabyte image exists once as text, not twice. Breaks after
        data started are never retryable: the generation may have been billed.
        """
        decoder = SSEDecoder(max_line_bytes=self.max_response_bytes)
        received = 0
        try:
            for piece in response.iter_bytes():
                received += len(piece)
                if received > self.max_stream_bytes:
                    raise OpenRouterError(
                        ErrorKind.TOO_LARGE,
                        f"stream exceeds {self.max_stream_bytes} bytes",
                        retryable=False,
                        may_be_charged=True,
                    )
                if time.monotonic() > deadline:
                    raise OpenRouterError(
                        ErrorKind.TIMEOUT,
                        f"stream took longer than {self.max_duration:.0f} s",
                        retryable=False,
                        may_be_charged=True,
                    )
                pending = decoder.feed(piece)
                pending.reverse()
                while pending:
                    event = pending.pop()
                    if event.is_done:
                        yield None
                        return
                    chunk = _event_json(event)
                    del event
                    yield chunk
            for event in decoder.close():
                if event.is_done:
                    yield None
                    return
                yield _event_json(event)
        except SSEError as exc:
            raise OpenRouterError(
                ErrorKind.TOO_LARGE, str(exc), retryable=False, may_be_charged=True
            ) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, may_charge=True) from exc

    def _status_error(self, response: httpx.Response, *, may_charge: bool) -> OpenRouterError:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            return OpenRouterError(
                ErrorKind.MALFORMED,
                f"unexpected redirect (HTTP {status}) to {location[:200]}",
                status=status,
                retryable=False,
                secret=self._api_key,
            )
        try:
            body = self._read_capped(response, _ERROR_BODY_LIMIT, time.monotonic() + 60)
        except (OpenRouterError, httpx.HTTPError):
            body = bytearray()
        try:
            payload = _coerce.loads(body)
        except ValueError:
            payload = None
        if not isinstance(_coerce.as_dict(payload).get("error"), dict):
            # A proxy's HTML page or a bare text: keep a short excerpt.
            excerpt = bytes(body[:200]).decode("utf-8", "replace").strip()
            payload = {"error": {"message": f"HTTP {status}: {excerpt}" if excerpt else None}}
        return error_from_payload(status, payload, response.headers, secret=self._api_key)

    def _transport_error(self, exc: httpx.HTTPError, *, may_charge: bool) -> OpenRouterError:
        """Map an httpx failure; retryable only if nothing can have been billed.

        Connect and pool failures happen before the request leaves, and a
        write failure leaves the request incomplete, so those are retried. A
        read timeout or a dropped connection after the request was sent is not
        retried for a generation: the provider may still finish and bill it.
        """
        name = type(exc).__name__
        detail = redact(str(exc), self._api_key) or name
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout)):
            return OpenRouterError(ErrorKind.TIMEOUT, f"{name}: {detail}", retryable=True)
        if isinstance(exc, (httpx.ConnectError, httpx.WriteError)):
            return OpenRouterError(ErrorKind.NETWORK, f"{name}: {detail}", retryable=True)
        if isinstance(exc, httpx.TimeoutException):
            note = "; the generation may have been charged" if may_charge else ""
            return OpenRouterError(
                ErrorKind.TIMEOUT,
                f"no answer in time ({name}){note}",
                retryable=not may_charge,
                may_be_charged=may_charge,
            )
        if isinstance(exc, httpx.DecodingError):
            return OpenRouterError(
                ErrorKind.MALFORMED, f"{name}: {detail}", retryable=False, may_be_charged=may_charge
            )
        if isinstance(exc, httpx.TransportError) and not isinstance(
            exc, (httpx.UnsupportedProtocol, httpx.ProxyError)
        ):
            note = "; the generation may have been charged" if may_charge else ""
            return OpenRouterError(
                ErrorKind.NETWORK,
                f"connection lost ({name}: {detail}){note}",
                retryable=not may_charge,
                may_be_charged=may_charge,
            )
        return OpenRouterError(ErrorKind.NETWORK, f"{name}: {detail}", retryable=False)

    def _stream_error(
        self,
        chunk: Mapping[str, Any],
        usage: Usage | None,
        generation_id: str | None,
        *,
        charged: bool,
    ) -> OpenRouterError:
        error = _coerce.as_dict(chunk.get("error"))
        metadata = _coerce.as_dict(error.get("metadata"))
        code = error.get("code")
        return OpenRouterError(
            ErrorKind.STREAM_ERROR,
            _coerce.as_str(error.get("message")) or "the generation failed part-way",
            code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
            metadata=metadata,
            provider=_coerce.as_str(metadata.get("provider_name"))
            or _coerce.as_str(chunk.get("provider")),
            retryable=False,
            may_be_charged=charged,
            cost=usage.cost if usage else None,
            generation_id=generation_id,
            secret=self._api_key,
        )

    def _unreadable_image(
        self, exc: Exception, usage: Usage | None, generation_id: str | None = None
    ) -> OpenRouterError:
        return OpenRouterError(
            ErrorKind.MALFORMED,
            f"the image data could not be decoded ({exc})",
            retryable=False,
            may_be_charged=True,
            cost=usage.cost if usage else None,
            generation_id=generation_id,
        )


def _event_json(event: SSEEvent) -> dict[str, Any]:
    try:
        chunk = _coerce.loads(event.data)
    except ValueError:
        chunk = None
    if not isinstance(chunk, dict):
        # Mid-stream: the generation is running and may be billed.
        raise OpenRouterError(
            ErrorKind.MALFORMED,
            "unreadable event in the stream (truncated?)",
            retryable=False,
            may_be_charged=True,
        )
    return chunk


def _is_event_stream(response: httpx.Response) -> bool:
    # Endpoints without streaming ignore stream=true and answer plain JSON.
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")


def _check_prompt(prompt: object) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise RequestInvalid("prompt", "is empty; describe the image to generate")


def _check_max_tokens(max_tokens: object) -> None:
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise RequestInvalid("max_tokens", "must be a positive whole number")
