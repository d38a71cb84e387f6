"""Typed, immutable views of OpenRouter payloads.

Every ``from_api`` reads through the tolerant helpers in ``_coerce``: unknown
keys are ignored, a missing optional field becomes ``None``, and an entry that
lacks what identifies it (an id, a provider slug, a price) makes ``from_api``
return ``None`` so list parsers can skip it. Discovery types keep the payload
they came from in ``raw`` so the catalog can store it and rebuild the type
later with ``from_api(raw)``. Money is always ``Decimal``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generation.openrouter import _coerce

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A capability descriptor from ``supported_parameters``.

    ``type`` is ``"enum"`` (``values`` lists the accepted strings), ``"range"``
    (any integer in ``[min, max]``; for ``input_references`` ``max`` is the
    largest number of references) or ``"boolean"`` (supported, any value of
    the parameter's own type). Other types are kept, not interpreted.
    """

    type: str
    values: tuple[str, ...] = ()
    min: int | float | None = None
    max: int | float | None = None

    @classmethod
    def from_api(cls, raw: object) -> Descriptor:
        data = _coerce.as_dict(raw)
        kind = _coerce.as_str(data.get("type")) or "boolean"
        # Enum values are documented as strings; a number (``512``) is kept as
        # its string form so ``"512"`` and ``512`` compare equal.
        values = tuple(
            str(value)
            for value in _coerce.as_list(data.get("values"))
            if isinstance(value, (str, int, Decimal, float)) and not isinstance(value, bool)
        )
        return cls(
            type=kind,
            values=values,
            min=_coerce.as_number(data.get("min")),
            max=_coerce.as_number(data.get("max")),
        )

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        if self.type == "enum":
            data["values"] = list(self.values)
        if self.min is not None:
            data["min"] = self.min
        if self.max is not None:
            data["max"] = self.max
        return data


def _descriptors(raw: object) -> dict[str, Descriptor]:
    return {
        str(key): Descriptor.from_api(value)
        for key, value in _coerce.as_dict(raw).items()
        if isinstance(value, dict)
    }


