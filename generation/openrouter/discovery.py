"""Discovery and accounting: image models, their endpoints, ``/models``, ``/key``
and ``/generation``. These calls cost nothing and need no generation deadline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import quote

from generation.openrouter import _coerce
from generation.openrouter.errors import ErrorKind, OpenRouterError
from generation.openrouter.transport import Transport
from generation.openrouter.types import (
    Endpoint,
    GenerationStats,
    ImageModel,
    KeyInfo,
    ModelInfo,
)
from generation.openrouter.validation import check_model_id

_MAX_PAGES = 100


class Discovery(Transport):
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
