"""In Chromium, with the keyboard alone: every page starts with a skip link to
its content, and every link and button shows a clear ring when focused."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from gallery.models import Board
from tests.gallery.conftest import make_image
from tests.generation.conftest import catalog  # noqa: F401 - the synced catalog

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    shadow: style.boxShadow,
    onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < window.innerHeight + 2000,
  };
}"""


def test_every_page_has_a_skip_link_and_a_visible_focus_ring(
    page: Any, live_server: Any, login: Any, staff: User
) -> None:
    image = make_image(staff, "a lantern in the snow")
    board = Board.objects.create(name="Lanterns", created_by=staff)
    board.items.create(image=image, added_by=staff)
    pages = [
        "/",
        "/gallery/",
        f"/gallery/{image.pk}/",
        "/gallery/boards/",
        f"/gallery/boards/{board.pk}/",
        "/history/",
        "/models/",
        "/costs/",
        "/profile/",
    ]
    page.goto(f"{live_server.url}/login/")  # the username field has the focus here
    assert page.get_attribute("[data-testid=skip-link]", "href") == "#main"
    login(staff)

    for path in pages:
        page.goto(f"{live_server.url}{path}")
        page.keyboard.press("Tab")
        skip = page.locator("[data-testid=skip-link]")
        assert page.evaluate("document.activeElement.dataset.testid") == "skip-link", path
        box = skip.bounding_box()
        assert box["y"] >= 0, path  # shown while focused
        assert box["height"] > 0, path
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main", path

        seen = 0
        for _ in range(12):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused["tag"] not in ("a", "button", "summary"):
                continue
            seen += 1
            assert focused["outline"] == "solid", (path, focused)
            assert focused["width"] >= 2, (path, focused)
        assert seen, path
