"""The Generate page, job cards, the comparison view and My usage, in Chromium against
Darkroom under uvicorn (a real worker where a job must run)."""

from __future__ import annotations

import io
import itertools
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image as PILImage
from playwright.sync_api import expect

from costs import budgets
from generation import storage
from generation.models import Batch, GenerationPreference, Image, Job, Status
from tests.generation.conftest import job_request, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog"),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def log_in(page: Any, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def waiting_job(user: User, prompt: str, slug: str = "openai/gpt-image-1", **fields: Any) -> Job:
    """A job written straight to the table and never enqueued: no worker takes it."""
    request = job_request(slug, prompt)
    return Job.objects.create(
        author=user,
        model=request.model,
        model_slug=slug,
        endpoint=request.endpoint,
        style=request.style,
        prompt=prompt,
        **fields,
    )


def png_bytes(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


def loaded_width(page: Any, image: Any) -> int:
    """The image's pixel width once it has loaded (0 if it cannot)."""
    return int(
        page.evaluate(
            """(img) => img.complete ? img.naturalWidth : new Promise((done) => {
                 img.addEventListener('load', () => done(img.naturalWidth));
                 img.addEventListener('error', () => done(0));
               })""",
            image.element_handle(),
        )
    )


def no_sideways_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# Broken today


def test_a_canceled_card_shows_what_it_was_charged(page: Any, asgi_server: str, user: User) -> None:
    charged = waiting_job(
        user,
        "canceled after the call",
        status=Status.CANCELED,
        actual_cost=Decimal("0.0400"),
        error_message="Canceled before it finished.",
        finished_at=timezone.now(),
    )
    waiting = waiting_job(user, "cancel me while I wait")
    log_in(page, asgi_server, user)

    card = page.locator(f"#job-{waiting.pk}")
    card.locator("button:has-text('Cancel')").click()
    page.locator(f"#job-{waiting.pk}[data-status=canceled]").wait_for()

    assert page.locator(f"#job-{waiting.pk} [data-testid=job-charge]").inner_text() == (
        "Not charged"
    )
    assert (
        "Charged $0.0400"
        in page.locator(f"#job-{charged.pk} [data-testid=job-charge]").inner_text()
    )


def test_deleting_images_does_not_make_a_job_a_charge_without_image(
    page: Any, asgi_server: str, staff: User
) -> None:
    job = waiting_job(
        staff,
        "a lighthouse whose image was deleted",
        status=Status.SUCCEEDED,
        actual_cost=Decimal("0.05"),
        finished_at=timezone.now(),
    )
    refused = waiting_job(
        staff,
        "a refusal that was charged",
        status=Status.FAILED,
        actual_cost=Decimal("0.01"),
        error_code="refused",
        finished_at=timezone.now(),
    )
    assert not Image.objects.filter(job=job).exists()
    log_in(page, asgi_server, staff)

    page.goto(f"{asgi_server}/costs/")
    section = page.locator("section:has(h2:has-text('Charges that produced no image'))")

    assert refused.prompt[:20] in section.inner_text()
    assert job.prompt[:20] not in section.inner_text()


def test_a_rate_limited_job_counts_down_once_and_truly(
    page: Any, asgi_server: str, user: User, celery_worker: Any
) -> None:
    job = submit(
        user, "openai/gpt-image-1", "a rate-limited fox [emulator:fail=429,retry_after=20]"
    )
    deadline = timezone.now() + timedelta(seconds=30)
    while not Job.objects.filter(pk=job.pk, transient_failures__gt=0).exists():
        assert timezone.now() < deadline, "the job was never rate limited"
        time.sleep(0.1)
    log_in(page, asgi_server, user)

    live = page.locator(f"#job-{job.pk} [data-testid=job-live]")
    live.locator("[data-testid=job-countdown]").wait_for()
    text = live.inner_text().lower()
    first = int(live.locator(".countdown").inner_text().split()[0])
    # It ticks down between server updates (which agree with it).
    seconds = [first]
    while seconds[-1] > first - 3 and len(seconds) < 40:
        page.wait_for_timeout(250)
        seconds.append(int(live.locator(".countdown").inner_text().split()[0]))

    assert text.count("again in") == 1, text
    assert "rate limiting" in text
    assert 10 <= first <= 20
    assert seconds[-1] <= first - 3, seconds
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(seconds)), seconds
    Job.objects.filter(pk=job.pk).update(status=Status.CANCELED)


