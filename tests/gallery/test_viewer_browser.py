"""In Chromium: the gallery's viewer (arrows, Esc, F, D, zoom), the actions on
a tile, tiles at the image's own shape, and filters that live in the URL so
that the back button restores them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from gallery.models import Favourite
from tests.gallery.conftest import make_image, png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

TILES = "[data-testid=gallery-tile]"
LIGHTBOX = "[data-testid=lightbox]"


def shown_original(page: Any) -> str:
    return str(page.get_attribute("[data-testid=lightbox-image]", "src"))


def test_the_viewer_steps_with_arrows_favourites_downloads_zooms_and_closes(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    oldest = make_image(user, "a tin robot", data=png(size=(400, 200)))
    middle = make_image(user, "a wooden horse", data=png(size=(1000, 2000)))
    newest = make_image(user, "a paper crane", data=png(size=(300, 300)))
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    assert not page.locator(LIGHTBOX).is_visible()

    page.locator(f"{TILES}[data-image='{newest.pk}'] a.tile-link").click()
    page.locator(LIGHTBOX).wait_for()
    assert shown_original(page) == f"/media/{newest.pk}/original"
    assert page.url == f"{live_server.url}/gallery/"  # a viewer over the grid, not a new page
    assert "a paper crane" in page.inner_text("[data-lightbox-prompt]")
    assert (
        page.get_attribute("[data-testid=lightbox-reference]", "href") == f"/?reference={newest.pk}"
    )
    assert page.get_attribute("[data-testid=lightbox-remix]", "href") == f"/?remix={newest.job_id}"

    page.keyboard.press("ArrowRight")
    assert shown_original(page) == f"/media/{middle.pk}/original"
    page.keyboard.press("ArrowRight")
    assert shown_original(page) == f"/media/{oldest.pk}/original"
    page.keyboard.press("ArrowRight")  # the last one stays
    assert shown_original(page) == f"/media/{oldest.pk}/original"
    page.keyboard.press("ArrowLeft")
    assert shown_original(page) == f"/media/{middle.pk}/original"
    assert page.inner_text("[data-lightbox-position]") == "2 of 3"

    page.keyboard.press("f")
    page.locator("[data-testid=lightbox-favourite][aria-pressed=true]").wait_for()
    page.locator(
        f"{TILES}[data-image='{middle.pk}'] [data-testid=tile-favourite][aria-pressed=true]"
    ).wait_for()
    assert Favourite.objects.filter(user=user, image=middle).exists()
    page.keyboard.press("F")
    page.locator("[data-testid=lightbox-favourite][aria-pressed=false]").wait_for()
    assert not Favourite.objects.filter(user=user, image=middle).exists()

    with page.expect_download() as download_info:
        page.keyboard.press("d")
    assert download_info.value.suggested_filename.endswith(".png")

    image = page.locator("[data-testid=lightbox-image]")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    fitted = image.bounding_box()
    page.keyboard.press("z")
    page.locator("[data-testid=lightbox-zoom][aria-pressed=true]").wait_for()
    zoomed = image.bounding_box()
    assert fitted["height"] < 900  # fitted to the screen
    assert zoomed["height"] == 2000  # full size
    image.click()  # a click zooms back out
    page.locator("[data-testid=lightbox-zoom][aria-pressed=false]").wait_for()

    page.keyboard.press("Escape")
    page.locator(LIGHTBOX).wait_for(state="hidden")
    # Focus returns to the tile last shown (the dialog's close event moves it
    # there just after the browser's own restore to the opener).
    expect(page.locator(f"[data-image='{middle.pk}'] [data-lightbox]").first).to_be_focused()


def test_the_viewer_loads_the_next_page_when_stepping_past_the_last_tile(
    page: Any, live_server: Any, login: Any, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gallery import selectors as gallery

    monkeypatch.setattr(gallery, "GALLERY_PAGE_SIZE", 4)
    images = [make_image(user, f"a glass marble {i}") for i in range(5)]
    page.set_viewport_size({"width": 1280, "height": 420})  # "more" far below the fold
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    assert page.locator(TILES).count() == 4

    page.locator(f"{TILES} a.tile-link").first.click()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "src => document.querySelector('[data-testid=lightbox-image]').getAttribute('src') === src",
        arg=f"/media/{images[0].pk}/original",
    )
    assert page.locator(TILES).count() == 5


def test_tiles_keep_the_shape_of_their_image(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    wide = make_image(user, "a long train", data=png(size=(640, 320)))
    tall = make_image(user, "a tall tower", data=png(size=(300, 600)))
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    for image, ratio in ((wide, 2.0), (tall, 0.5)):
        thumb = page.locator(f"{TILES}[data-image='{image.pk}'] img")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        box = thumb.bounding_box()
        assert abs(box["width"] / box["height"] - ratio) < 0.02, image.job.prompt


def test_a_tile_offers_favourite_remix_and_use_as_reference_on_hover(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    image = make_image(user, "a copper kettle", params={"quality": "low"})
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    tile = page.locator(f"{TILES}[data-image='{image.pk}']")
    remix = tile.locator("[data-testid=tile-remix]")
    assert remix.evaluate("el => getComputedStyle(el).opacity") == "0"
    tile.hover()
    page.wait_for_function("el => getComputedStyle(el).opacity === '1'", arg=remix.element_handle())

    tile.locator("[data-testid=tile-favourite]").click()
    tile.locator("[data-testid=tile-favourite][aria-pressed=true]").wait_for()
    assert tile.locator("[data-testid=tile-favourite-count]").inner_text() == "1"
    assert Favourite.objects.filter(user=user, image=image).exists()
    assert page.url == f"{live_server.url}/gallery/"

    reference = tile.locator("[data-testid=tile-reference]")
    assert reference.get_attribute("href") == f"/?reference={image.pk}"
    tile.hover()
    remix.click()
    page.wait_for_url(f"{live_server.url}/?remix={image.job_id}")
    assert page.input_value("textarea[name=prompt]") == "a copper kettle"
    assert page.input_value("select[name=model]") == "openai/gpt-image-1"


def test_filter_changes_are_in_the_url_and_back_restores_them(
    page: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    bob = make_user("bob")
    make_image(user, "a lighthouse")
    make_image(bob, "a lighthouse in fog", model="google/gemini-2.5-flash-image")
    make_image(bob, "a harbour")
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    assert page.locator(TILES).count() == 3

    page.select_option("select[name=author]", "bob")
    page.wait_for_url(f"{live_server.url}/gallery/?author=bob")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=gallery-tile]').length === 2"
    )
    page.select_option("select[name=model]", "google/gemini-2.5-flash-image")
    page.wait_for_url(
        f"{live_server.url}/gallery/?author=bob&model=google%2Fgemini-2.5-flash-image"
    )
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=gallery-tile]').length === 1"
    )

    page.go_back()
    page.wait_for_url(f"{live_server.url}/gallery/?author=bob")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=gallery-tile]').length === 2"
    )
    assert page.input_value("select[name=author]") == "bob"
    assert page.input_value("select[name=model]") == ""
    page.go_back()
    page.wait_for_url(f"{live_server.url}/gallery/")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=gallery-tile]').length === 3"
    )
    assert page.input_value("select[name=author]") == ""
