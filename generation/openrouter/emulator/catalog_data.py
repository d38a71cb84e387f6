"""The emulator's model catalog, as plain data.

Everything here is declarative: the server deep-copies ``IMAGE_MODELS`` and
``TEXT_MODELS`` at start and on ``POST /api/v1/__emulator__/reset``, and tests
may patch the live copy through ``POST /api/v1/__emulator__/catalog``.

Keys starting with ``_`` are the emulator's private knobs and never appear in
an API answer:

model ``_emulator``
    ``family``            pixel-size table: ``standard`` (the seeds' 1K table,
                          extended ratios computed), ``mai`` (Azure MAI table),
                          ``gpt`` (1024x1024 / 1536x1024 / 1024x1536)
    ``image_config_keys`` the ``image_config`` keys Chat Completions accepts
    ``chat_format``       format of chat images (``png``, ``jpeg``, ``webp``, ``svg``)
    ``image_tokens``      tokens per output image, by resolution tier, for
                          token-priced models (default 1290)
    ``image_tokens_by_quality``  ``{quality: [square, non_square]}`` (OpenAI style)
    ``vector``            the model draws SVG only
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

from typing import Any

STANDARD_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
EXTENDED_RATIOS = ["1:4", "4:1", "1:8", "8:1"]
MAI_RATIOS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3"]
FLUX_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"]
RECRAFT_RATIOS = ["1:1", "2:1", "1:2", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "16:9", "9:16"]
SOURCEFUL_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9"]

_OPENAI_FORMATS = {"type": "enum", "values": ["png", "jpeg", "webp"]}
_OPENAI_QUALITY = {"type": "enum", "values": ["auto", "low", "medium", "high"]}
_OPENAI_BACKGROUND = {"type": "enum", "values": ["auto", "transparent", "opaque"]}
_OPENAI_TOKENS = {"low": [272, 408], "medium": [1056, 1584], "high": [4160, 6240]}


def _openai_params(n_max: int, refs: int) -> dict[str, Any]:
    return {
        "aspect_ratio": {"type": "enum", "values": ["auto", "1:1", "3:2", "2:3"]},
        "quality": _OPENAI_QUALITY,
        "background": _OPENAI_BACKGROUND,
        "output_format": _OPENAI_FORMATS,
        "output_compression": {"type": "range", "min": 0, "max": 100},
        "n": {"type": "range", "min": 1, "max": n_max},
        "input_references": {"type": "range", "min": 0, "max": refs},
    }


IMAGE_MODELS: list[dict[str, Any]] = [
    {
        "id": "google/gemini-2.5-flash-image",
        "name": "Google: Gemini 2.5 Flash Image (Nano Banana)",
        "description": "Gemini 2.5 Flash Image: text-and-image in, text-and-image out.",
        "created": 1759000000,
        "architecture": {
            "input_modalities": ["image", "text"],
            "output_modalities": ["image", "text"],
        },
        "context_length": 32768,
        "models_pricing": {
            "prompt": "0.0000003",
            "completion": "0.0000025",
            "image": "0.0000003",
            "image_output": "0.00003",
            "discount": 0,
        },
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "png",
            "image_tokens": {"1K": 1290},
        },
        "endpoints": [
            {
                "provider_name": "Google AI Studio",
                "provider_slug": "google-ai-studio",
                "provider_tag": "google-ai-studio",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": STANDARD_RATIOS},
                    "resolution": {"type": "enum", "values": ["1K"]},
                },
                "allowed_passthrough_parameters": [],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 3e-07},
                    {"billable": "input_image", "unit": "token", "cost_usd": 3e-07},
                    {"billable": "output_image", "unit": "token", "cost_usd": 3e-05},
                ],
                "_emulator": {"bills_on_cancel": True},
            },
            {
                "provider_name": "Google Vertex",
                "provider_slug": "google-vertex",
                "provider_tag": "google-vertex/global",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": STANDARD_RATIOS},
                    "resolution": {"type": "enum", "values": ["1K"]},
                    "seed": {"type": "boolean"},
                },
                "allowed_passthrough_parameters": ["safety_settings"],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 3e-07},
                    {"billable": "input_image", "unit": "token", "cost_usd": 3e-07},
                    {"billable": "output_image", "unit": "token", "cost_usd": 3e-05},
                ],
                "_emulator": {"bills_on_cancel": True},
            },
        ],
    },
    {
        "id": "google/gemini-3.1-flash-image-preview",
        "name": "Google: Gemini 3.1 Flash Image Preview",
        "description": "Gemini 3.1 Flash Image (preview): extended ratios and 0.5K output.",
        "created": 1771000000,
        "architecture": {
            "input_modalities": ["image", "text"],
            "output_modalities": ["image", "text"],
        },
        "context_length": 65536,
        "models_pricing": {
            "prompt": "0.0000005",
            "completion": "0.000003",
            "image": "0.0000005",
            "image_output": "0.00006",
            "discount": 0,
        },
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "png",
            "image_tokens": {"512": 747, "1K": 1120, "2K": 1120, "4K": 2000},
        },
        "endpoints": [
            {
                "provider_name": "Google AI Studio",
                "provider_slug": "google-ai-studio",
                "provider_tag": "google-ai-studio",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": STANDARD_RATIOS + EXTENDED_RATIOS},
                    "resolution": {"type": "enum", "values": ["512", "1K", "2K", "4K"]},
                },
                "allowed_passthrough_parameters": [],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 5e-07},
                    {"billable": "input_image", "unit": "token", "cost_usd": 5e-07},
                    {"billable": "output_image", "unit": "token", "cost_usd": 6e-05},
                ],
                "_emulator": {"bills_on_cancel": True},
            }
        ],
    },
    {
        "id": "openai/gpt-image-1",
        "name": "OpenAI: GPT Image 1",
        "description": "OpenAI's image model: quality tiers, transparency, streaming partials.",
        "created": 1745000000,
        "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image"]},
        "context_length": 32000,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "gpt",
            "image_config_keys": ["aspect_ratio"],
            "chat_format": "png",
            "image_tokens_by_quality": _OPENAI_TOKENS,
            "in_models_list": False,
        },
        "endpoints": [
            {
                "provider_name": "OpenAI",
                "provider_slug": "openai",
                "provider_tag": "openai",
                "supported_parameters": _openai_params(10, 16),
                "allowed_passthrough_parameters": ["moderation", "input_fidelity"],
                "supports_streaming": True,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 5e-06},
                    {"billable": "input_image", "unit": "token", "cost_usd": 1e-05},
                    {"billable": "output_image", "unit": "token", "cost_usd": 4e-05},
                ],
            }
        ],
    },
    {
        "id": "openai/gpt-5-image",
        "name": "OpenAI: GPT-5 Image",
        "description": "GPT-5 with native image output; the server tool's default image model.",
        "created": 1760000000,
        "architecture": {
            "input_modalities": ["image", "text", "file"],
            "output_modalities": ["image", "text"],
        },
        "context_length": 400000,
        "models_pricing": {
            "prompt": "0.00001",
            "completion": "0.00001",
            "image": "0.00001",
            "image_output": "0.00004",
            "web_search": "0.01",
            "input_cache_read": "0.00000125",
            "discount": 0,
        },
        "_emulator": {
            "family": "gpt",
            "image_config_keys": ["aspect_ratio"],
            "chat_format": "png",
            "image_tokens_by_quality": _OPENAI_TOKENS,
        },
        "endpoints": [
            {
                "provider_name": "OpenAI",
                "provider_slug": "openai",
                "provider_tag": "openai",
                "supported_parameters": _openai_params(4, 16),
                "allowed_passthrough_parameters": ["moderation"],
                "supports_streaming": True,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 1e-05},
                    {"billable": "input_image", "unit": "token", "cost_usd": 1e-05},
                    {"billable": "output_image", "unit": "token", "cost_usd": 4e-05},
                ],
            }
        ],
    },
    {
        "id": "openai/gpt-5-image-mini",
        "name": "OpenAI: GPT-5 Image Mini",
        "description": "The cheaper GPT-5 image model.",
        "created": 1760500000,
        "architecture": {
            "input_modalities": ["image", "text", "file"],
            "output_modalities": ["image", "text"],
        },
        "context_length": 400000,
        "models_pricing": {
            "prompt": "0.0000025",
            "completion": "0.000002",
            "image": "0.0000025",
            "image_output": "0.000008",
            "discount": 0,
        },
        "_emulator": {
            "family": "gpt",
            "image_config_keys": ["aspect_ratio"],
            "chat_format": "png",
            "image_tokens_by_quality": _OPENAI_TOKENS,
        },
        "endpoints": [
            {
                "provider_name": "OpenAI",
                "provider_slug": "openai",
                "provider_tag": "openai",
                "supported_parameters": _openai_params(4, 8),
                "allowed_passthrough_parameters": ["moderation"],
                "supports_streaming": True,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 2.5e-06},
                    {"billable": "input_image", "unit": "token", "cost_usd": 2.5e-06},
                    {"billable": "output_image", "unit": "token", "cost_usd": 8e-06},
                ],
            }
        ],
    },
    {
        "id": "black-forest-labs/flux.2-pro",
        "name": "Black Forest Labs: FLUX.2 [pro]",
        "description": "FLUX.2 pro: priced per megapixel, with provider step/guidance options.",
        "created": 1764000000,
        "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image"]},
        "context_length": 46864,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "jpeg",
        },
        "endpoints": [
            {
                "provider_name": "Black Forest Labs",
                "provider_slug": "black-forest-labs",
                "provider_tag": "black-forest-labs",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": FLUX_RATIOS},
                    "resolution": {"type": "enum", "values": ["512", "1K", "2K"]},
                    "seed": {"type": "boolean"},
                    "output_format": {"type": "enum", "values": ["jpeg", "png"]},
                    "input_references": {"type": "range", "min": 0, "max": 8},
                },
                "allowed_passthrough_parameters": [
                    "steps",
                    "guidance",
                    "safety_tolerance",
                    "prompt_upsampling",
                ],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "output_image", "unit": "megapixel", "cost_usd": 0.03},
                    {"billable": "input_reference", "unit": "megapixel", "cost_usd": 0.015},
                ],
                "_emulator": {"default_format": "jpeg"},
            },
            {
                "provider_name": "Together",
                "provider_slug": "together",
                "provider_tag": "together",
                "supported_parameters": {
                    "aspect_ratio": {
                        "type": "enum",
                        "values": ["1:1", "16:9", "9:16", "4:3", "3:4"],
                    },
                    "resolution": {"type": "enum", "values": ["1K"]},
                    "seed": {"type": "boolean"},
                },
                "allowed_passthrough_parameters": ["steps"],
                "supports_streaming": False,
                "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}],
                "_emulator": {"default_format": "jpeg"},
            },
        ],
    },
    {
        "id": "black-forest-labs/flux.2-flex",
        "name": "Black Forest Labs: FLUX.2 [flex]",
        "description": "FLUX.2 flex: tunable steps and guidance, priced per megapixel.",
        "created": 1764000100,
        "architecture": {"input_modalities": ["image", "text"], "output_modalities": ["image"]},
        "context_length": 67344,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "jpeg",
        },
        "endpoints": [
            {
                "provider_name": "Black Forest Labs",
                "provider_slug": "black-forest-labs",
                "provider_tag": "black-forest-labs",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": FLUX_RATIOS},
                    "resolution": {"type": "enum", "values": ["512", "1K", "2K"]},
                    "seed": {"type": "boolean"},
                    "output_format": {"type": "enum", "values": ["jpeg", "png"]},
                    "input_references": {"type": "range", "min": 0, "max": 10},
                },
                "allowed_passthrough_parameters": ["steps", "guidance", "prompt_upsampling"],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "output_image", "unit": "megapixel", "cost_usd": 0.06},
                    {"billable": "input_reference", "unit": "megapixel", "cost_usd": 0.06},
                ],
                "_emulator": {"default_format": "jpeg"},
            }
        ],
    },
    {
        "id": "bytedance-seed/seedream-4.5",
        "name": "ByteDance Seed: Seedream 4.5",
        "description": "A text-to-image model.",
        "created": 1692901234,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
        "context_length": 4096,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "jpeg",
        },
        "endpoints": [
            {
                "provider_name": "Bytedance",
                "provider_slug": "bytedance",
                "provider_tag": "bytedance",
                "supported_parameters": {
                    "resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
                    "seed": {"type": "boolean"},
                    "n": {"type": "range", "min": 1, "max": 10},
                    "input_references": {"type": "range", "min": 0, "max": 10},
                },
                "allowed_passthrough_parameters": ["watermark"],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "output_image", "unit": "image", "cost_usd": 0.04},
                    {
                        "billable": "output_image",
                        "unit": "image",
                        "cost_usd": 0.06,
                        "variant": "4k",
                    },
                ],
                # Seedream answers at most 4 images per call: n is an upper bound.
                "_emulator": {"max_images": 4, "default_format": "jpeg"},
            }
        ],
    },
    {
        "id": "recraft/recraft-v3",
        "name": "Recraft: Recraft V3",
        "description": "Recraft V3: styles, text layout, colour palettes.",
        "created": 1730000000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
        "context_length": 1000,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": [
                "aspect_ratio",
                "strength",
                "style",
                "text_layout",
                "rgb_colors",
                "background_rgb_color",
            ],
            "chat_format": "png",
        },
        "endpoints": [
            {
                "provider_name": "Recraft",
                "provider_slug": "recraft",
                "provider_tag": "recraft",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": RECRAFT_RATIOS},
                    "output_format": {"type": "enum", "values": ["png", "webp"]},
                    "n": {"type": "range", "min": 1, "max": 6},
                },
                "allowed_passthrough_parameters": [
                    "style",
                    "text_layout",
                    "rgb_colors",
                    "background_rgb_color",
                ],
                "supports_streaming": False,
                "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}],
            }
        ],
    },
    {
        "id": "recraft/recraft-v4",
        "name": "Recraft: Recraft V4",
        "description": "Recraft V4 raster: colour palettes, no styles.",
        "created": 1772000000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
        "context_length": 1000,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "strength", "rgb_colors", "background_rgb_color"],
            "chat_format": "png",
        },
        "endpoints": [
            {
                "provider_name": "Recraft",
                "provider_slug": "recraft",
                "provider_tag": "recraft",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": RECRAFT_RATIOS},
                    "output_format": {"type": "enum", "values": ["png", "webp"]},
                },
                "allowed_passthrough_parameters": ["rgb_colors", "background_rgb_color"],
                "supports_streaming": False,
                "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}],
            }
        ],
    },
    {
        "id": "recraft/recraft-v4-vector",
        "name": "Recraft: Recraft V4 Vector",
        "description": "Recraft V4 vector: answers SVG markup (image/svg+xml).",
        "created": 1772000100,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
        "context_length": 1000,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": ["aspect_ratio", "rgb_colors", "background_rgb_color"],
            "chat_format": "svg",
            "vector": True,
        },
        "endpoints": [
            {
                "provider_name": "Recraft",
                "provider_slug": "recraft",
                "provider_tag": "recraft",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": RECRAFT_RATIOS},
                },
                "allowed_passthrough_parameters": ["rgb_colors", "background_rgb_color"],
                "supports_streaming": False,
                "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.08}],
                "_emulator": {"default_format": "svg"},
            }
        ],
    },
    {
        "id": "sourceful/riverflow-v2-fast",
        "name": "Sourceful: Riverflow V2 Fast",
        "description": "Riverflow V2 fast: custom fonts and super-resolution references.",
        "created": 1765000000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
        "context_length": 8192,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            "image_config_keys": [
                "aspect_ratio",
                "image_size",
                "font_inputs",
                "super_resolution_references",
            ],
            "chat_format": "webp",
        },
        "endpoints": [
            {
                "provider_name": "Sourceful",
                "provider_slug": "sourceful",
                "provider_tag": "sourceful",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": SOURCEFUL_RATIOS},
                    "resolution": {"type": "enum", "values": ["1K", "2K"]},
                    "output_format": {"type": "enum", "values": ["webp", "png", "jpeg"]},
                    "input_references": {"type": "range", "min": 0, "max": 1},
                },
                "allowed_passthrough_parameters": ["font_inputs", "super_resolution_references"],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "output_image", "unit": "image", "cost_usd": 0.02},
                    {
                        "billable": "output_image",
                        "unit": "image",
                        "cost_usd": 0.04,
                        "variant": "2k",
                    },
                    {"billable": "input_image", "unit": "image", "cost_usd": 0.005},
                    {"billable": "input_font", "unit": "image", "cost_usd": 0.03},
                    {"billable": "input_reference", "unit": "image", "cost_usd": 0.2},
                ],
                "_emulator": {"default_format": "webp"},
            }
        ],
    },
    {
        "id": "sourceful/riverflow-v2.5-pro",
        "name": "Sourceful: Riverflow V2.5 Pro",
        "description": "Riverflow V2.5 pro: self-scoring, background modes, fonts.",
        "created": 1773000000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image"]},
        "context_length": 8192,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "standard",
            # Fonts and super-resolution are v2 only (the seeds): not offered here.
            "image_config_keys": [
                "aspect_ratio",
                "image_size",
                "scoring_prompt",
                "scoring_rubric",
                "background_mode",
                "background_hex_color",
            ],
            "chat_format": "webp",
        },
        "endpoints": [
            {
                "provider_name": "Sourceful",
                "provider_slug": "sourceful",
                "provider_tag": "sourceful",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": SOURCEFUL_RATIOS},
                    "resolution": {"type": "enum", "values": ["1K", "2K", "4K"]},
                    "output_format": {"type": "enum", "values": ["webp", "png"]},
                    "input_references": {"type": "range", "min": 0, "max": 1},
                },
                "allowed_passthrough_parameters": [
                    "font_inputs",
                    "super_resolution_references",
                    "scoring_prompt",
                    "scoring_rubric",
                    "background_mode",
                    "background_hex_color",
                ],
                "supports_streaming": False,
                "pricing": [
                    {"billable": "input_text", "unit": "token", "cost_usd": 3e-06},
                    {"billable": "output_image", "unit": "image", "cost_usd": 0.15},
                    {"billable": "output_image", "unit": "image", "cost_usd": 0.3, "variant": "4k"},
                    {"billable": "input_image", "unit": "image", "cost_usd": 0.005},
                    {"billable": "input_font", "unit": "image", "cost_usd": 0.03},
                    {"billable": "input_reference", "unit": "image", "cost_usd": 0.2},
                ],
                "_emulator": {"default_format": "webp"},
            }
        ],
    },
    {
        "id": "microsoft/mai-image-2.5",
        "name": "Microsoft: MAI Image 2.5",
        "description": "Microsoft's MAI image model on Azure, with its own ratio table.",
        "created": 1774000000,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
        "context_length": 4096,
        "models_pricing": {"prompt": "0", "completion": "0"},
        "_emulator": {
            "family": "mai",
            "image_config_keys": ["aspect_ratio", "image_size"],
            "chat_format": "png",
        },
        "endpoints": [
            {
                "provider_name": "Azure",
                "provider_slug": "azure",
                "provider_tag": "azure",
                "supported_parameters": {
                    "aspect_ratio": {"type": "enum", "values": MAI_RATIOS},
                    "resolution": {"type": "enum", "values": ["1K"]},
                },
                "allowed_passthrough_parameters": [],
                "supports_streaming": False,
                "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.035}],
            }
        ],
    },
]

TEXT_MODELS: list[dict[str, Any]] = [
    {
        "id": "openai/gpt-4o-mini",
        "name": "OpenAI: GPT-4o-mini",
        "description": "A small, fast text model; can call openrouter:image_generation.",
        "created": 1721260800,
        "architecture": {
            "input_modalities": ["text", "image", "file"],
            "output_modalities": ["text"],
        },
        "context_length": 128000,
        "provider_name": "OpenAI",
        "models_pricing": {
            "prompt": "0.00000015",
            "completion": "0.0000006",
            "input_cache_read": "0.000000075",
            "discount": 0,
        },
    },
    {
        "id": "anthropic/claude-sonnet-4.5",
        "name": "Anthropic: Claude Sonnet 4.5",
        "description": "Anthropic's Sonnet 4.5; can call openrouter:image_generation.",
        "created": 1759161600,
        "architecture": {
            "input_modalities": ["text", "image", "file"],
            "output_modalities": ["text"],
        },
        "context_length": 1000000,
        "provider_name": "Anthropic",
        "models_pricing": {
            "prompt": "0.000003",
            "completion": "0.000015",
            "input_cache_read": "0.0000003",
            "input_cache_write": "0.00000375",
            "web_search": "0.01",
            "discount": 0,
        },
    },
    {
        "id": "google/gemini-2.5-flash",
        "name": "Google: Gemini 2.5 Flash",
        "description": "Gemini 2.5 Flash, text out.",
        "created": 1750172400,
        "architecture": {
            "input_modalities": ["text", "image", "file", "audio"],
            "output_modalities": ["text"],
        },
        "context_length": 1048576,
        "provider_name": "Google AI Studio",
        "models_pricing": {
            "prompt": "0.0000003",
            "completion": "0.0000025",
            "image": "0.0000003",
            "internal_reasoning": "0.0000025",
            "discount": 0,
        },
    },
]

# The server tool's image model when `parameters.model` is not given (seeds).
SERVER_TOOL_DEFAULT_MODEL = "openai/gpt-5-image"
