"""The API's request and response bodies; the OpenAPI document is generated
from them. Requests are checked for types here and validated by the Generate
page's own form (``generation.api.jobs``); answers are checked against these
models on the way out, so the document cannot drift from what is sent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from generation.api.errors import CODES
from generation.forms import MAX_COMPARE
from generation.models import Status, Style

MAX_BATCH = 50
MONEY_PATTERN = r"^\d+\.\d{4,}$"
Money = Annotated[
    str,
    Field(
        pattern=MONEY_PATTERN,
        description="US dollars as a decimal string (at least 4 decimals, never a float).",
        examples=["0.0400"],
    ),
]
Uri = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Uuid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
OptionValue = str | int | float | bool | list[Any] | dict[str, Any] | None


def _single_line(urls: list[str]) -> list[str]:
    if any("\n" in url or "\r" in url for url in urls):
        raise PydanticCustomError("line_break", "A URL cannot contain a line break.")
    return urls


class JobCreate(Schema):
    """What to generate. Types are checked here; the values (model, options,
    URLs, budget) by the Generate form, with messages under these names."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(json_schema_extra={"minLength": 1, "maxLength": 4000})
    model: str = Field(
        description="An image model's slug from the catalog (the Models page).",
        examples=["google/gemini-2.5-flash-image"],
    )
    style: Style = Field(
        Style.IMAGES,
        description="images: the Image API; chat: Chat Completions; tool_chat / "
        "tool_responses: a text model calling the image tool.",
    )
    options: dict[str, OptionValue] | None = Field(
        None,
        description="The model's options for this style, by the names its model page and "
        "the Generate form use (e.g. `aspect_ratio`, `n`, `image_config.aspect_ratio`). "
        "Unknown names are refused; null means the model's default.",
    )
    reference_urls: Annotated[list[Uri], AfterValidator(_single_line)] | None = Field(
        None, description="Reference images for image-to-image (http or https)."
    )
    private: StrictBool = False
    compare: list[str] | None = Field(
        None,
        json_schema_extra={"maxItems": MAX_COMPARE},
        description="More model slugs to send the same prompt to (their default options), "
        "as one batch.",
    )


JOB_FIELDS = tuple(JobCreate.model_fields)


class BatchIn(Schema):
    """Several jobs, validated together and created together or not at all."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[JobCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ErrorDetail(Schema):
    code: Literal[CODES]  # type: ignore[valid-type]
    message: str
    fields: dict[str, list[str]] | None = Field(
        None,
        description="Messages per request field, by its API name; a model option is named "
        "`options.<name>`, a job of a batch `jobs[<index>].<name>`.",
    )


class Error(Schema):
    """Every error the API answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "invalid_request",
                        "message": "Some fields are invalid.",
                        "fields": {"options.aspect_ratio": ["Select a valid choice."]},
                    }
                }
            ]
        }
    )

    error: ErrorDetail


class Image(Schema):
    id: Uuid
    index: int = Field(ge=0)
    url: Uri = Field(description="The original; send the same Authorization header.")
    thumbnail_url: Uri
    download_url: Uri
    media_type: str = Field(examples=["image/png", "image/svg+xml"])
    width: int | None
    height: int | None
    bytes: int
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class BatchOut(Schema):
    id: Uuid
    jobs: list[Uuid]


class JobError(Schema):
    code: str
    message: str


class Cost(Schema):
    estimated: Money
    actual: Money | None = Field(description="What OpenRouter charged; null until known.")
    currency: Literal["USD"]


class Links(Schema):
    self_: Uri = Field(alias="self")
    page: Uri
    cancel: Uri


class Job(Schema):
    id: Uuid
    status: Status
    stage: str = Field(description="What is happening, in words.")
    progress: int = Field(ge=0, le=100)
    model: str
    style: Style
    prompt: str
    options: dict[str, Any] = Field(description="The validated parameters sent.")
    n: int = Field(ge=1)
    private: bool
    author: str
    batch: BatchOut | None = Field(description="The compare batch this job belongs to.")
    retry_of: Uuid | None
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    error: JobError | None
    cost: Cost
    provider: str | None
    upstream_id: str | None
    upstream_seconds: float | None
    usage: dict[str, Any] | None
    text: str | None = Field(description="Text the model answered.")
    images: list[Image]
    links: Links


class JobList(Schema):
    jobs: list[Job]
    next: Uri | None = Field(description="The next (older) page, or null at the end.")


class CreatedJobs(Schema):
    jobs: list[Job] = Field(description="The jobs created, in the order asked for.")


class Index(Schema):
    name: str
    version: str
    links: dict[str, Uri]
