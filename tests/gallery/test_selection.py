"""Several images at once: add to a board, download as a zip, delete; and the
boards page. Only images the user may see; deleting is for authors and staff."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import AsyncClient, Client

from gallery import selectors
from gallery.models import Board, BoardItem, Favourite
from generation.models import Image, Job
from tests.concurrency import run_async
from tests.gallery.conftest import add_image, make_image, make_job, png

pytestmark = pytest.mark.django_db


def select(client: Client, action: str, images: list[Any], **extra: Any) -> Any:
    return client.post(
        "/gallery/selection", {"action": action, "image": [str(i.pk) for i in images], **extra}
    )


def unzip(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_add_several_to_an_existing_board(user: User, bob: User, user_client: Client) -> None:
    images = [make_image(bob, f"fox {i}") for i in range(3)]
    board = Board.objects.create(name="Foxes", created_by=bob)
    BoardItem.objects.create(board=board, image=images[0], added_by=bob)

    response = select(user_client, "board", images, board=board.pk)

    assert response.status_code == 302
    assert response["Location"] == f"/gallery/boards/{board.pk}/"
    assert board.items.count() == 3
    page = user_client.get(response["Location"]).text
    assert "Added 2 images to the board “Foxes” (1 already on it)." in page


def test_add_several_to_a_new_board_by_name(user: User, user_client: Client) -> None:
    images = [make_image(user, f"fox {i}") for i in range(2)]

    select(user_client, "board", images, new_board="Fresh foxes")

    assert set(Board.objects.get(name="Fresh foxes").images.all()) == set(images)


def test_zip_has_every_original_under_its_real_name(user: User, user_client: Client) -> None:
    job = make_job(user, "A red fox, at dawn!")
    first, second = add_image(job), add_image(job)
    again = make_image(user, "A red fox, at dawn!")  # same name as `first`: made unique

    response = select(user_client, "zip", [first, second, again])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="darkroom-3-images-')
    archive = unzip(response)
    assert sorted(archive.namelist()) == [
        "darkroom-a-red-fox-at-dawn-gpt-image-1-1-2.png",
        "darkroom-a-red-fox-at-dawn-gpt-image-1-1.png",
        "darkroom-a-red-fox-at-dawn-gpt-image-1-2.png",
    ]
    assert archive.testzip() is None
    with default_storage.open(second.original_key) as stored:
        assert archive.read("darkroom-a-red-fox-at-dawn-gpt-image-1-2.png") == stored.read()


def test_zip_notes_a_file_gone_from_storage(user: User, user_client: Client) -> None:
    kept = make_image(user, "kept")
    gone = make_image(user, "gone")
    Image.objects.filter(pk=gone.pk).update(original_key="images/00/missing.png")

    archive = unzip(select(user_client, "zip", [kept, gone]))

    assert archive.namelist() == ["darkroom-kept-gpt-image-1-1.png", "MISSING.txt"]
    assert "darkroom-gone-gpt-image-1-1.png" in archive.read("MISSING.txt").decode()


# Committed data: the streamed part runs on another thread, with its own connection.
@pytest.mark.django_db(transaction=True)
def test_zip_streams_under_asgi(user: User) -> None:
    image = make_image(user, "a red fox")

    async def download() -> tuple[bool, bytes]:
        client = AsyncClient()
        await client.aforce_login(user)
        response: Any = await client.post(
            "/gallery/selection", {"action": "zip", "image": [str(image.pk)]}
        )
        body = b"".join([chunk async for chunk in response.streaming_content])
        return response.is_async, body

    is_async, body = run_async(download())

    assert is_async  # an async iterator: Django does not buffer the whole zip first
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == ["darkroom-a-red-fox-gpt-image-1-1.png"]


def test_a_foreign_private_image_in_the_selection_stops_everything(
    user: User, bob: User, bob_client: Client
) -> None:
    public = make_image(user, "public")
    secret = make_image(user, "secret", private=True)

    for action in ("zip", "board", "delete", "delete-confirmed"):
        response = select(bob_client, action, [public, secret], new_board="Bob's")
        assert response.status_code == 404
        assert "1 of the selected images does not exist or you may not see them" in response.text
    assert Image.objects.count() == 2
    assert not Board.objects.exists()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"action": "zip"}, 400, "Select at least one image first."),
        ({"action": "zip", "image": ["nope"]}, 400, "not an image id"),
        (
            {"action": "zip", "image": ["6f1e5c3a-0000-4000-8000-000000000000"]},
            404,
            "does not exist",
        ),
        ({"action": "explode", "image": ["IMAGE"]}, 400, "Choose what to do"),
        ({"action": "board", "image": ["IMAGE"]}, 400, "Choose a board"),
        ({"action": "board", "image": ["IMAGE"], "new_board": "x" * 121}, 400, "at most 120"),
    ],
)
def test_bad_selections_are_refused_with_a_message(
    user: User, user_client: Client, data: dict[str, Any], status: int, message: str
) -> None:
    image = make_image(user, "a red fox")
    if data.get("image") == ["IMAGE"]:
        data["image"] = [str(image.pk)]

    response = user_client.post("/gallery/selection", data)

    assert response.status_code == status
    assert message in response.text


def test_at_most_200_images_at_once(user: User, user_client: Client) -> None:
    ids = [f"6f1e5c3a-0000-4000-8000-{n:012d}" for n in range(selectors.MAX_SELECTION + 1)]

    response = user_client.post("/gallery/selection", {"action": "zip", "image": ids})

    assert response.status_code == 400
    assert "Select at most 200 images at once; 201 were selected." in response.text


def test_the_selection_is_post_only(user_client: Client) -> None:
    assert user_client.get("/gallery/selection").status_code == 405


def test_delete_asks_first_then_removes_rows_and_files_but_keeps_the_job(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    image = make_image(user, "a red fox")
    Favourite.objects.create(user=user, image=image)
    BoardItem.objects.create(
        board=Board.objects.create(name="Foxes", created_by=user), image=image, added_by=user
    )
    keys = [image.original_key, image.thumbnail_key]

    confirm = select(user_client, "delete", [image], next="/gallery/?q=fox")

    assert confirm.status_code == 200
    assert "Delete 1 image?" in confirm.text
    assert Image.objects.filter(pk=image.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = select(user_client, "delete-confirmed", [image], next="/gallery/?q=fox")

    assert done.status_code == 302
    assert done["Location"] == "/gallery/?q=fox"
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not Favourite.objects.exists()
    assert not BoardItem.objects.exists()
    assert Job.objects.filter(pk=image.job_id, actual_cost__isnull=False).exists()
    assert not any(default_storage.exists(key) for key in keys)
    assert user_client.get(f"/media/{image.pk}/original").status_code == 404


def test_delete_keeps_files_another_image_still_uses(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    same_bytes = png()
    first = make_image(user, "twins", data=same_bytes)
    second = make_image(user, "twins again", data=same_bytes)
    assert first.original_key == second.original_key

    with django_capture_on_commit_callbacks(execute=True):
        select(user_client, "delete-confirmed", [first])

    assert default_storage.exists(second.original_key)
    assert default_storage.exists(second.thumbnail_key)
    assert user_client.get(f"/media/{second.pk}/original").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        select(user_client, "delete-confirmed", [second])

    assert not default_storage.exists(second.original_key)


def test_only_the_author_or_staff_delete(
    user: User,
    bob: User,
    bob_client: Client,
    staff_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    alices = make_image(user, "alice's")
    bobs = make_image(bob, "bob's")

    for action in ("delete", "delete-confirmed"):
        refused = select(bob_client, action, [bobs, alices])
        assert refused.status_code == 403
        assert "author or staff can delete it; 1 of the selected is someone else" in (refused.text)
    assert Image.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        allowed = select(staff_client, "delete-confirmed", [bobs, alices])

    assert allowed.status_code == 302
    assert not Image.objects.exists()
    assert Job.objects.count() == 2


def test_deleting_from_its_own_page_returns_to_the_gallery(user: User, user_client: Client) -> None:
    image = make_image(user, "a red fox")

    response = select(user_client, "delete-confirmed", [image], next=f"/gallery/{image.pk}/")

    assert response["Location"] == "/gallery/"


def test_boards_page_lists_boards_with_visible_counts_and_creates_new_ones(
    user: User, bob: User, user_client: Client
) -> None:
    board = Board.objects.create(name="Foxes", description="Only foxes", created_by=bob)
    visible = make_image(bob, "a fox")
    BoardItem.objects.create(board=board, image=visible, added_by=bob)
    BoardItem.objects.create(
        board=board, image=make_image(bob, "private fox", private=True), added_by=bob
    )

    page = user_client.get("/gallery/boards/")
    created = user_client.post("/gallery/boards/", {"name": "Wolves", "description": "Grey"})
    duplicate = user_client.post("/gallery/boards/", {"name": "  wolves "})
    empty = user_client.post("/gallery/boards/", {"name": "   "})

    assert "Foxes" in page.text
    assert "1 image · by bob" in page.text
    assert f'src="/media/{visible.pk}/thumbnail"' in page.text
    wolves = Board.objects.get(name="Wolves")
    assert created["Location"] == f"/gallery/boards/{wolves.pk}/"
    assert (wolves.description, wolves.created_by) == ("Grey", user)
    assert duplicate.status_code == 409
    assert "There is already a board named" in duplicate.text
    assert empty.status_code == 400
    assert "Give the board a name." in empty.text
