"""The OpenAPI 3.1 description of /api/v1/ (served at /api/v1/openapi.json).

Written by hand, next to the views it describes; tests/api/test_schema.py
checks that it is a valid OpenAPI document, that every route is documented
and that every documented path resolves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from generation.models import Status, Style

JOB_ID = {
    "name": "job_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
MONEY = {
    "type": "string",
    "pattern": r"^\d+\.\d{4,}$",
    "description": "US dollars as a decimal string (at least 4 decimals, never a float).",
    "examples": ["0.0400"],
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "enum": [
                            "invalid_request",
                            "unauthorized",
                            "csrf_failed",
                            "forbidden",
                            "not_found",
                            "method_not_allowed",
                            "conflict",
                            "payload_too_large",
                            "internal",
                        ],
                    },
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages per request field, by its API name; "
                        "a model option is named `options.<name>`.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
        "examples": [
            {
                "error": {
                    "code": "invalid_request",
                    "message": "Some fields are invalid.",
                    "fields": {"options.aspect_ratio": ["Select a valid choice."]},
                }
            }
        ],
    },
    "JobCreate": {
        "type": "object",
        "required": ["prompt", "model"],
        "additionalProperties": False,
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 4000},
            "model": {
                "type": "string",
                "description": "An image model's slug from the catalog (the Models page).",
                "examples": ["google/gemini-2.5-flash-image"],
            },
            "style": {
                "type": "string",
                "enum": list(Style.values),
                "default": Style.IMAGES.value,
                "description": "images: the Image API; chat: Chat Completions; tool_chat / "
                "tool_responses: a text model calling the image tool.",
            },
            "options": {
                "type": "object",
                "description": "The model's options for this style, by the names its model "
                "page and the Generate form use (e.g. `aspect_ratio`, `n`, "
                "`image_config.aspect_ratio`). Unknown names are refused.",
                "additionalProperties": {
                    "type": ["string", "number", "boolean", "array", "object", "null"]
                },
            },
            "reference_urls": {
                "type": "array",
                "items": {"type": "string", "format": "uri"},
                "description": "Reference images for image-to-image (http or https).",
            },
            "private": {"type": "boolean", "default": False},
            "compare": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": 6,
                "description": "More model slugs to send the same prompt to (their default "
                "options), as one batch.",
            },
        },
    },
    "Image": {
        "type": "object",
        "required": ["id", "url", "thumbnail_url", "download_url", "media_type"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "index": {"type": "integer", "minimum": 0},
            "url": {
                "type": "string",
                "format": "uri",
                "description": "The original; send the same Authorization header.",
            },
            "thumbnail_url": {"type": "string", "format": "uri"},
            "download_url": {"type": "string", "format": "uri"},
            "media_type": {"type": "string", "examples": ["image/png", "image/svg+xml"]},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "bytes": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "status", "model", "style", "prompt", "cost", "images", "links"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": list(Status.values)},
            "stage": {"type": "string", "description": "What is happening, in words."},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "model": {"type": "string"},
            "style": {"type": "string", "enum": list(Style.values)},
            "prompt": {"type": "string"},
            "options": {"type": "object", "description": "The validated parameters sent."},
            "n": {"type": "integer", "minimum": 1},
            "private": {"type": "boolean"},
            "author": {"type": "string"},
            "batch": {
                "type": ["object", "null"],
                "description": "The compare batch this job belongs to.",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "jobs": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                },
            },
            "retry_of": {"type": ["string", "null"], "format": "uuid"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": NULLABLE_TIME,
            "finished_at": NULLABLE_TIME,
            "error": {
                "type": ["object", "null"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
            "cost": {
                "type": "object",
                "required": ["estimated", "actual", "currency"],
                "properties": {
                    "estimated": MONEY,
                    "actual": {
                        **MONEY,
                        "type": ["string", "null"],
                        "description": "What OpenRouter charged; null until known.",
                    },
                    "currency": {"const": "USD"},
                },
            },
            "provider": {"type": ["string", "null"]},
            "upstream_id": {"type": ["string", "null"]},
            "upstream_seconds": {"type": ["number", "null"]},
            "usage": {"type": ["object", "null"]},
            "text": {"type": ["string", "null"], "description": "Text the model answered."},
            "images": {"type": "array", "items": _ref("Image")},
            "links": {
                "type": "object",
                "properties": {
                    "self": {"type": "string", "format": "uri"},
                    "page": {"type": "string", "format": "uri"},
                    "cancel": {"type": "string", "format": "uri"},
                },
            },
        },
    },
    "JobList": {
        "type": "object",
        "required": ["jobs", "next"],
        "properties": {
            "jobs": {"type": "array", "items": _ref("Job")},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The next (older) page, or null at the end.",
            },
        },
    },
}

UNAUTHORIZED = _error("No valid token or session.")


def schema(server_url: str = "/api/v1") -> dict[str, Any]:
    """The schema, with ``server_url`` (the API's base, no trailing slash) as its server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Darkroom API",
            "version": "1.0.0",
            "description": (
                "Generate images through Darkroom. Authenticate with a personal API token "
                "(create one on your profile page) as `Authorization: Bearer drk_…`, or with "
                "a logged-in session (then writes need the `X-CSRFToken` header). Image URLs "
                "take the same token. Every error is JSON: "
                '`{"error": {"code", "message", "fields"?}}`.'
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"token": []}, {"session": []}],
        "paths": {
            "/": {
                "get": {
                    "operationId": "index",
                    "summary": "Links to the schema and the jobs (HTML documentation for browsers)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "JSON index, or the documentation page when "
                            "the client asks for text/html.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "version": {"type": "string"},
                                            "links": {"type": "object"},
                                        },
                                    }
                                },
                                "text/html": {"schema": {"type": "string"}},
                            },
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This schema",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
            "/jobs": {
                "get": {
                    "operationId": "listJobs",
                    "summary": "My jobs, newest first",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 100,
                                "default": 20,
                            },
                        },
                        {
                            "name": "before",
                            "in": "query",
                            "description": "Only jobs older than this job (an id of one of "
                            "your jobs) or this time (ISO 8601). `next` sets it for you.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(Status.values)},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("JobList"), "A page of jobs."),
                        "400": _error("A bad limit, before or status."),
                        "401": UNAUTHORIZED,
                    },
                },
                "post": {
                    "operationId": "createJob",
                    "summary": "Queue a generation (several with `compare`)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("JobCreate")}},
                    },
                    "responses": {
                        "201": {
                            **_json(
                                _ref("Job"),
                                "Queued. With `compare`, the first model's job; `batch` lists "
                                "them all.",
                            ),
                            "headers": {
                                "Location": {
                                    "description": "The job's URL.",
                                    "schema": {"type": "string", "format": "uri"},
                                }
                            },
                        },
                        "400": _error("Invalid JSON, a wrong type or an invalid field."),
                        "401": UNAUTHORIZED,
                        "402": _error(
                            "The estimate does not fit your or the team's monthly budget; "
                            "the message says how much is left."
                        ),
                        "403": _error("A session request without its CSRF token."),
                        "413": _error("The body is too large."),
                    },
                },
            },
            "/jobs/{job_id}": {
                "parameters": [JOB_ID],
                "get": {
                    "operationId": "getJob",
                    "summary": "A job: status, progress, images, cost",
                    "responses": {
                        "200": _json(_ref("Job"), "The job."),
                        "401": UNAUTHORIZED,
                        "404": _error("No such job, or a private job of someone else."),
                    },
                },
            },
            "/jobs/{job_id}/cancel": {
                "parameters": [JOB_ID],
                "post": {
                    "operationId": "cancelJob",
                    "summary": "Cancel a queued or running job",
                    "description": "A call already sent to OpenRouter may still be charged; "
                    "its cost is recorded and its images are discarded.",
                    "responses": {
                        "200": _json(_ref("Job"), "Canceled."),
                        "401": UNAUTHORIZED,
                        "403": _error("Not the author or staff (or no CSRF token)."),
                        "404": _error("No such job."),
                        "409": _error("The job has already ended."),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token, `drk_…`, from the profile page.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                },
            },
            "schemas": SCHEMAS,
        },
    }
