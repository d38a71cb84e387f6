"""The catalog: OpenRouter's image models, their endpoints, prices with history, sync runs.

Rows are written only by ``catalog.sync`` (and read through ``catalog.selectors``).
Nothing is ever deleted: a model or endpoint that disappears upstream gets
``retired_at`` so jobs and pages that refer to it keep working, and a price
that changes closes its row (``valid_until``) and opens a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from generation.openrouter.types import Endpoint as EndpointSpec
    from generation.openrouter.types import PricingLine

# Enough for OpenRouter's smallest per-token prices (7.5e-08 and below) and
# for any plausible per-image price; sync quantizes to these places.
PRICE_MAX_DIGITS = 20
PRICE_DECIMAL_PLACES = 12


class Style(models.TextChoices):
    """The three documented ways to generate, the server tool through two APIs.

    The catalog says which of them a model offers; a job records the one it used."""

    IMAGES = "images", "Image API"
    CHAT = "chat", "Chat Completions"
    TOOL_CHAT = "tool_chat", "Image tool via Chat Completions"
    TOOL_RESPONSES = "tool_responses", "Image tool via Responses API"


class ImageModel(models.Model):
    """An image-output model, as listed by ``/images/models`` and/or ``/models``.

    ``supported_parameters`` is the union over endpoints (JSON descriptors,
    ``{"resolution": {"type": "enum", "values": [...]}}``); the endpoint's own
    map is the one to validate against. ``image_api`` says whether the model is
    served by ``POST /images`` (listed by ``/images/models``); ``chat_api``
    whether it is a chat model with image output (listed by
    ``/models?output_modalities=image``), so Chat Completions can draw with it
    and the image tool can use it as its image model. A model only in
    ``/images/models`` (``openai/gpt-image-1``) has neither chat style.

    ``last_seen`` is when a sync last *wrote* the row (added, changed, or, for a
    retired model, the last run whose listing still had it). An unchanged model
    is not rewritten every night just to move a timestamp (a no-change sync
    writes nothing), so for a current model "last seen" is the latest sync.
    """

    slug = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    input_modalities = models.JSONField(default=list, blank=True)
    output_modalities = models.JSONField(default=list, blank=True)
    supported_parameters = models.JSONField(default=dict, blank=True)
    supports_streaming = models.BooleanField(default=False)
    image_api = models.BooleanField(
        default=True, help_text="Listed by /images/models, so POST /images can serve it."
    )
    chat_api = models.BooleanField(
        default=False,
        help_text="Listed by /models?output_modalities=image, so Chat Completions and the "
        "image tool can use it.",
    )
    created_upstream = models.DateTimeField(null=True, blank=True)
    context_length = models.PositiveIntegerField(null=True, blank=True)
    # Derived from the current prices by the sync (catalog.estimates.headline_price)
    # and stored so the Models page can filter and sort by price in the database.
    headline_price = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES, null=True, blank=True
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug"]
        indexes = [
            # The Models page always filters on retirement, then sorts by name or price.
            models.Index(fields=["retired_at", "name"], name="catalog_model_active_name"),
            models.Index(
                fields=["retired_at", "headline_price"], name="catalog_model_active_price"
            ),
            models.Index(fields=["supports_streaming"], name="catalog_model_streaming"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def author(self) -> str:
        """The part of the slug before ``/`` (``black-forest-labs``): the family to group by."""
        return self.slug.split("/", 1)[0]


class Endpoint(models.Model):
    """One provider serving an image model, with its definitive capabilities.

    ``provider_tag`` is blank when OpenRouter cannot pin the provider.
    """

    model = models.ForeignKey(ImageModel, on_delete=models.PROTECT, related_name="endpoints")
    provider_name = models.CharField(max_length=200)
    provider_slug = models.CharField(max_length=200)
    provider_tag = models.CharField(max_length=200, blank=True)
    supported_parameters = models.JSONField(default=dict, blank=True)
    allowed_passthrough_parameters = models.JSONField(default=list, blank=True)
    supports_streaming = models.BooleanField(default=False)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["provider_name", "provider_slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "provider_slug"], name="catalog_endpoint_unique_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} via {self.provider_name}"

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def current_prices(self) -> list[Price]:
        """The endpoint's open pricing lines; uses ``current_price_list`` when prefetched."""
        prefetched: list[Price] | None = getattr(self, "current_price_list", None)
        if prefetched is not None:
            return prefetched
        return list(self.prices.filter(valid_until__isnull=True).order_by("billable", "variant"))

    def pricing_lines(self) -> list[PricingLine]:
        return [price.as_line() for price in self.current_prices()]

    def to_spec(self, *, with_pricing: bool = True) -> EndpointSpec:
        """The client's ``Endpoint`` for this row, to validate a request before sending it."""
        from generation.openrouter.types import Descriptor
        from generation.openrouter.types import Endpoint as EndpointSpec

        return EndpointSpec(
            provider_name=self.provider_name,
            provider_slug=self.provider_slug,
            provider_tag=self.provider_tag or None,
            supported_parameters={
                key: Descriptor.from_api(value)
                for key, value in (self.supported_parameters or {}).items()
            },
            allowed_passthrough_parameters=tuple(self.allowed_passthrough_parameters or ()),
            supports_streaming=self.supports_streaming,
            pricing=tuple(self.pricing_lines()) if with_pricing else (),
        )


