"""A board's image count is stored and stays right however items come and go,
and each viewer sees the count of the images they may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gallery import selectors, services
from gallery.models import Board, BoardItem
from generation.models import Job
from tests.gallery.conftest import make_image

pytestmark = pytest.mark.django_db


def counts(board: Board) -> tuple[int, int]:
    board.refresh_from_db()
    return board.image_count, board.private_count


@pytest.fixture
def board(user: User) -> Board:
    return services.create_board(user, "Foxes")


def test_adding_counts_each_image_once(user: User, bob: User, board: Board) -> None:
    first, second = make_image(user, "a fox"), make_image(bob, "a fox at night")

    assert services.add_to_board(user, board, [first, second]) == 2
    assert services.add_to_board(bob, board, [first]) == 0
    # Two people adding the same image at once: the insert the database skips is not counted.
    BoardItem.objects.bulk_create(
        [BoardItem(board=board, image=second, added_by=bob)], ignore_conflicts=True
    )

    assert counts(board) == (2, 0)


def test_private_images_count_for_their_author_only(
    user: User, bob: User, board: Board, make_user: Any
) -> None:
    public = make_image(user, "a fox")
    bobs_secret = make_image(bob, "bob's fox", private=True)
    services.add_to_board(bob, board, [public, bobs_secret])
    carol = make_user("carol")

    assert counts(board) == (2, 1)
    assert BoardItem.objects.get(image=bobs_secret).private_author == bob
    assert BoardItem.objects.get(image=public).private_author is None
    assert selectors.board_image_count(bob, board) == 2
    assert selectors.board_image_count(user, board) == 1
    assert selectors.board_image_count(carol, board) == 1
    summaries = {summary.board.pk: summary.count for summary in selectors.boards_overview(user)}
    assert summaries[board.pk] == 1
    assert {s.board.pk: s.count for s in selectors.boards_overview(bob)}[board.pk] == 2


def test_an_item_made_directly_still_gets_its_private_author_and_counts(
    bob: User, board: Board
) -> None:
    secret = make_image(bob, "bob's fox", private=True)

    BoardItem.objects.create(board=board, image=secret, added_by=bob)  # as the admin or a script

    assert BoardItem.objects.get(image=secret).private_author == bob
    assert counts(board) == (1, 1)


def test_deleting_images_or_their_job_takes_them_off_the_counts(
    user: User, bob: User, board: Board
) -> None:
    kept = make_image(user, "a fox")
    deleted = make_image(user, "a fox in snow")
    secret = make_image(bob, "bob's fox", private=True)
    services.add_to_board(user, board, [kept, deleted])
    services.add_to_board(bob, board, [secret])
    assert counts(board) == (3, 1)

    services.delete_images(user, [deleted])
    assert counts(board) == (2, 1)
    Job.objects.filter(pk=secret.job_id).delete()  # the admin deletes a job: the cascade
    assert counts(board) == (1, 0)
    BoardItem.objects.filter(board=board).delete()
    assert counts(board) == (0, 0)


def test_moving_an_item_to_another_board_moves_its_count(user: User, board: Board) -> None:
    other = services.create_board(user, "Wolves")
    image = make_image(user, "a fox", private=True)
    services.add_to_board(user, board, [image])

    BoardItem.objects.filter(board=board).update(board=other)

    assert counts(board) == (0, 0)
    assert counts(other) == (1, 1)


def test_the_board_page_shows_the_stored_count_without_counting(
    user: User, board: Board, user_client: Client
) -> None:
    services.add_to_board(user, board, [make_image(user, "a fox"), make_image(user, "a fox 2")])

    with CaptureQueriesContext(connection) as queries:
        response = user_client.get(f"/gallery/boards/{board.pk}/")

    assert response.status_code == 200
    assert "2 images · started by alice" in response.text
    board_counts = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].upper().startswith("SELECT COUNT(") and "gallery_boarditem" in query["sql"]
    ]
    assert board_counts == []
