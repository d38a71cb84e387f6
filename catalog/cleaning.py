"""Submitted option values back to clean request parameters.

``clean_options(endpoint, style, data)`` validates the values with the fields
``catalog.capabilities.option_fields`` builds, then with the OpenRouter
client's own checks, and returns only the parameters that were set; every
refusal names the field and says what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from catalog.capabilities import (
    CHAT,
    IMAGE_CONFIG_PREFIX,
    IMAGES,
    PASSTHROUGH_PREFIX,
    model_of,
    normalize_style,
    option_fields,
)
from catalog.models import Endpoint, ImageModel
from generation.openrouter.errors import RequestInvalid
from generation.openrouter.image_config import (
    image_config_options_for,
    validate_image_config,
)
from generation.openrouter.validation import (
    validate_image_request,
    validate_tool_parameters,
)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _jsonable(value: Any) -> Any:
    """Decimals as JSON numbers, so the parameters can be stored in a JSONField."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def clean_options(
    endpoint: Endpoint | ImageModel,
    style: str,
    data: Mapping[str, Any],
    *,
    input_images: int = 0,
) -> dict[str, Any]:
    """Validate submitted option values; return only the parameters that were set.

    ``data`` maps field names (as ``option_fields`` names them; for chat the
    bare ``image_config`` key is accepted too) to submitted values. Returns the
    request parameters for the style: ``{"n": 2, "resolution": "2K", …}`` (plus
    ``provider_options``) for images, ``{"image_config": {…}}`` for chat, the
    tool's ``parameters`` for the tool styles. ``input_images`` is how many input
    images go with the request (image-to-image-only options need one).

    Raises ``ValidationError({field name: [messages]})`` naming every field at
    fault; faults that belong to no field are under ``NON_FIELD_ERRORS``.
    """
    kind = normalize_style(style)
    fields = option_fields(endpoint, style)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = key
        if kind == CHAT and name not in fields and IMAGE_CONFIG_PREFIX + name in fields:
            name = IMAGE_CONFIG_PREFIX + name
        field = fields.get(name)
        if field is None:
            if not _is_empty(raw):
                errors.setdefault(name, []).append(
                    f"{name} is not an option here; this endpoint accepts: "
                    f"{', '.join(fields) or 'none'}."
                )
            continue
        try:
            value = field.clean(raw)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            continue
        if not _is_empty(value):
            values[name] = value
    # The client's checks run on the values that parsed, so that every field at
    # fault is reported at once, whichever check found it.
    result: dict[str, Any] = {}
    try:
        if kind == IMAGES:
            assert isinstance(endpoint, Endpoint)
            result = _clean_images(endpoint, values, input_images)
        elif kind == CHAT:
            result = _clean_chat(model_of(endpoint), values, input_images)
        else:
            result = _clean_tool(values)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return result


def _collect(
    check: Callable[[dict[str, Any]], None],
    params: dict[str, Any],
    name_of: Callable[[str], tuple[str, str]],
) -> None:
    """Run a client check until it passes, dropping each faulty key, so that every
    field at fault is named rather than only the first."""
    errors: dict[str, list[str]] = {}
    remaining = dict(params)
    for _ in range(len(params) + 1):
        try:
            check(remaining)
        except RequestInvalid as exc:
            name, key = name_of(exc.field)
            errors.setdefault(name, []).append(sentence(exc.message))
            if key in remaining:
                del remaining[key]
                continue
            break
        break
    if errors:
        raise ValidationError(errors)


def sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _clean_images(endpoint: Endpoint, values: dict[str, Any], input_images: int) -> dict[str, Any]:
    params = {k: v for k, v in values.items() if not k.startswith(PASSTHROUGH_PREFIX)}
    passthrough = {
        k.removeprefix(PASSTHROUGH_PREFIX): v
        for k, v in values.items()
        if k.startswith(PASSTHROUGH_PREFIX)
    }
    spec = endpoint.to_spec(with_pricing=False)
    slug = endpoint.provider_slug
    # Placeholders stand in for the reference images: only their number matters here.
    references = ["https://reference.invalid/image.png"] * input_images

    def check(remaining: dict[str, Any]) -> None:
        image_params = {k: v for k, v in remaining.items() if not k.startswith(PASSTHROUGH_PREFIX)}
        options = {
            k.removeprefix(PASSTHROUGH_PREFIX): v
            for k, v in remaining.items()
            if k.startswith(PASSTHROUGH_PREFIX)
        }
        validate_image_request(
            image_params,
            endpoint=spec,
            input_references=references,
            provider_options={slug: options} if options else None,
        )

    def name_of(field: str) -> tuple[str, str]:
        prefix = f"provider.options.{slug}."
        if field.startswith(prefix):
            key = PASSTHROUGH_PREFIX + field[len(prefix) :]
            return key, key
        if field in values:
            return field, field
        return NON_FIELD_ERRORS, field

    _collect(check, dict(values), name_of)
    result: dict[str, Any] = _jsonable(params)
    if passthrough:
        result["provider_options"] = {slug: _jsonable(passthrough)}
    return result


def _clean_chat(model: ImageModel, values: dict[str, Any], input_images: int) -> dict[str, Any]:
    config = {k.removeprefix(IMAGE_CONFIG_PREFIX): v for k, v in values.items()}

    def check(remaining: dict[str, Any]) -> None:
        validate_image_config(model.slug, remaining, has_input_images=input_images > 0)

    def name_of(field: str) -> tuple[str, str]:
        path = field.removeprefix(IMAGE_CONFIG_PREFIX)
        key = path.split("[", 1)[0].split(".", 1)[0]
        if key in config or key in image_config_options_for(model.slug):
            return IMAGE_CONFIG_PREFIX + key, key
        return NON_FIELD_ERRORS, key

    def check_with_paths(remaining: dict[str, Any]) -> None:
        try:
            check(remaining)
        except RequestInvalid as exc:
            # Keep where inside a structured option the fault is: "[0].bbox: …".
            path = exc.field.removeprefix(IMAGE_CONFIG_PREFIX)
            key = path.split("[", 1)[0].split(".", 1)[0]
            where = path[len(key) :].lstrip(".")
            if where:
                raise RequestInvalid(exc.field, f"{where}: {exc.message}") from None
            raise

    _collect(check_with_paths, config, name_of)
    return {"image_config": _jsonable(config)} if config else {}


def _clean_tool(values: dict[str, Any]) -> dict[str, Any]:
    def name_of(field: str) -> tuple[str, str]:
        key = field.removeprefix("parameters.")
        return (key, key) if key in values else (NON_FIELD_ERRORS, key)

    _collect(validate_tool_parameters, dict(values), name_of)
    return _jsonable(values)