class PriceSource(models.TextChoices):
    ENDPOINT = "endpoint", "Image endpoint"
    MODELS = "models", "/models list"


class Price(models.Model):
    """One price, valid from ``valid_from`` until ``valid_until`` (null: current).

    Endpoint pricing lines (``source=endpoint``): ``billable`` is
    ``output_image``/``input_image``/``input_reference``/``input_font``/
    ``input_text``, ``unit`` is ``image``/``megapixel``/``token``, ``variant``
    is blank or a tier (``2k``, ``4k``). ``/models`` prices (``source=models``,
    no endpoint): ``billable`` is the pricing key (``prompt``, ``completion``,
    ``image``, ``image_output``, …) and ``unit`` what it is charged per.
    """

    model = models.ForeignKey(ImageModel, on_delete=models.PROTECT, related_name="prices")
    endpoint = models.ForeignKey(
        Endpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="prices"
    )
    source = models.CharField(max_length=10, choices=PriceSource.choices)
    billable = models.CharField(max_length=60)
    unit = models.CharField(max_length=30)
    variant = models.CharField(max_length=20, blank=True)
    cost_usd = models.DecimalField(max_digits=PRICE_MAX_DIGITS, decimal_places=PRICE_DECIMAL_PLACES)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valid_from", "billable", "variant"]
        indexes = [
            # Current prices of an endpoint (every estimate), and a model's history.
            models.Index(fields=["endpoint", "valid_until"], name="catalog_price_current"),
            models.Index(fields=["model", "-valid_from"], name="catalog_price_history"),
        ]
        constraints = [
            # At most one open row per line: the sync closes before it opens.
            models.UniqueConstraint(
                fields=["endpoint", "billable", "unit", "variant"],
                condition=Q(valid_until__isnull=True, endpoint__isnull=False),
                name="catalog_price_one_current_endpoint_line",
            ),
            models.UniqueConstraint(
                fields=["model", "billable", "unit"],
                condition=Q(valid_until__isnull=True, endpoint__isnull=True),
                name="catalog_price_one_current_models_line",
            ),
        ]

    def __str__(self) -> str:
        variant = f" ({self.variant})" if self.variant else ""
        return f"{self.billable}{variant}: {self.cost_usd} per {self.unit}"

    @property
    def is_current(self) -> bool:
        return self.valid_until is None

    def as_line(self) -> PricingLine:
        from generation.openrouter.types import PricingLine

        return PricingLine(self.billable, self.unit, self.cost_usd, self.variant or None)


class SyncTrigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly"
    COMMAND = "command", "Command"
    BUTTON = "button", "Sync now button"
    FIRST_RUN = "first-run", "First run"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """One run of the catalog sync.

    Counts are of models: ``added`` (new, or back after retirement),
    ``changed`` (any field, endpoint or price of the model changed),
    ``retired``. ``errors`` is a list of ``{"model": slug or "", "message": …}``.
    At most one run is ``running`` at a time: a partial unique index makes a
    second one fail to insert (see ``catalog.sync``).
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=20, choices=SyncTrigger.choices)
    status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="catalog_syncrun_one_running",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def summary(self) -> str:
        errors = len(self.errors or [])
        return (
            f"{self.added} added, {self.changed} changed, {self.retired} retired, "
            f"{errors} error{'s' if errors != 1 else ''}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "added": self.added,
            "changed": self.changed,
            "retired": self.retired,
            "errors": list(self.errors or []),
        }
