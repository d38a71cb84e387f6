"""The factories build rows as the app leaves them: relations, stored bytes, back-dating."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from generation import storage
from generation.models import Status
from tests.factories import (
    BoardItemFactory,
    BudgetFactory,
    FavouriteFactory,
    ImageFactory,
    JobFactory,
)

pytestmark = pytest.mark.django_db


def test_a_job_is_finished_with_its_models_slug() -> None:
    job = JobFactory.create()
    assert job.status == Status.SUCCEEDED
    assert job.model_slug == job.model.slug
    assert job.finished_at is not None
    assert JobFactory.create(status=Status.QUEUED).finished_at is None


def test_created_at_back_dates_the_row() -> None:
    then = timezone.now() - timedelta(days=40)
    job = JobFactory.create(created_at=then)
    assert job.created_at == then
    job.refresh_from_db()
    assert job.created_at == then


def test_an_image_has_its_bytes_in_storage() -> None:
    image = ImageFactory.create()
    with storage.open_file(image.original_key).handle as handle:
        assert len(handle.read()) == image.bytes
    assert ImageFactory.create(job=image.job).index == 1


def test_board_items_and_favourites_point_at_images() -> None:
    item = BoardItemFactory.create()
    assert list(item.board.images.all()) == [item.image]
    assert item.added_by == item.board.created_by
    favourite = FavouriteFactory.create(image=item.image)
    assert item.image.favourites.get() == favourite


def test_budgets_for_a_person_and_the_team() -> None:
    assert BudgetFactory.create().user is not None
    team = BudgetFactory.create(team=True, monthly_usd=Decimal("100"))
    assert (team.user, team.is_team) == (None, True)
    with pytest.raises(IntegrityError):
        BudgetFactory.create(team=True)