# Generate


def test_prompt_model_and_generate_sit_together_and_stay_in_view(
    page: Any, asgi_server: str, user: User
) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        log_in(page, asgi_server, user) if viewport is DESKTOP else page.goto(f"{asgi_server}/")
        assert in_viewport(page, "textarea[name=prompt]")
        assert in_viewport(page, "select[name=model]")
        assert in_viewport(page, "[data-testid=generate]")
        assert not page.locator("select[name=style]").is_visible()  # inside Advanced, closed
        page.locator("[data-testid=advanced] > summary").click()
        page.locator("select[name=style]").wait_for()
        page.mouse.wheel(0, 400)
        assert in_viewport(page, "[data-testid=generate]")  # sticky
        assert no_sideways_scroll(page)
        assert "provider.options" not in page.locator("main").inner_text()


def test_ctrl_enter_submits_and_errors_sit_next_to_the_field(
    page: Any, asgi_server: str, user: User
) -> None:
    log_in(page, asgi_server, user)
    page.evaluate("document.querySelector('textarea[name=prompt]').removeAttribute('required')")
    page.fill("textarea[name=prompt]", "   ")
    page.locator("textarea[name=prompt]").press("Control+Enter")
    page.locator(".composer-prompt .errorlist").wait_for()
    assert "required" in page.locator(".composer-prompt .errorlist").inner_text()

    page.fill("textarea[name=prompt]", "a kite over dunes")
    page.locator("textarea[name=prompt]").press("Control+Enter")
    page.locator("[data-testid=job-card]").first.wait_for()
    assert Job.objects.filter(author=user, prompt="a kite over dunes").count() == 1


def test_provider_options_get_typed_controls_and_are_checked_before_queueing(
    page: Any, asgi_server: str, user: User
) -> None:
    log_in(page, asgi_server, user)
    page.select_option("select[name=model]", "black-forest-labs/flux.2-pro")
    page.locator("input[name=opt__provider_options__steps]").wait_for(state="attached")
    page.locator("[data-testid=advanced] > summary").click()

    steps = page.locator("input[name=opt__provider_options__steps]")
    assert steps.get_attribute("type") == "number"
    assert (steps.get_attribute("min"), steps.get_attribute("max")) == ("1", "50")
    assert page.locator("select[name=opt__aspect_ratio]").count() == 1  # enum
    assert (
        page.locator("input[type=checkbox][name=opt__provider_options__prompt_upsampling]").count()
        == 1
    )
    assert "provider.options" not in page.locator("main").inner_text()

    page.fill("textarea[name=prompt]", "a harbour at dawn")
    steps.evaluate("(el) => { el.type = 'text'; el.value = 'lots'; }")
    page.click("[data-testid=generate]")
    error = page.locator(".field:has(input[name=opt__provider_options__steps]) .errorlist")
    error.wait_for()
    assert "whole number" in error.inner_text()
    assert not Job.objects.filter(author=user).exists()

    page.select_option("select[name=model]", "sourceful/riverflow-v2.5-fast")
    page.locator("input[type=color][data-color-for]").first.wait_for(state="attached")
    picker = page.locator("input[type=color][data-color-for]").first
    page.locator("[data-testid=advanced]").evaluate("(el) => el.open = true")
    picker.fill("#ff8000")
    target = picker.get_attribute("data-color-for")
    assert page.locator(f"#{target}").input_value() == "#ff8000"


