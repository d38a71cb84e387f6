"""factory_boy factories: the one definition of a test row and its defaults.

A factory builds a row as the app would leave it, without running anything:
``JobFactory(author=user)`` is a finished Image API job of the default model,
``ImageFactory(job=job)`` stores real PNG bytes content-addressed as the worker
does. Override any field; ``created_at=`` back-dates a row (the field is
``auto_now_add``, so it is set after creation).
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone
from PIL import Image as PILImage

from catalog.models import ImageModel
from costs.models import Budget
from gallery.models import Board, BoardItem, Favourite
from generation import imaging, storage
from generation.models import Image, Job, Status, Style


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (30, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


class _BackDated[T: models.Model](factory.django.DjangoModelFactory[T]):
    """Rows whose ``created_at`` is ``auto_now_add``: a given value is written after saving."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        created_at: datetime | None = kwargs.pop("created_at", None)
        row = super()._create(model_class, *args, **kwargs)
        if created_at is not None:
            model_class.objects.filter(pk=row.pk).update(created_at=created_at)
            row.refresh_from_db()
        return row


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    password = factory.django.Password("pw")


class ImageModelFactory(factory.django.DjangoModelFactory[ImageModel]):
    class Meta:
        model = ImageModel
        django_get_or_create = ("slug",)

    slug = "openai/gpt-image-1"
    name = factory.LazyAttribute(lambda o: o.slug.split("/")[-1])
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


class JobFactory(_BackDated[Job]):
    """A finished job, as the worker would have left it."""

    class Meta:
        model = Job

    author = factory.SubFactory(UserFactory)
    model = factory.SubFactory(ImageModelFactory)
    model_slug = factory.LazyAttribute(lambda o: o.model.slug)
    style = Style.IMAGES
    prompt = factory.Sequence(lambda n: f"prompt {n}")
    params = factory.LazyFunction(dict)
    status = Status.SUCCEEDED
    provider = "OpenAI"
    estimated_cost = Decimal("0.04")
    actual_cost = Decimal("0.04")
    finished_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status in (Status.SUCCEEDED, Status.FAILED) else None
    )


class ImageFactory(_BackDated[Image]):
    """An image with real bytes in storage (content-addressed, thumbnail and all)."""

    class Meta:
        model = Image
        exclude = ("data", "verified")

    job = factory.SubFactory(JobFactory)
    data = factory.LazyFunction(png)
    verified = factory.LazyAttribute(lambda o: imaging.verify(o.data, ""))
    index = factory.LazyAttribute(lambda o: o.job.images.count())
    original_key = factory.LazyAttribute(
        lambda o: storage.put(
            storage.original_key(o.verified.sha256, o.verified.media_type), o.verified.data
        )
    )
    thumbnail_key = factory.LazyAttribute(
        lambda o: (
            o.original_key
            if o.verified.thumbnail is o.verified.data
            else storage.put(
                storage.thumbnail_key(o.verified.sha256, o.verified.thumbnail_media_type),
                o.verified.thumbnail,
            )
        )
    )
    media_type = factory.LazyAttribute(lambda o: o.verified.media_type)
    width = factory.LazyAttribute(lambda o: o.verified.width)
    height = factory.LazyAttribute(lambda o: o.verified.height)
    bytes = factory.LazyAttribute(lambda o: len(o.verified.data))
    sha256 = factory.LazyAttribute(lambda o: o.verified.sha256)


class BoardFactory(factory.django.DjangoModelFactory[Board]):
    class Meta:
        model = Board

    name = factory.Sequence(lambda n: f"Board {n}")
    created_by = factory.SubFactory(UserFactory)


class BoardItemFactory(factory.django.DjangoModelFactory[BoardItem]):
    class Meta:
        model = BoardItem

    board = factory.SubFactory(BoardFactory)
    image = factory.SubFactory(ImageFactory)
    added_by = factory.SelfAttribute("board.created_by")


class FavouriteFactory(factory.django.DjangoModelFactory[Favourite]):
    class Meta:
        model = Favourite

    user = factory.SubFactory(UserFactory)
    image = factory.SubFactory(ImageFactory)


class BudgetFactory(factory.django.DjangoModelFactory[Budget]):
    """A person's monthly budget; ``BudgetFactory(team=True)`` the team's."""

    class Meta:
        model = Budget

    class Params:
        team = factory.Trait(user=None, is_team=True)

    user = factory.SubFactory(UserFactory)
    monthly_usd = Decimal("10.00")
    is_team = False
