"""The gallery grid: filters that combine, keyset pages, htmx fragments, visibility,
and bad input answered with a message and a 4xx."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from gallery import selectors, services
from gallery.models import Board, BoardItem, Favourite
from gallery.paging import Cursor, Filters
from generation.models import Style
from tests.gallery.conftest import SVG, make_image

pytestmark = pytest.mark.django_db


def tile_ids(response: Any) -> list[str]:
    html = response.text
    marker = 'data-testid="gallery-tile" data-image="'
    ids = []
    start = html.find(marker)
    while start != -1:
        start += len(marker)
        ids.append(html[start : start + 36])
        start = html.find(marker, start)
    return ids


def test_newest_first_with_what_a_tile_shows(user: User, user_client: Client) -> None:
    old = make_image(user, "an old photo", created_at=timezone.now() - timedelta(days=2))
    new = make_image(user, "a new photo")

    response = user_client.get("/gallery/")

    assert response.status_code == 200
    assert tile_ids(response) == [str(new.pk), str(old.pk)]
    assert f'src="/media/{new.pk}/thumbnail"' in response.text
    assert "alice · gpt-image-1" in response.text


def test_every_filter_alone_and_combined(user: User, bob: User) -> None:
    day = timezone.now() - timedelta(days=10)
    base = make_image(user, "a red fox")
    by_bob = make_image(bob, "a red fox by bob")
    other_model = make_image(user, "a red fox", model="google/gemini-2.5-flash-image")
    other_provider = make_image(user, "a red fox", provider="Azure")
    chat = make_image(user, "a red fox", style=Style.CHAT)
    svg = make_image(user, "a red fox drawing", data=SVG)
    older = make_image(user, "a red fox, long ago", created_at=day)
    favourite = make_image(bob, "a grey wolf")
    Favourite.objects.create(user=user, image=favourite)
    board = Board.objects.create(name="Foxes", created_by=user)
    BoardItem.objects.create(board=board, image=base, added_by=user)
    BoardItem.objects.create(board=board, image=by_bob, added_by=user)
    everything = {base, by_bob, other_model, other_provider, chat, svg, older, favourite}

    def found(**filters: Any) -> set[Any]:
        return set(selectors.gallery_page(user, Filters(**filters)).items)

    assert found() == everything
    assert found(author_id=bob.pk) == {by_bob, favourite}
    assert found(model_id=other_model.job.model_id) == {other_model}
    assert found(provider="Azure") == {other_provider}
    assert found(style=Style.CHAT) == {chat}
    assert found(media_type="image/svg+xml") == {svg}
    assert found(until=day + timedelta(days=1)) == {older}
    assert found(since=day + timedelta(days=1)) == everything - {older}
    assert found(favourites_of=user.pk) == {favourite}
    assert found(board_id=board.pk) == {base, by_bob}
    assert found(q="fox", author_id=user.pk, style=Style.IMAGES, provider="OpenAI") == {
        base,
        other_model,
        svg,
        older,
    }
    assert found(q="fox", board_id=board.pk, author_id=bob.pk) == {by_bob}
    assert found(q="wolf", favourites_of=user.pk, media_type="image/png") == {favourite}
    assert found(q="wolf", favourites_of=bob.pk) == set()


def test_filters_live_in_the_url(user: User, bob: User, user_client: Client) -> None:
    mine = make_image(user, "a red fox", provider="Azure")
    make_image(bob, "a red fox", provider="Azure")
    make_image(user, "a red fox", provider="OpenAI")
    today = timezone.localdate().isoformat()

    response = user_client.get(
        "/gallery/",
        {
            "q": "fox",
            "author": "alice",
            "model": "openai/gpt-image-1",
            "provider": "Azure",
            "style": "images",
            "media_type": "image/png",
            "date_from": today,
            "date_to": today,
        },
    )

    assert response.status_code == 200
    assert tile_ids(response) == [str(mine.pk)]
    # The image's link carries the filter, for next/previous within it.
    assert f"/gallery/{mine.pk}/?q=fox&amp;author=alice&amp;model=openai%2Fgpt-image-1" in (
        response.text
    )


def test_menus_offer_only_what_the_viewer_can_find(user: User, bob: User) -> None:
    make_image(user, "mine", provider="OpenAI")
    make_image(bob, "bob's secret", provider="Secret Provider", private=True)
    make_image(bob, "bob's public", provider="Azure", model="black-forest-labs/flux.2-pro")
    Board.objects.create(name="Moods", created_by=bob)

    options = selectors.filter_options(user)

    assert [name for _, name in options.authors] == ["alice", "bob"]
    assert options.providers == ["Azure", "OpenAI"]
    assert [slug for _, slug, _ in options.models] == [
        "black-forest-labs/flux.2-pro",
        "openai/gpt-image-1",
    ]
    assert [name for _, name in options.boards] == ["Moods"]
    assert selectors.filter_options(bob).providers == ["Azure", "OpenAI", "Secret Provider"]


def test_keyset_pages_have_no_duplicates_and_no_gaps(
    user: User, user_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "GALLERY_PAGE_SIZE", 4)
    same_instant = timezone.now() - timedelta(hours=1)
    images = [make_image(user, f"tie number {i}", created_at=same_instant) for i in range(6)]
    images += [make_image(user, f"image number {i}") for i in range(5)]
    expected = [
        str(image.pk) for image in sorted(images, key=lambda i: (i.created_at, i.pk), reverse=True)
    ]

    seen: list[str] = []
    url = "/gallery/?q=number"
    pages = 0
    while url:
        response = user_client.get(url)
        assert response.status_code == 200
        seen += tile_ids(response)
        pages += 1
        marker = 'data-testid="next-page"'
        if marker not in response.text:
            break
        link_end = response.text.index(marker)
        link_start = response.text.rindex('href="', 0, link_end) + len('href="')
        url = response.text[link_start : response.text.index('"', link_start)].replace("&amp;", "&")
        assert "q=number" in url  # the next page keeps the filter

    assert pages == 3
    assert seen == expected
    assert "That is everything that matches." in response.text


def test_infinite_scroll_gets_only_the_next_tiles(
    user: User, user_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "GALLERY_PAGE_SIZE", 2)
    images = [make_image(user, f"image {i}") for i in range(3)]
    cursor = Cursor.of(images[1]).encode()

    response = user_client.get(
        f"/gallery/?after={cursor}", headers={"HX-Request": "true", "HX-Target": "gallery-next"}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith("<figure")
    assert "<html" not in response.text
    assert "selection-bar" not in response.text
    assert tile_ids(response) == [str(images[0].pk)]


def test_filter_changes_swap_the_results_and_push_a_clean_url(
    user: User, user_client: Client
) -> None:
    make_image(user, "a red fox")

    response = user_client.get(
        "/gallery/?q=fox&author=&model=&provider=&style=&date_from=&date_to=&media_type=",
        headers={"HX-Request": "true", "HX-Target": "gallery-results"},
    )

    assert response.text.lstrip().startswith('<section id="gallery-results"')
    assert response["HX-Push-Url"] == "/gallery/?q=fox"


def test_a_history_restore_gets_the_whole_page(user: User, user_client: Client) -> None:
    response = user_client.get(
        "/gallery/",
        headers={
            "HX-Request": "true",
            "HX-Target": "gallery-results",
            "HX-History-Restore-Request": "true",
        },
    )

    assert "<html" in response.text


def test_private_images_are_invisible_to_others_in_grid_and_search(
    user: User, bob: User, bob_client: Client, user_client: Client
) -> None:
    secret = make_image(user, "my secret lighthouse", private=True)

    assert str(secret.pk) not in bob_client.get("/gallery/").text
    assert str(secret.pk) not in bob_client.get("/gallery/?q=lighthouse").text
    assert bob_client.get(f"/gallery/{secret.pk}/").status_code == 404
    assert bob_client.get(f"/media/{secret.pk}/original").status_code == 404
    assert bob_client.get(f"/media/{secret.pk}/thumbnail").status_code == 404
    assert tile_ids(user_client.get("/gallery/?q=lighthouse")) == [str(secret.pk)]
    assert "Private" in user_client.get("/gallery/").text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=garbage", "This page link is broken or out of date"),
        ("after=123-" + "z" * 32, "This page link is broken or out of date"),
        ("after=99999999999999999999-" + "0" * 32, "This page link is broken or out of date"),
        ("date_from=2024-13-45", "From: Enter a valid date."),
        ("date_from=2025-02-01&date_to=2025-01-01", "To: The end date is before the start date."),
        ("author=nobody", "Author: Select a valid choice."),
        ("board=999999", "Board: Select a valid choice."),
        ("model=no/such-model", "Model: Select a valid choice."),
    ],
)
def test_bad_input_is_a_400_with_a_message(
    user: User, user_client: Client, query: str, message: str
) -> None:
    make_image(user, "a red fox")

    response = user_client.get(f"/gallery/?{query}")

    assert response.status_code == 400
    assert message in response.text
    assert 'data-testid="gallery-tile"' not in response.text


def test_empty_gallery_and_empty_results_say_so(user: User, user_client: Client) -> None:
    assert "No images yet." in user_client.get("/gallery/").text
    make_image(user, "a red fox")
    response = user_client.get("/gallery/?q=zebra")
    assert response.status_code == 200
    assert "No images match these filters." in response.text


def test_the_gallery_needs_a_login(user: User) -> None:
    response = Client().get("/gallery/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_board_page_is_the_gallery_filtered_by_the_board(
    user: User, bob: User, user_client: Client
) -> None:
    on_board = make_image(user, "a red fox")
    make_image(user, "a grey wolf")
    secret = make_image(bob, "bob's private fox", private=True)
    board = Board.objects.create(name="Foxes", description="All the foxes", created_by=bob)
    for image in (on_board, secret):
        BoardItem.objects.create(board=board, image=image, added_by=bob)

    response = user_client.get(f"/gallery/boards/{board.pk}/")

    assert response.status_code == 200
    assert "Board: Foxes" in response.text
    assert "1 image " in response.text  # bob's private one is not counted for alice
    assert tile_ids(response) == [str(on_board.pk)]
    assert f'href="/gallery/{on_board.pk}/?board={board.pk}"' in response.text
    assert user_client.get("/gallery/boards/99999/").status_code == 404


def test_a_chosen_cover_shows_only_while_the_viewer_may_see_it(
    user: User, bob: User, user_client: Client, bob_client: Client
) -> None:
    public = make_image(bob, "a public kite")
    secret = make_image(user, "my secret kite", private=True)
    board = Board.objects.create(name="Kites", created_by=user)
    board.items.create(image=public, added_by=bob)
    board.items.create(image=secret, added_by=user)
    services.set_cover(board, secret)

    assert f"/media/{secret.pk}/thumbnail" in user_client.get("/gallery/boards/").text
    seen_by_bob = bob_client.get("/gallery/boards/").text
    assert str(secret.pk) not in seen_by_bob
    assert f"/media/{public.pk}/thumbnail" in seen_by_bob


def test_a_cover_must_be_on_the_board(user: User, user_client: Client) -> None:
    elsewhere = make_image(user, "a kite elsewhere")
    board = Board.objects.create(name="Kites", created_by=user)

    response = user_client.post(f"/gallery/boards/{board.pk}/cover", {"image": str(elsewhere.pk)})

    assert response.status_code == 400
    assert "Only an image on the board can be its cover." in response.text
    board.refresh_from_db()
    assert board.cover_id is None
    assert user_client.post(f"/gallery/boards/{board.pk}/cover", {"image": "x"}).status_code == 400
    assert user_client.post("/gallery/boards/999999/cover", {"image": "x"}).status_code == 404


def test_board_edits_refuse_bad_input_with_a_message_and_change_nothing(
    user: User, bob: User, user_client: Client, bob_client: Client
) -> None:
    image = make_image(user, "a kite")
    board = Board.objects.create(name="Kites", description="Old words", created_by=user)
    board.items.create(image=image, added_by=user)
    edit = f"/gallery/boards/{board.pk}/edit"

    blank = user_client.post(edit, {"name": "   ", "description": "new"})
    nul = user_client.post(edit, {"name": "Ki\x00tes", "description": "new"})
    removed_elsewhere = user_client.post(
        "/gallery/selection", {"action": "remove", "image": str(image.pk), "from_board": "nope"}
    )
    not_starter = bob_client.post(f"/gallery/boards/{board.pk}/delete")

    assert blank.status_code == 400
    assert "Give the board a name." in blank.text
    assert nul.status_code == 400
    assert removed_elsewhere.status_code == 404
    assert "That board does not exist any more." in removed_elsewhere.text
    assert not_starter.status_code == 403
    board.refresh_from_db()
    assert (board.name, board.description) == ("Kites", "Old words")
    assert BoardItem.objects.filter(board=board, image=image).exists()
    assert user_client.get("/gallery/boards/999999/delete").status_code == 404
    assert user_client.get(edit).status_code == 405


def test_staff_may_delete_anyones_board(bob: User, staff_client: Client) -> None:
    board = Board.objects.create(name="Kites", created_by=bob)

    response = staff_client.post(f"/gallery/boards/{board.pk}/delete")

    assert response.status_code == 302
    assert not Board.objects.filter(pk=board.pk).exists()
