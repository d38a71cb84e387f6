"""In Chromium: a board managed from its page: rename it, describe it, take
images off it, and delete it after confirming (its images stay)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from gallery.models import Board, BoardItem
from generation.models import Image
from tests.gallery.conftest import make_image

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

TILES = "[data-testid=gallery-tile]"


def board_with(user: User, name: str, images: list[Image]) -> Board:
    board = Board.objects.create(name=name, created_by=user)
    for image in images:
        board.items.create(image=image, added_by=user)
    return board


def test_rename_describe_and_take_images_off_a_board(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    kites = [make_image(user, f"a kite {colour}") for colour in ("red", "blue", "green")]
    board = board_with(user, "Kites", kites)
    login(user)
    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/")

    page.click("[data-testid=board-manage] summary")
    page.fill("#board-edit-name", "Kites for the poster")
    page.fill("#board-edit-description", "The three we liked best.")
    page.click("[data-testid=board-edit] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")
    assert "Saved the board “Kites for the poster”." in page.inner_text(".messages")
    assert "Board: Kites for the poster" in page.inner_text("h1")
    assert "The three we liked best." in page.inner_text(".page-subtitle")
    board.refresh_from_db()
    assert (board.name, board.description) == ("Kites for the poster", "The three we liked best.")

    page.locator(f"{TILES}[data-image='{kites[0].pk}'] [data-testid=tile-remove]").click()
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")
    assert "Took 1 image off the board" in page.inner_text(".messages")
    assert page.locator(TILES).count() == 2

    page.check(f"input[name=image][value='{kites[1].pk}']")
    page.click("[data-testid=remove-selected]")
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")
    assert page.locator(TILES).count() == 1
    assert list(BoardItem.objects.filter(board=board).values_list("image_id", flat=True)) == [
        kites[2].pk
    ]
    assert Image.objects.filter(pk__in=[k.pk for k in kites]).count() == 3  # still in the gallery


def test_a_name_already_taken_is_refused_and_nothing_changes(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    Board.objects.create(name="Birds", created_by=user)
    board = Board.objects.create(name="Kites", created_by=user)
    login(user)
    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/")
    page.click("[data-testid=board-manage] summary")
    page.fill("#board-edit-name", "birds")
    page.click("[data-testid=board-edit] button[type=submit]")
    assert "There is already a board named “birds”." in page.inner_text(
        "[data-testid=refused-message]"
    )
    board.refresh_from_db()
    assert board.name == "Kites"


def test_delete_a_board_after_confirming_and_keep_its_images(
    page: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    image = make_image(user, "a kite over the dunes")
    board = board_with(user, "Kites", [image])
    login(user)
    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/")
    page.click("[data-testid=board-manage] summary")
    page.click("[data-testid=board-delete]")
    page.locator("[data-testid=confirm-board-delete]").wait_for()
    assert Board.objects.filter(pk=board.pk).exists()  # only asked so far
    page.get_by_role("link", name="Keep it").click()
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")

    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/delete")
    page.click("[data-testid=confirm-delete-board]")
    page.wait_for_url(f"{live_server.url}/gallery/boards/")
    assert "Deleted the board “Kites”. Its images stay in the gallery." in page.inner_text(
        ".messages"
    )
    assert not Board.objects.filter(pk=board.pk).exists()
    assert Image.objects.filter(pk=image.pk).exists()


def test_only_the_boards_starter_or_staff_may_delete_it(
    page: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    board = Board.objects.create(name="Kites", created_by=make_user("bob"))
    login(user)
    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/")
    page.click("[data-testid=board-manage] summary")
    assert page.locator("[data-testid=board-delete]").count() == 0
    response = page.goto(f"{live_server.url}/gallery/boards/{board.pk}/delete")
    assert response.status == 403
    assert "Only bob, who started the board, or staff can delete it." in page.inner_text(
        "[data-testid=refused-message]"
    )
    assert Board.objects.filter(pk=board.pk).exists()


def test_choose_a_boards_cover(page: Any, live_server: Any, login: Any, user: User) -> None:
    older = make_image(user, "a kite in the rain")
    newer = make_image(user, "a kite at noon")
    board = board_with(user, "Kites", [older, newer])
    login(user)
    page.goto(f"{live_server.url}/gallery/boards/")
    cover = page.locator("[data-testid=board] img")
    assert cover.get_attribute("src") == f"/media/{newer.pk}/thumbnail"  # the newest, by default

    page.goto(f"{live_server.url}/gallery/boards/{board.pk}/")
    page.locator(f"{TILES}[data-image='{older.pk}'] [data-testid=tile-make-cover]").click()
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")
    assert "That image is now the cover of “Kites”." in page.inner_text(".messages")
    page.locator(f"{TILES}[data-image='{older.pk}'] [data-testid=tile-is-cover]").wait_for()
    page.goto(f"{live_server.url}/gallery/boards/")
    assert cover.get_attribute("src") == f"/media/{older.pk}/thumbnail"
    board.refresh_from_db()
    assert board.cover_id == older.pk