@dataclass(frozen=True, slots=True)
class ImageModel:
    """One entry of ``GET /images/models``.

    ``supported_parameters`` is the union over the model's endpoints; use an
    ``Endpoint``'s map to validate a request. ``created`` may be ``0``.
    """

    id: str
    name: str
    description: str
    created: int | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    supported_parameters: dict[str, Descriptor]
    supports_streaming: bool
    endpoints_url: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object) -> ImageModel | None:
        data = _coerce.as_dict(raw)
        model_id = _coerce.as_str(data.get("id"))
        if not model_id:
            return None
        architecture = _coerce.as_dict(data.get("architecture"))
        return cls(
            id=model_id,
            name=_coerce.as_str(data.get("name")) or model_id,
            description=_coerce.as_str(data.get("description")) or "",
            created=_coerce.as_int(data.get("created")),
            input_modalities=_coerce.as_str_tuple(architecture.get("input_modalities")),
            output_modalities=_coerce.as_str_tuple(architecture.get("output_modalities")),
            supported_parameters=_descriptors(data.get("supported_parameters")),
            supports_streaming=_coerce.as_bool(data.get("supports_streaming")),
            endpoints_url=_coerce.as_str(data.get("endpoints")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class PricingLine:
    """One billable line of an image endpoint: ``cost_usd`` per ``unit``
    (``image``, ``megapixel``, ``token``) of ``billable`` (``output_image``,
    ``input_image``, ``input_reference``, ``input_font``, ``input_text``),
    optionally only for a ``variant`` tier (``2k``, ``4k``)."""

    billable: str
    unit: str
    cost_usd: Decimal
    variant: str | None = None

    @classmethod
    def from_api(cls, raw: object) -> PricingLine | None:
        data = _coerce.as_dict(raw)
        billable = _coerce.as_str(data.get("billable"))
        unit = _coerce.as_str(data.get("unit"))
        cost = _coerce.as_decimal(data.get("cost_usd"))
        if not billable or not unit or cost is None:
            return None
        return cls(billable, unit, cost, _coerce.as_str(data.get("variant")))

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "billable": self.billable,
            "unit": self.unit,
            "cost_usd": str(self.cost_usd),
        }
        if self.variant is not None:
            data["variant"] = self.variant
        return data


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One provider serving an image model: the definitive capabilities.

    ``provider_slug`` keys ``provider.options``; ``provider_tag`` pins routing
    and is ``None`` when the provider cannot be pinned.
    """

    provider_name: str
    provider_slug: str
    provider_tag: str | None
    supported_parameters: dict[str, Descriptor]
    allowed_passthrough_parameters: tuple[str, ...]
    supports_streaming: bool
    pricing: tuple[PricingLine, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object) -> Endpoint | None:
        data = _coerce.as_dict(raw)
        slug = _coerce.as_str(data.get("provider_slug"))
        if not slug:
            return None
        pricing = []
        for item in _coerce.as_list(data.get("pricing")):
            line = PricingLine.from_api(item)
            if line is None:
                # A dropped line would make estimates too low: say so.
                logger.warning("Skipping unreadable pricing line for %s: %r", slug, item)
            else:
                pricing.append(line)
        return cls(
            provider_name=_coerce.as_str(data.get("provider_name")) or slug,
            provider_slug=slug,
            provider_tag=_coerce.as_str(data.get("provider_tag")),
            supported_parameters=_descriptors(data.get("supported_parameters")),
            allowed_passthrough_parameters=_coerce.as_str_tuple(
                data.get("allowed_passthrough_parameters")
            ),
            supports_streaming=_coerce.as_bool(data.get("supports_streaming")),
            pricing=tuple(pricing),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of ``GET /models``.

    ``pricing`` holds only the keys OpenRouter sent (USD per unit, e.g.
    ``prompt``, ``completion``, ``image`` = per *input* image); pure image
    models show ``prompt``/``completion`` of ``0`` and price on their image
    endpoints instead. ``discount`` is kept apart: it is not a price.
    """

    id: str
    name: str
    description: str
    created: int | None
    context_length: int | None
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    pricing: dict[str, Decimal]
    discount: Decimal | None
    canonical_slug: str | None
    supported_parameters: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object) -> ModelInfo | None:
        data = _coerce.as_dict(raw)
        model_id = _coerce.as_str(data.get("id"))
        if not model_id:
            return None
        architecture = _coerce.as_dict(data.get("architecture"))
        pricing: dict[str, Decimal] = {}
        discount = None
        for key, value in _coerce.as_dict(data.get("pricing")).items():
            amount = _coerce.as_decimal(value)
            if amount is None:
                continue
            if key == "discount":
                discount = amount
            else:
                pricing[str(key)] = amount
        return cls(
            id=model_id,
            name=_coerce.as_str(data.get("name")) or model_id,
            description=_coerce.as_str(data.get("description")) or "",
            created=_coerce.as_int(data.get("created")),
            context_length=_coerce.as_int(data.get("context_length")),
            input_modalities=_coerce.as_str_tuple(architecture.get("input_modalities")),
            output_modalities=_coerce.as_str_tuple(architecture.get("output_modalities")),
            pricing=pricing,
            discount=discount,
            canonical_slug=_coerce.as_str(data.get("canonical_slug")),
            supported_parameters=_coerce.as_str_tuple(data.get("supported_parameters")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """Decoded image bytes and their media type (``image/png``, ``image/svg+xml``…).

    The bytes are what the provider sent, unverified: decode them with a
    pixel cap before trusting them.
    """

    data: bytes = field(repr=False)
    media_type: str

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"GeneratedImage(media_type={self.media_type!r}, size={self.size})"


@dataclass(frozen=True, slots=True)
class PartialImage:
    """A preview render delivered while streaming, in arrival order (``index``)."""

    index: int
    data: bytes = field(repr=False)
    media_type: str

    def __repr__(self) -> str:
        return (
            f"PartialImage(index={self.index}, media_type={self.media_type!r}, "
            f"size={len(self.data)})"
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and the real charge (``cost``, USD) of one call.

    Accepts both the chat shape (``prompt_tokens``/``completion_tokens``) and
    the Responses shape (``input_tokens``/``output_tokens``).
    """

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cost: Decimal | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object) -> Usage | None:
        data = _coerce.as_dict(raw)
        if not data:
            return None
        prompt = _coerce.as_int(data.get("prompt_tokens"))
        completion = _coerce.as_int(data.get("completion_tokens"))
        return cls(
            prompt_tokens=prompt
            if prompt is not None
            else _coerce.as_int(data.get("input_tokens")),
            completion_tokens=(
                completion if completion is not None else _coerce.as_int(data.get("output_tokens"))
            ),
            total_tokens=_coerce.as_int(data.get("total_tokens")),
            cost=_coerce.as_decimal(data.get("cost")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """The outcome of a successful generation call.

    ``images`` holds at least one image. ``cost`` is ``usage.cost``, the real
    charge in USD, when OpenRouter reported it. ``generation_id`` is ``None``
    for ``POST /images``, whose body carries no id.
    """

    images: list[GeneratedImage]
    text: str = ""
    generation_id: str | None = None
    provider: str | None = None
    model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)
    native_finish_reasons: list[str] = field(default_factory=list)
    usage: Usage | None = None
    cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """``GET /generation?id=…``: the final accounting of one chat generation."""

    id: str
    total_cost: Decimal | None
    model: str | None
    provider_name: str | None
    created_at: str | None
    tokens_prompt: int | None
    tokens_completion: int | None
    native_tokens_prompt: int | None
    native_tokens_completion: int | None
    native_tokens_reasoning: int | None
    num_media_completion: int | None
    finish_reason: str | None
    native_finish_reason: str | None
    generation_time_ms: int | None
    latency_ms: int | None
    cancelled: bool | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object, *, fallback_id: str = "") -> GenerationStats:
        data = _coerce.as_dict(raw)
        cancelled = data.get("cancelled")
        return cls(
            id=_coerce.as_str(data.get("id")) or fallback_id,
            total_cost=_coerce.as_decimal(data.get("total_cost")),
            model=_coerce.as_str(data.get("model")),
            provider_name=_coerce.as_str(data.get("provider_name")),
            created_at=_coerce.as_str(data.get("created_at")),
            tokens_prompt=_coerce.as_int(data.get("tokens_prompt")),
            tokens_completion=_coerce.as_int(data.get("tokens_completion")),
            native_tokens_prompt=_coerce.as_int(data.get("native_tokens_prompt")),
            native_tokens_completion=_coerce.as_int(data.get("native_tokens_completion")),
            native_tokens_reasoning=_coerce.as_int(data.get("native_tokens_reasoning")),
            num_media_completion=_coerce.as_int(data.get("num_media_completion")),
            finish_reason=_coerce.as_str(data.get("finish_reason")),
            native_finish_reason=_coerce.as_str(data.get("native_finish_reason")),
            generation_time_ms=_coerce.as_int(data.get("generation_time")),
            latency_ms=_coerce.as_int(data.get("latency")),
            cancelled=cancelled if isinstance(cancelled, bool) else None,
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """``GET /key``: the key's spend so far and its limit (``None`` = unlimited)."""

    label: str
    usage: Decimal
    limit: Decimal | None
    limit_remaining: Decimal | None
    is_free_tier: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: object) -> KeyInfo:
        data = _coerce.as_dict(raw)
        return cls(
            label=_coerce.as_str(data.get("label")) or "",
            usage=_coerce.as_decimal(data.get("usage")) or Decimal(0),
            limit=_coerce.as_decimal(data.get("limit")),
            limit_remaining=_coerce.as_decimal(data.get("limit_remaining")),
            is_free_tier=_coerce.as_bool(data.get("is_free_tier")),
            raw=data,
        )
