"""Generation jobs and the images they produce.

A job is a row with an explicit status; every change of status goes through
``generation.services`` (a conditional UPDATE that checks the current state),
never through ``save()`` from a view or a task.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from catalog.models import Style


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    STREAMING = "streaming", "Streaming"
    STORING = "storing", "Storing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.STREAMING, Status.STORING)
FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

MONEY_DIGITS, MONEY_PLACES = 14, 8
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


class Batch(models.Model):
    """One prompt sent to several models at once ("Compare")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    prompt = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"Compare {self.created_at:%Y-%m-%d %H:%M} by {self.author}"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    remix_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="remixes"
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # The catalog keeps retired models, so this never dangles; the slug is kept
    # as well so history reads the same whatever the catalog later says.
    model = models.ForeignKey("catalog.ImageModel", on_delete=models.PROTECT, related_name="jobs")
    model_slug = models.CharField(max_length=200)
    endpoint = models.ForeignKey(
        "catalog.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    style = models.CharField(max_length=20, choices=Style.choices)
    prompt = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    n = models.PositiveSmallIntegerField(default=1)
    # [{"kind": "upload", "key": "refs/…", "media_type": "image/png"} | {"kind": "url", "url": …}]
    references = models.JSONField(default=list, blank=True)
    is_private = models.BooleanField(default=False)

    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=200, blank=True, default="Waiting for a worker")
    progress = models.PositiveSmallIntegerField(default=0)
    previews = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)

    upstream_id = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=200, blank=True)
    estimated_cost = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0)
    )
    actual_cost = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    # What the job may still cost: its estimate, held against the budgets from
    # submit until the real charge is known (then 0). Spend = actual + reserved.
    reserved_cost = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0)
    )
    # The final cost OpenRouter reports later (GET /generation) for chat
    # generations, when reconciliation has confirmed it.
    confirmed_cost = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True
    )
    cost_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when a staff member recorded the charge by hand (an Image API job whose
    # answer was lost: OpenRouter gives it no generation id to confirm it with).
    cost_settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="settled_jobs",
    )
    # Usage as OpenRouter reported it; its numbers arrive as Decimal, stored as strings.
    usage = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    text = models.TextField(blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    transient_failures = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Set, once, just before the OpenRouter call: from then on the job may have
    # been charged, and no redelivery or retry may call OpenRouter for it again.
    upstream_started_at = models.DateTimeField(null=True, blank=True)
    upstream_seconds = models.FloatField(null=True, blank=True)
    # Touched every few seconds by the worker process that holds the job (see
    # generation.heartbeat): a job whose heartbeat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    ACTIVE: ClassVar = ACTIVE_STATUSES

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["author", "-created_at"]),
            models.Index(
                fields=["status", "created_at"],
                name="job_active_idx",
                condition=Q(status__in=["queued", "running", "streaming", "storing"]),
            ),
            # The shared prompt history pages newest first by (created_at, id) keyset.
            models.Index(fields=["-created_at", "-id"], name="job_history_order_idx"),
            # Gallery/history filters on a job column: a rare provider or style is
            # found through its index instead of by walking every image in order;
            # the provider index also lists the distinct providers for the filter
            # (a loose index scan, one probe per provider, see gallery.selectors).
            models.Index(fields=["provider"], name="job_provider_idx"),
            models.Index(fields=["style"], name="job_style_idx"),
            # PostgreSQL only, in migration 0002_gallery_search (expression
            # indexes SQLite cannot share): a GIN full-text index on the prompt
            # and an md5(prompt) index that groups identical prompts.
        ]

    def __str__(self) -> str:
        return f"{self.model_slug}: {self.prompt[:40]}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def charge(self) -> Decimal | None:
        """What the job cost: as confirmed by OpenRouter or an admin, else as reported."""
        return self.confirmed_cost if self.confirmed_cost is not None else self.actual_cost

    @property
    def charge_unknown(self) -> bool:
        """Finished, yet may have been charged an amount nobody has told us: its
        estimate stays reserved (counted as spend) until the charge is settled."""
        return self.is_final and self.reserved_cost > 0

    @property
    def display_text(self) -> str:
        """The model's text without markdown image links: the images are shown
        anyway, and the links point at temporary upstream URLs."""
        return _MARKDOWN_IMAGE.sub("", self.text).strip()

    @property
    def params_json(self) -> str:
        import json

        return json.dumps(self.params, indent=2, sort_keys=True)

    @property
    def elapsed_seconds(self) -> float | None:
        if not self.started_at:
            return None
        from django.utils import timezone

        end = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class Image(models.Model):
    """A verified image, stored content-addressed: the key is its SHA-256."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField()
    original_key = models.CharField(max_length=300)
    thumbnail_key = models.CharField(max_length=300)
    media_type = models.CharField(max_length=40)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "index"]
        indexes = [
            # The gallery pages newest first by (created_at, id) keyset: never OFFSET.
            models.Index(fields=["-created_at", "-id"], name="image_gallery_order_idx"),
            # The media type filter walks only that type's images, already in page order.
            models.Index(fields=["media_type", "-created_at", "-id"], name="image_media_order_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="one_image_per_job_index"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.index}"

    @property
    def extension(self) -> str:
        return MEDIA_EXTENSIONS.get(self.media_type, "bin")


MEDIA_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/svg+xml": "svg",
    "image/gif": "gif",
}


class GenerationPreference(models.Model):
    """What a person last generated with, offered again on their next visit.

    Written by ``generation.preferences.remember`` after each submission; read by
    the Generate form through ``generation.preferences.preferences_for``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_preference"
    )
    model_slug = models.CharField(max_length=200, blank=True)
    style = models.CharField(max_length=20, choices=Style.choices, blank=True)
    # Option values as the form names them (``aspect_ratio``, ``image_config.image_size``).
    options = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.model_slug or 'no model yet'}"
