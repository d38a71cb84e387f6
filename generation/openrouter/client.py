"""The one place Darkroom speaks HTTP to OpenRouter.

``OpenRouterClient`` is synchronous (it runs in Celery thread-pool workers),
wraps a single ``httpx.Client`` with explicit timeouts, never follows
redirects, caps every body it reads, and raises only ``RequestInvalid``
(before sending) and ``OpenRouterError`` (after), besides whatever an
``on_partial`` callback raises. The API key travels only in the
``Authorization`` header of requests to ``base_url``; images fetched from
other hosts get neither the key nor the attribution headers.

The protocols live in their own modules, composed here: ``transport`` (HTTP,
deadlines, error mapping), ``fetch`` (images by URL), ``discovery``,
``images_api`` (``POST /images``), ``chat`` (Chat Completions) and ``tool``
(the image-generation server tool).
"""

from __future__ import annotations

from generation.openrouter.chat import ChatApi
from generation.openrouter.discovery import Discovery
from generation.openrouter.fetch import FETCH_TIMEOUT
from generation.openrouter.images_api import ImagesApi, OnPartial
from generation.openrouter.tool import ToolApi
from generation.openrouter.transport import (
    API_TIMEOUT,
    DEFAULT_BASE_URL,
    GENERATION_TIMEOUT,
    MiB,
    Resolver,
)


class OpenRouterClient(Discovery, ImagesApi, ChatApi, ToolApi):
    """A synchronous OpenRouter client; use it as a context manager.

    One instance may serve many calls (it pools connections); create one per
    task rather than sharing one across threads. ``max_duration`` bounds each
    generation call while it waits, stream included (keep-alive comments
    would otherwise keep a slow stream open forever): the wait for headers
    gets at most the time left, and a timer cuts the answer at the deadline.
    An answer that arrived whole is used even if it completed just past it.
    ``resolver`` (host, port) -> addresses is used to refuse image URLs that
    point at private addresses; tests inject one.
    """


__all__ = [
    "API_TIMEOUT",
    "DEFAULT_BASE_URL",
    "FETCH_TIMEOUT",
    "GENERATION_TIMEOUT",
    "MiB",
    "OnPartial",
    "OpenRouterClient",
    "Resolver",
]
