"""The live catalog: lookups, discovery documents, and runtime patches.

Holds deep copies of ``catalog_data`` so tests can change prices or remove
models through ``POST /api/v1/__emulator__/catalog`` without touching the
module. Every method returns fresh, public (``_``-free) copies.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from . import catalog_data
from .errors import ApiError

IMAGE_ONLY_CHAT_PARAMETERS = ["max_tokens", "seed", "modalities", "image_config"]
IMAGE_TEXT_CHAT_PARAMETERS = [
    "max_tokens",
    "temperature",
    "top_p",
    "seed",
    "stop",
    "response_format",
    "structured_outputs",
    "modalities",
    "image_config",
]
TEXT_CHAT_PARAMETERS = [
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "structured_outputs",
]


def public(value: Any) -> Any:
    """``value`` without the emulator's private ``_`` keys, deep-copied."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def union_parameters(endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The model-level ``supported_parameters``: the union of the endpoints' descriptors."""
    merged: dict[str, Any] = {}
    for endpoint in endpoints:
        for key, descriptor in endpoint.get("supported_parameters", {}).items():
            current = merged.get(key)
            if current is None:
                merged[key] = copy.deepcopy(descriptor)
            elif current.get("type") == "enum" and descriptor.get("type") == "enum":
                current["values"] += [v for v in descriptor["values"] if v not in current["values"]]
            elif current.get("type") == "range" and descriptor.get("type") == "range":
                current["min"] = min(current["min"], descriptor["min"])
                current["max"] = max(current["max"], descriptor["max"])
    return merged


def _deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class Catalog:
    """Thread-safe live catalog (image models and text models)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._image = copy.deepcopy(catalog_data.IMAGE_MODELS)
            self._text = copy.deepcopy(catalog_data.TEXT_MODELS)

    # lookups (private copies, with the emulator's knobs)

    def image_model(self, model_id: str) -> dict[str, Any] | None:
        with self._lock:
            for model in self._image:
                if model["id"] == model_id:
                    return copy.deepcopy(model)
        return None

    def text_model(self, model_id: str) -> dict[str, Any] | None:
        with self._lock:
            for model in self._text:
                if model["id"] == model_id:
                    return copy.deepcopy(model)
        return None

    def raw(self) -> dict[str, Any]:
        with self._lock:
            return {
                "image_models": copy.deepcopy(self._image),
                "text_models": copy.deepcopy(self._text),
            }

    # discovery documents

    def images_models(self) -> dict[str, Any]:
        with self._lock:
            models = copy.deepcopy(self._image)
        data = []
        for model in models:
            endpoints = model.get("endpoints", [])
            data.append(
                {
                    "id": model["id"],
                    "name": model.get("name", model["id"]),
                    "description": model.get("description", ""),
                    "created": model.get("created", 0),
                    "architecture": public(model.get("architecture", {})),
                    "supported_parameters": public(union_parameters(endpoints)),
                    "supports_streaming": any(e.get("supports_streaming") for e in endpoints),
                    "endpoints": f"/api/v1/images/models/{model['id']}/endpoints",
                }
            )
        return {"data": data}

    def endpoints_document(self, model_id: str) -> dict[str, Any]:
        model = self.image_model(model_id)
        if model is None:
            raise ApiError(404, f"Model {model_id} not found")
        return {"id": model["id"], "endpoints": public(model.get("endpoints", []))}

    def models_list(self, modalities: set[str]) -> list[dict[str, Any]]:
        """``/models`` entries whose output modalities meet ``modalities`` (``all`` = every one)."""
        with self._lock:
            models = copy.deepcopy(self._text) + copy.deepcopy(self._image)
        entries = []
        for model in models:
            if not in_models_list(model):
                continue
            outputs = set(model.get("architecture", {}).get("output_modalities", []))
            if "all" in modalities or outputs & modalities:
                entries.append(_models_entry(model))
        entries.sort(key=lambda e: (-int(e["created"]), e["id"]))
        return entries

    # runtime patches

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply a control-API patch; see the package docstring for the accepted keys."""
        with self._lock:
            if "replace" in body:
                replacement = body["replace"]
                self._image = copy.deepcopy(replacement.get("image_models", []))
                self._text = copy.deepcopy(replacement.get("text_models", []))
            for model in body.get("add", []):
                target = self._text if "endpoints" not in model else self._image
                target[:] = [m for m in target if m["id"] != model["id"]] + [copy.deepcopy(model)]
            removed = set(body.get("remove", []))
            self._image = [m for m in self._image if m["id"] not in removed]
            self._text = [m for m in self._text if m["id"] not in removed]
            for model_id, patch in body.get("patch", {}).items():
                model = self._find_locked(model_id)
                _deep_merge(model, patch)
            for model_id, by_slug in body.get("endpoint_patch", {}).items():
                model = self._find_locked(model_id)
                for slug, patch in by_slug.items():
                    endpoint = next(
                        (e for e in model.get("endpoints", []) if e.get("provider_slug") == slug),
                        None,
                    )
                    if endpoint is None:
                        raise ApiError(400, f"{model_id} has no endpoint {slug}")
                    _deep_merge(endpoint, patch)
            for price in body.get("set_price", []):
                self._set_price_locked(price)
            return {"image_models": len(self._image), "text_models": len(self._text)}

    def _find_locked(self, model_id: str) -> dict[str, Any]:
        for model in self._image + self._text:
            if model["id"] == model_id:
                return model
        raise ApiError(400, f"No model {model_id} in the emulator catalog")

    def _set_price_locked(self, price: dict[str, Any]) -> None:
        model = self._find_locked(str(price.get("model")))
        slug = price.get("provider_slug")
        billable, variant = price.get("billable", "output_image"), price.get("variant")
        found = False
        for endpoint in model.get("endpoints", []):
            if slug and endpoint.get("provider_slug") != slug:
                continue
            for line in endpoint.get("pricing", []):
                if line.get("billable") == billable and line.get("variant") == variant:
                    line["cost_usd"] = price["cost_usd"]
                    if "unit" in price:
                        line["unit"] = price["unit"]
                    found = True
        if not found:
            raise ApiError(400, f"No {billable} price line (variant {variant}) on {model['id']}")


def in_models_list(model: dict[str, Any]) -> bool:
    """Whether ``/models`` lists the model (and so Chat Completions serves it)."""
    return bool(model.get("_emulator", {}).get("in_models_list", True))


def _models_entry(model: dict[str, Any]) -> dict[str, Any]:
    architecture = model.get("architecture", {})
    inputs = list(architecture.get("input_modalities", ["text"]))
    outputs = list(architecture.get("output_modalities", ["text"]))
    if "endpoints" in model:
        parameters = IMAGE_TEXT_CHAT_PARAMETERS if "text" in outputs else IMAGE_ONLY_CHAT_PARAMETERS
        provider = model["endpoints"][0]["provider_name"] if model["endpoints"] else ""
    else:
        parameters = TEXT_CHAT_PARAMETERS
        provider = model.get("provider_name", "")
    context = int(model.get("context_length", 4096))
    return {
        "id": model["id"],
        "canonical_slug": model.get("canonical_slug", model["id"]),
        "hugging_face_id": "",
        "name": model.get("name", model["id"]),
        "created": model.get("created", 0),
        "description": model.get("description", ""),
        "context_length": context,
        "architecture": {
            "modality": f"{'+'.join(sorted(inputs, key=_modality_order))}->"
            f"{'+'.join(sorted(outputs, key=_modality_order))}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": model["id"].split("/")[0].capitalize(),
            "instruct_type": None,
        },
        "pricing": copy.deepcopy(model.get("models_pricing", {"prompt": "0", "completion": "0"})),
        "top_provider": {
            "context_length": context,
            "max_completion_tokens": min(context, 32768),
            "is_moderated": provider == "OpenAI",
        },
        "per_request_limits": None,
        "supported_parameters": list(parameters),
        "default_parameters": {},
    }


def _modality_order(name: str) -> int:
    return (
        ["text", "image", "file", "audio"].index(name)
        if name in ("text", "image", "file", "audio")
        else 9
    )