def test_default_model_is_the_teams_most_used_and_the_last_choice_is_remembered(
    page: Any, asgi_server: str, user: User, make_user: Any
) -> None:
    log_in(page, asgi_server, user)
    # No history: the cheapest model, not the first in the list.
    first = page.locator("select[name=model] option").first.get_attribute("value")
    chosen = page.locator("select[name=model]").input_value()
    assert chosen != first
    assert chosen == "x-ai/grok-imagine-image-quality"

    other = make_user("teammate")
    for _ in range(3):
        waiting_job(other, "the team likes this one", "openai/gpt-image-1-mini")
    page.goto(f"{asgi_server}/")
    assert page.locator("select[name=model]").input_value() == "openai/gpt-image-1-mini"

    with page.expect_response(lambda r: "/generate/options" in r.url):
        page.select_option("select[name=model]", "black-forest-labs/flux.2-pro")
    page.wait_for_load_state("networkidle")
    page.locator("[data-testid=advanced] > summary").click()
    page.select_option("select[name=opt__aspect_ratio]", "16:9")
    page.fill("textarea[name=prompt]", "remember me")
    page.click("[data-testid=generate]")
    page.locator("[data-testid=job-card]:has-text('remember me')").wait_for()

    page.goto(f"{asgi_server}/")
    assert page.locator("select[name=model]").input_value() == "black-forest-labs/flux.2-pro"
    assert page.locator("select[name=opt__aspect_ratio]").input_value() == "16:9"
    assert GenerationPreference.objects.get(user=user).options["aspect_ratio"] == "16:9"


def test_results_grid_newest_first_with_moving_progress(
    page: Any, asgi_server: str, user: User
) -> None:
    older = waiting_job(user, "the older job")
    newer = waiting_job(user, "the newer job")
    page.set_viewport_size(DESKTOP)
    log_in(page, asgi_server, user)

    cards = page.locator(".results-grid [data-testid=job-card]")
    assert cards.nth(0).get_attribute("id") == f"job-{newer.pk}"
    assert cards.nth(1).get_attribute("id") == f"job-{older.pk}"
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.results-grid')).gridTemplateColumns.split(' ').length"
    )
    assert columns >= 2
    card = page.locator(f"#job-{newer.pk}")
    assert card.locator("progress:not([value])").count() == 1  # indeterminate while waiting
    assert card.locator("[data-testid=job-live]").get_attribute("aria-live") == "polite"
    assert "in the queue" in card.locator("[data-testid=queue-place]").inner_text()
    elapsed = card.locator("[data-testid=job-elapsed]").inner_text()
    expect(card.locator("[data-testid=job-elapsed]")).not_to_have_text(elapsed)

    page.click("[data-testid=all-my-jobs]")
    page.wait_for_url(f"{asgi_server}/usage/#my-jobs")
    assert "the older job" in page.locator("[data-testid=usage-jobs]").inner_text()


def test_references_follow_the_model_survive_errors_and_come_from_the_gallery(
    page: Any, asgi_server: str, user: User, tmp_path: Path
) -> None:
    log_in(page, asgi_server, user)
    page.select_option("select[name=model]", "microsoft/mai-image-2.5")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=references]").count() == 0
    page.select_option("select[name=model]", "openai/gpt-image-1")
    page.locator("[data-testid=references]").wait_for()

    picture = tmp_path / "sketch.png"
    picture.write_bytes(png_bytes())
    page.set_input_files("input[name=references]", str(picture))
    page.evaluate("document.querySelector('textarea[name=prompt]').removeAttribute('required')")
    page.click("[data-testid=generate]")
    page.locator(".composer-prompt .errorlist").wait_for()
    kept = page.locator("[data-testid=kept-references] img")
    assert kept.count() == 1
    assert loaded_width(page, kept) == 64

    # Dropped and pasted images join the upload.
    page.evaluate(
        """async () => {
          const canvas = document.createElement('canvas'); canvas.width = 8; canvas.height = 8;
          const blob = await new Promise(r => canvas.toBlob(r, 'image/png'));
          const transfer = new DataTransfer();
          transfer.items.add(new File([blob], 'dropped.png', {type: 'image/png'}));
          const zone = document.querySelector('[data-dropzone]');
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
          const paste = new DataTransfer();
          paste.items.add(new File([blob], 'pasted.png', {type: 'image/png'}));
          document.querySelector('textarea[name=prompt]').dispatchEvent(
            new ClipboardEvent('paste', {clipboardData: paste, bubbles: true, cancelable: true}));
        }"""
    )
    assert page.evaluate("document.querySelector('input[name=references]').files.length") == 2
    assert page.locator("[data-testid=new-reference]").count() == 2

    page.fill("textarea[name=prompt]", "from my sketch")
    page.click("[data-testid=generate]")
    card = page.locator("[data-testid=job-card]:has-text('from my sketch')")
    card.wait_for()
    job = Job.objects.get(author=user, prompt="from my sketch")
    assert len(job.references) == 3
    assert card.locator("[data-testid=job-references] img").count() == 3
    page.goto(f"{asgi_server}/jobs/{job.pk}/")
    thumb = page.locator("[data-testid=job-page-references] img").first
    assert loaded_width(page, thumb) == 64

    done = waiting_job(
        user, "a finished image", status=Status.SUCCEEDED, finished_at=timezone.now()
    )
    key = storage.put(f"test/{uuid.uuid4()}.png", png_bytes("blue"))
    image = Image.objects.create(
        job=done,
        index=0,
        original_key=key,
        thumbnail_key=key,
        media_type="image/png",
        width=64,
        height=48,
        bytes=100,
        sha256=uuid.uuid4().hex,
    )
    page.goto(f"{asgi_server}/?reference={image.pk}")
    assert page.locator("[data-testid=kept-references] img").count() == 1


