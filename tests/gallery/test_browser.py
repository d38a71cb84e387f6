"""In Chromium against the live server: scroll the gallery, filter and search,
open an image, remix it, favourite it, put images on a board, download a zip,
delete; and a teammate who never sees someone's private image anywhere."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import User

from gallery import selectors
from gallery.models import Board
from generation.models import Image, Job
from tests.gallery.conftest import make_image

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

TILES = "[data-testid=gallery-tile]"


def wait_for_count(page: Any, selector: str, count: int) -> None:
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length === count",
        arg=[selector, count],
        polling=100,  # animation-frame polling stalled on this page in headless Chromium
    )


def test_scrolling_loads_more_until_everything_is_shown(
    page: Any, live_server: Any, login: Any, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "GALLERY_PAGE_SIZE", 12)
    images = [make_image(user, f"a lantern number {i}") for i in range(30)]
    login(user)

    page.goto(f"{live_server.url}/gallery/")
    assert page.locator(TILES).count() == 12
    counts = [12]
    # A reader scrolling to the bottom again and again: each time the marker
    # comes into view the next page loads in place (on a tall screen it may
    # load by itself), until the end of the list shows.
    for _ in range(100):
        if page.locator("[data-testid=the-end]").count():
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(150)  # pacing, as a reader's scrolling is
        if page.locator(TILES).count() != counts[-1]:
            counts.append(page.locator(TILES).count())

    page.locator("[data-testid=the-end]").wait_for()
    # The last page (its tiles and the end marker in one swap) may land after
    # the loop's last count, so count once more.
    if page.locator(TILES).count() != counts[-1]:
        counts.append(page.locator(TILES).count())
    assert counts[-1] == 30, counts
    assert counts == sorted(counts), counts
    shown = page.locator(TILES).evaluate_all("tiles => tiles.map(t => t.dataset.image)")
    assert shown == [str(image.pk) for image in reversed(images)]
    assert page.url == f"{live_server.url}/gallery/"  # loaded in place


def test_filter_and_search_update_the_results_and_the_url(
    page: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    bob = make_user("bob")
    make_image(user, "a lighthouse at dusk")
    make_image(bob, "lighthouses in a storm")
    make_image(bob, "a paper boat")
    login(user)
    page.goto(f"{live_server.url}/gallery/")
    assert page.locator(TILES).count() == 3

    page.fill("[data-testid=search]", "lighthouse")
    wait_for_count(page, TILES, 2)
    page.wait_for_url(f"{live_server.url}/gallery/?q=lighthouse")
    page.select_option("select[name=author]", "bob")
    wait_for_count(page, TILES, 1)
    page.wait_for_url(f"{live_server.url}/gallery/?q=lighthouse&author=bob")
    assert "lighthouses in a storm" in page.locator(TILES).inner_text()

    page.reload()  # the filter lives in the URL
    assert page.locator(TILES).count() == 1
    assert page.input_value("[data-testid=search]") == "lighthouse"


def test_open_an_image_favourite_it_and_remix_it(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    image = make_image(user, "a copper kettle on a stove", params={"quality": "low"})
    login(user)
    page.goto(f"{live_server.url}/gallery/")

    page.locator(f"{TILES} a.tile-link").first.click()  # opens the viewer
    page.click("[data-testid=lightbox-details]")
    page.wait_for_url(f"{live_server.url}/gallery/{image.pk}/")
    assert page.locator("[data-testid=prompt]").inner_text() == "a copper kettle on a stove"
    full = page.locator("[data-testid=full-image]")
    full.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=full.element_handle())

    page.click("[data-testid=favourite]")
    page.locator("[data-testid=favourite][aria-pressed=true]").wait_for()
    assert page.locator("[data-testid=favourite-count]").inner_text() == "1"
    assert page.url == f"{live_server.url}/gallery/{image.pk}/"  # swapped in place

    page.click("[data-testid=remix]")
    page.wait_for_url(f"{live_server.url}/?remix={image.job_id}")
    assert page.locator("[data-testid=remixing]").is_visible()
    assert page.input_value("textarea[name=prompt]") == "a copper kettle on a stove"
    assert page.input_value("select[name=model]") == "openai/gpt-image-1"
    assert page.input_value("select[name=opt__quality]") == "low"


def test_select_images_to_add_to_a_board_download_a_zip_and_delete(
    page: Any, live_server: Any, login: Any, user: User
) -> None:
    first = make_image(user, "a red kite")
    second = make_image(user, "a blue kite")
    third = make_image(user, "a green kite")
    login(user)
    page.goto(f"{live_server.url}/gallery/")

    page.check(f"input[name=image][value='{second.pk}']")
    page.check(f"input[name=image][value='{third.pk}']")
    page.locator("[data-selection-count]", has_text="2 selected").wait_for()
    page.fill("input[name=new_board]", "Kites")
    page.click("button[value=board]")
    board = Board.objects.get(name="Kites")
    page.wait_for_url(f"{live_server.url}/gallery/boards/{board.pk}/")
    assert "Added 2 images to the board “Kites”." in page.inner_text(".messages")
    assert sorted(page.locator(TILES).evaluate_all("ts => ts.map(t => t.dataset.image)")) == sorted(
        [str(second.pk), str(third.pk)]
    )

    page.goto(f"{live_server.url}/gallery/")
    page.check("[data-select-all]")
    with page.expect_download() as download_info:
        page.click("[data-testid=download-zip]")
    download = download_info.value
    assert download.suggested_filename.startswith("darkroom-3-images-")
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    assert sorted(archive.namelist()) == [
        "darkroom-a-blue-kite-gpt-image-1-1.png",
        "darkroom-a-green-kite-gpt-image-1-1.png",
        "darkroom-a-red-kite-gpt-image-1-1.png",
    ]

    page.goto(f"{live_server.url}/gallery/")
    page.check(f"input[name=image][value='{first.pk}']")
    page.click("button[value=delete]")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_url(f"{live_server.url}/gallery/")
    assert "Deleted 1 image." in page.inner_text(".messages")
    assert page.locator(TILES).count() == 2
    assert not Image.objects.filter(pk=first.pk).exists()


def test_a_teammate_never_sees_a_private_image(
    page: Any, browser: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    secret = make_image(user, "my secret greenhouse", private=True)
    make_image(user, "a public greenhouse")
    bob = make_user("bob")
    login(user)
    page.goto(f"{live_server.url}/gallery/?q=greenhouse")
    assert page.locator(TILES).count() == 2  # the author sees both

    context = browser.new_context()
    other = context.new_page()
    other.goto(f"{live_server.url}/login/")
    other.fill("input[name=username]", bob.get_username())
    other.fill("input[name=password]", "pw")
    other.click("button[type=submit]")
    other.wait_for_url(lambda url: "/login/" not in url)

    for path in ("/gallery/", "/gallery/?q=greenhouse", "/history/?q=greenhouse", "/history/"):
        other.goto(f"{live_server.url}{path}")
        assert "secret" not in other.content(), path
    assert other.locator(TILES).count() == 0  # history page: no tiles either way
    other.goto(f"{live_server.url}/gallery/?q=greenhouse")
    assert other.locator(TILES).count() == 1
    for path in (
        f"/gallery/{secret.pk}/",
        f"/media/{secret.pk}/original",
        f"/media/{secret.pk}/thumbnail",
        f"/media/{secret.pk}/original?download=1",
    ):
        response = other.request.get(f"{live_server.url}{path}")
        assert response.status == 404, path
    context.close()


def test_history_copies_a_prompt_and_runs_it_again(
    page: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    original = make_image(make_user("bob"), "a brass compass on a map", params={"quality": "low"})
    login(user)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/history/")
    group = page.locator("[data-testid=prompt-group]").first

    group.get_by_role("button", name="Copy prompt").click()
    group.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "a brass compass on a map"

    # The job page watches its job over server-sent events, which the WSGI live
    # server would hold open for good: this test only needs the page itself.
    page.route("**/events?*", lambda route: route.abort())
    # Run again says what it costs and asks before anything is spent.
    group.locator("[data-testid=run-again-open]").click()
    confirm = group.locator("[data-testid=run-again]")
    confirm.wait_for()
    assert "It will cost about $0.05" in " ".join(confirm.inner_text().split())
    assert Job.objects.count() == 1  # nothing queued yet
    confirm.get_by_role("button", name="Spend about $0.05").click()
    page.wait_for_url(lambda url: "/jobs/" in url)
    new = Job.objects.exclude(pk=original.job_id).get()
    assert page.url == f"{live_server.url}/jobs/{new.pk}/"
    assert (new.author, new.prompt, new.params["quality"]) == (
        user,
        "a brass compass on a map",
        "low",
    )
