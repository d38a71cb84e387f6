"""In Chromium at a phone's width (390 px): the filters in a drawer, two columns
of tiles, a compact header, and no page that scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from gallery.models import Board
from generation.models import Status
from tests.gallery.conftest import add_image, make_image, make_job, png
from webapp import tokens

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

PHONE = {"width": 390, "height": 844}
LONG_PROMPT = (
    "an extraordinarily-detailed-isometric-cutaway-of-a-victorian-submarine-engine-room "
    "with brass pipes, valves, gauges and a sleeping cat, " * 3
)


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Any]:
    """A phone-sized, touch page; ``phone.login(user)`` logs in through the form."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)

    def login(user: User) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", "pw")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

    page.login = login
    yield page
    context.close()


def sideways_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    # Against the screen's width, not innerWidth: a phone's layout viewport
    # widens to fit content that overflows, hiding the very thing measured.
    return int(page.evaluate("document.documentElement.scrollWidth")) - PHONE["width"]


def seed(user: User, other: User) -> None:
    for index in range(5):
        make_image(user, f"a lantern {index}", data=png(size=(300 + 40 * index, 300)))
    job = make_job(other, LONG_PROMPT, model="google/gemini-2.5-flash-image", cost=Decimal("0.039"))
    for _ in range(4):
        add_image(job, data=png(size=(512, 256)))
    make_job(other, LONG_PROMPT, status=Status.FAILED, cost=None)


def test_the_gallery_on_a_phone_has_a_filter_drawer_and_two_columns(
    phone: Any, live_server: Any, user: User, make_user: Any
) -> None:
    seed(user, make_user("bob"))
    phone.login(user)
    phone.goto(f"{live_server.url}/gallery/")

    panel = phone.locator("[data-filter-panel]")
    toggle = phone.locator("[data-testid=filter-toggle]")
    assert toggle.is_visible()
    assert not panel.is_visible()  # the grid comes first
    tiles = phone.locator("[data-testid=gallery-tile]")
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first["y"] == second["y"]
    assert second["x"] > first["x"] + first["width"] - 1
    assert first["width"] < PHONE["width"] / 2

    toggle.click()
    panel.wait_for(state="visible")
    phone.wait_for_function(
        "el => el.getBoundingClientRect().left >= 0", arg=panel.element_handle()
    )  # slid in
    box = panel.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    assert toggle.get_attribute("aria-expanded") == "true"
    phone.select_option("select[name=author]", "bob")
    phone.wait_for_url(f"{live_server.url}/gallery/?author=bob")
    phone.wait_for_function(
        "() => document.querySelectorAll('[data-testid=gallery-tile]').length === 4"
    )
    phone.get_by_role("button", name="Done").click()
    panel.wait_for(state="hidden")
    assert sideways_overflow(phone) == 0


def test_no_page_scrolls_sideways_on_a_phone_and_the_header_is_compact(
    phone: Any, live_server: Any, staff: User, make_user: Any
) -> None:
    bob = make_user("bob")
    seed(staff, bob)
    image = make_image(bob, LONG_PROMPT, data=png(size=(900, 300)))
    board = Board.objects.create(name="A board with a rather long name indeed", created_by=bob)
    board.items.create(image=image, added_by=bob)
    tokens.create(staff, "a token with a long name for the laptop in the studio")
    phone.login(staff)
    for path in (
        "/",
        "/gallery/",
        f"/gallery/{image.pk}/",
        "/gallery/boards/",
        f"/gallery/boards/{board.pk}/",
        "/history/",
        "/costs/",
        "/models/",
        "/models/google/gemini-2.5-flash-image/",
        "/profile/",
    ):
        phone.goto(f"{live_server.url}{path}")
        assert sideways_overflow(phone) == 0, path
        header = phone.locator("header.topbar").bounding_box()
        assert header["height"] <= 96, path


def test_history_thumbnails_are_large_enough_to_judge(
    page: Any, phone: Any, live_server: Any, login: Any, user: User, make_user: Any
) -> None:
    seed(user, make_user("bob"))
    for viewer, minimum in ((page, 120), (phone, 100)):
        if viewer is page:
            login(user)
        else:
            viewer.login(user)
        viewer.goto(f"{live_server.url}/history/?q=submarine")
        thumb = viewer.locator("[data-testid=run-thumb]").first
        viewer.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        box = thumb.bounding_box()
        assert box["height"] >= minimum
        assert abs(box["width"] / box["height"] - 2) < 0.05