def test_estimate_covers_everything_queued_and_warns_over_budget(
    page: Any, asgi_server: str, user: User
) -> None:
    budgets.set_budget(user, Decimal("0.20"))
    log_in(page, asgi_server, user)
    with page.expect_response(lambda r: "/generate/options" in r.url):
        page.select_option("select[name=model]", "openai/gpt-image-1-mini")
    page.wait_for_load_state("networkidle")
    page.locator("[data-testid=advanced] > summary").click()
    page.fill("textarea[name=prompt]", "three foxes")

    page.locator("input[name=opt__n]").fill("2")
    page.locator("input[name=opt__n]").press("Tab")  # leaving the field is a change
    expect(page.locator("[data-testid=estimate]")).to_contain_text("× 2 images")
    page.locator("[data-testid=compare] > summary").click()
    page.check("input[name=compare][value='openai/gpt-image-1']")
    estimate = page.locator("[data-testid=estimate]")
    expect(estimate.locator("[data-testid=estimate-total]")).to_contain_text("for 2 models")
    estimate.locator("summary").click()
    rows = estimate.locator("[data-testid=estimate-rows] li").all_inner_texts()

    assert any("GPT Image 1 Mini" in row and "× 2 images" in row for row in rows), rows
    assert any(row.endswith("GPT Image 1: $0.1664") for row in rows), rows
    assert "for 2 models" in estimate.locator("[data-testid=estimate-total]").inner_text()
    assert estimate.locator("[data-testid=simulated]").count() == 1
    warning = estimate.locator("[data-testid=budget-warning]")
    assert "your monthly budget" in warning.inner_text()


def test_compare_lands_on_the_side_by_side_view(
    page: Any, asgi_server: str, user: User, celery_worker: Any
) -> None:
    log_in(page, asgi_server, user)
    page.select_option("select[name=model]", "openai/gpt-image-1-mini")
    page.wait_for_load_state("networkidle")
    page.fill("textarea[name=prompt]", "a red bicycle")
    page.locator("[data-testid=compare] > summary").click()
    item = page.locator(".compare-item:has(input[value='x-ai/grok-imagine-image-quality'])")
    assert "$0.01" in item.inner_text()  # each model with its price
    item.locator("input").check()
    page.click("[data-testid=generate]")

    page.wait_for_url(lambda url: "/jobs/" in url)
    batch = Batch.objects.get(author=user)
    primary = batch.jobs.get(model_slug="openai/gpt-image-1-mini")
    assert page.url.endswith(f"/jobs/{primary.pk}/")
    cells = page.locator(".compare-grid [data-testid=job-card]")
    assert cells.count() == 2
    assert cells.first.get_attribute("id") == f"job-{primary.pk}"
    page.locator(".compare-grid [data-testid=job-card][data-status=succeeded]").nth(1).wait_for(
        timeout=45_000
    )
    page.reload()
    assert page.locator("[data-testid=batch-prompt]").count() == 1
    assert not page.locator(".compare-grid .job-prompt").first.is_visible()  # the prompt once
    total = sum((job.charge or Decimal(0)) for job in batch.jobs.all())
    assert f"${total:.4f}" in page.locator("[data-testid=batch-total]").inner_text()
    for index in range(2):
        cell = page.locator(".compare-grid [data-testid=job-card]").nth(index)
        assert "Charged $" in cell.locator("[data-testid=job-charge]").inner_text()
        assert cell.locator("[data-testid=job-time]").inner_text().endswith(" s")


