"""In a real Chromium: browse the Models page, filter it, open a model page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from catalog.models import ImageModel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browse_filter_and_open_a_model(
    synced: Any, page: Any, live_server: Any, login: Any, user: User
) -> None:
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        # Chromium asks for /favicon.ico on its own; the page declares an SVG icon.
        if msg.type == "error" and "favicon.ico" not in msg.location.get("url", ""):
            errors.append(msg.text)

    page.on("console", on_console)
    login(user)

    page.goto(f"{live_server.url}/models/")
    rows = page.locator("[data-testid=model-row]")
    assert rows.count() == ImageModel.objects.count()

    # Filters swap the results in place (htmx) and keep themselves in the URL.
    page.select_option("select[name=streaming]", "yes")
    page.wait_for_url("**streaming=yes**")
    page.locator("[data-testid=model-count]", has_text="6 models").wait_for()
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.slug)")) == [
        "openai/gpt-5-image",
        "openai/gpt-5-image-mini",
        "openai/gpt-5.4-image-2",
        "openai/gpt-image-1",
        "openai/gpt-image-1-mini",
        "openai/gpt-image-2",
    ]

    page.select_option("select[name=streaming]", "")
    page.select_option("select[name=param]", "input_references")
    page.fill("input[name=q]", "flux")
    page.locator("[data-testid=model-count]", has_text="4 models").wait_for()
    assert "param=input_references" in page.url

    page.click("text=Black Forest Labs: FLUX.2 [pro]")
    page.wait_for_url("**/models/black-forest-labs/flux.2-pro/")
    assert page.locator("h1").inner_text() == "Black Forest Labs: FLUX.2 [pro]"
    bfl = page.locator("[data-testid=endpoint][data-provider=black-forest-labs]")
    assert "$0.03 per megapixel" in bfl.locator("[data-testid=endpoint-prices]").inner_text()
    assert "Input references: up to 8" in bfl.inner_text()

    # Back restores the filtered list from the URL.
    page.go_back()
    page.wait_for_url("**param=input_references**")
    page.locator("[data-testid=model-count]", has_text="4 models").wait_for()
    assert errors == []


def test_the_filters_work_without_javascript(
    synced: Any, browser: Any, live_server: Any, user: User
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", "pw")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/models/")
        page.select_option("select[name=output]", "text")
        page.click("button:has-text('Apply')")
        page.wait_for_url("**output=text**")
        assert page.locator("[data-testid=model-count]").inner_text() == "7 models"
    finally:
        context.close()
