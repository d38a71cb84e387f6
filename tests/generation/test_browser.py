"""In Chromium, against Darkroom under uvicorn with a real worker: submit a prompt and
watch the job arrive live, without reloading."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog", "celery_worker"),
]


def log_in(page: Any, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_submit_watch_progress_and_see_the_image(page: Any, asgi_server: str, user: User) -> None:
    streams: list[str] = []
    page.on(
        "request",
        lambda request: streams.append(request.url) if "/events?" in request.url else None,
    )
    log_in(page, asgi_server, user)

    page.fill("textarea[name=prompt]", "a paper boat on a pond [emulator:latency=3]")
    page.select_option("select[name=model]", "openai/gpt-image-1")
    page.wait_for_load_state("networkidle")
    page.click("button:has-text('Generate')")

    card = page.locator("[data-testid=job-card]").first
    card.locator("[data-testid=job-previews] img").wait_for(timeout=20_000)
    assert card.get_attribute("data-status") in {"running", "streaming"}
    card.locator("[data-testid=job-images] img").wait_for(timeout=30_000)
    assert page.locator("[data-testid=job-card]").first.get_attribute("data-status") == "succeeded"
    image = page.locator("[data-testid=job-images] img").first
    loaded = page.evaluate(
        """(img) => img.complete ? img.naturalWidth : new Promise((done) => {
             img.addEventListener('load', () => done(img.naturalWidth));
             img.addEventListener('error', () => done(0));
           })""",
        image.element_handle(),
    )
    assert loaded > 0
    assert page.url == f"{asgi_server}/"  # never reloaded
    assert streams, "progress arrived over one server-sent event stream"


def test_bad_input_shows_a_message_on_the_field(page: Any, asgi_server: str, user: User) -> None:
    log_in(page, asgi_server, user)
    page.select_option("select[name=model]", "openai/gpt-image-1")
    page.wait_for_load_state("networkidle")

    page.click("button:has-text('Generate')")

    assert page.locator("textarea[name=prompt]:invalid").count() == 1  # the browser's own check
    page.evaluate("document.querySelector('textarea[name=prompt]').removeAttribute('required')")
    page.fill("textarea[name=prompt]", "   ")
    page.click("button:has-text('Generate')")
    page.locator(".errorlist").first.wait_for()
    assert "This field is required." in page.locator(".errorlist").first.inner_text()
