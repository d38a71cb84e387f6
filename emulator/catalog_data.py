"""The emulator's model catalog, loaded from ``data/catalog.json``.

The data file holds the 27 image models OpenRouter's ``/api/v1/images/models``
lists in the public captures known to the project, and three text models; its
``_about`` and each model's ``_source`` say where the entries come from. The
server deep-copies ``IMAGE_MODELS`` and ``TEXT_MODELS`` at start and on
``POST /api/v1/__emulator__/reset``; tests may patch the live copy through
``POST /api/v1/__emulator__/catalog``.

Keys starting with ``_`` are the emulator's private knobs and never appear in
an API answer:

model ``_emulator``
    ``family``            pixel-size table: ``standard`` (the seeds' 1K table,
                          extended ratios computed), ``mai`` (Azure MAI table),
                          ``gpt`` (1024x1024 / 1536x1024 / 1024x1536)
    ``image_config_keys`` the ``image_config`` keys Chat Completions accepts
    ``chat_format``       format of chat images (``png``, ``jpeg``, ``webp``, ``svg``)
    ``image_tokens``      output tokens per image by resolution tier, as the
                          provider reports them (default 1290)
    ``image_tokens_by_quality``  ``{quality: [square, non_square]}`` (OpenAI style)
    ``input_image_tokens``  prompt tokens per input image (default 258, Google's count)
    ``vector``            the model draws SVG only
model ``_source``         where the entry comes from
    ``in_models_list``    false: only the Image API serves it; ``/models`` does not
                          list it and Chat Completions answers 404 (default true)
endpoint ``_emulator``
    ``max_images``        the provider returns at most this many images, whatever ``n`` says
    ``default_format``    Image API format when ``output_format`` is not sent
    ``bills_on_cancel``   a stream the client drops is still charged (Google)

``/models`` entries (``models_entry``) follow the real list: decimal strings
per unit, keys only when known, pure image models at ``"0"``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("data") / "catalog.json"


def load(path: Path = DATA_FILE) -> dict[str, Any]:
    """The catalog document: ``image_models``, ``text_models``, ``server_tool_default_model``."""
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


_DOCUMENT = load()
IMAGE_MODELS: list[dict[str, Any]] = _DOCUMENT["image_models"]
TEXT_MODELS: list[dict[str, Any]] = _DOCUMENT["text_models"]
# The server tool's image model when `parameters.model` is not given (seeds).
SERVER_TOOL_DEFAULT_MODEL: str = _DOCUMENT["server_tool_default_model"]