# For members


def test_my_usage_shows_spend_against_budgets_by_model_and_my_jobs(
    page: Any, asgi_server: str, user: User, make_user: Any
) -> None:
    budgets.set_budget(user, Decimal("5"))
    budgets.set_budget(None, Decimal("50"))
    for cost, slug in (
        ("0.50", "openai/gpt-image-1"),
        ("0.25", "openai/gpt-image-1"),
        ("1.00", "black-forest-labs/flux.2-pro"),
    ):
        waiting_job(
            user,
            f"a job costing {cost}",
            slug,
            status=Status.SUCCEEDED,
            actual_cost=Decimal(cost),
            finished_at=timezone.now(),
        )
    waiting_job(
        make_user("other"), "someone else's", actual_cost=Decimal("3"), status=Status.SUCCEEDED
    )
    log_in(page, asgi_server, user)
    page.click("nav a:has-text('My usage')")
    page.wait_for_url(f"{asgi_server}/usage/")

    own = page.locator("[data-testid=usage-own]").inner_text()
    assert "$1.75" in own
    assert "$5.00" in own
    assert "$3.25 left" in own
    assert "$4.75" in page.locator("[data-testid=usage-team]").inner_text()
    by_model = page.locator("[data-testid=usage-by-model] tbody tr").all_inner_texts()
    assert "FLUX.2 [pro]" in by_model[0]  # models by their names, not their ids
    assert "$1.0000" in by_model[0]
    assert "GPT Image 1" in by_model[1]
    assert "$0.7500" in by_model[1]
    top = page.locator("[data-testid=usage-top-jobs] li").all_inner_texts()
    assert "costing 1.00" in top[0]
    jobs = page.locator("[data-testid=usage-jobs]").inner_text()
    assert jobs.count("a job costing") == 3
    assert "someone else's" not in jobs


def test_screenshots_of_the_studio_pages_at_both_widths(
    page: Any, asgi_server: str, user: User
) -> None:
    for n in range(3):
        waiting_job(
            user,
            f"a finished job {n}",
            status=Status.SUCCEEDED,
            actual_cost=Decimal("0.04"),
            finished_at=timezone.now(),
        )
    waiting_job(user, "a job waiting for a worker")
    batch = Batch.objects.create(author=user, prompt="a compared prompt")
    first = waiting_job(
        user,
        "a compared prompt",
        batch=batch,
        status=Status.SUCCEEDED,
        actual_cost=Decimal("0.04"),
        upstream_seconds=3.2,
    )
    waiting_job(user, "a compared prompt", "x-ai/grok-imagine-image-quality", batch=batch)
    log_in(page, asgi_server, user)
    for label, viewport in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in (
            ("generate", "/"),
            ("compare", f"/jobs/{first.pk}/"),
            ("usage", "/usage/"),
        ):
            page.goto(f"{asgi_server}{path}")
            page.wait_for_load_state("networkidle")
            assert no_sideways_scroll(page), f"{name} scrolls sideways at {label} px"
            if name == "generate":
                assert in_viewport(page, "[data-testid=generate]")
            shoot(page, f"studio-{name}-{label}")
            if viewport is PHONE:  # what a phone shows before any scrolling
                page.screenshot(path=str(SCREENSHOTS / f"studio-{name}-{label}-first-screen.png"))
