"""The Generate page, job pages and image serving, through Django's test client."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient, Client
from PIL import Image as PILImage

from costs.models import Budget
from generation.models import Job, Status, Style
from tests.concurrency import run_async
from tests.generation.conftest import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]


def test_generate_page_offers_models_grouped_with_their_options(user_client: Client) -> None:
    page = user_client.get("/").text

    assert '<optgroup label="openai">' in page
    assert 'value="openai/gpt-image-1"' in page
    assert 'id="options"' in page
    assert "Estimated cost: $" in page


def test_options_swap_to_the_chosen_model_and_style(user_client: Client) -> None:
    response = user_client.get(
        "/generate/options",
        {"model": "google/gemini-3.1-flash-image-preview", "style": "chat"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<div id="options"')
    assert "0.5K" in html  # image_size incl. 0.5K for this model only
    assert "1:8" in html  # and the extended aspect ratios


def test_estimate_follows_the_form(user_client: Client) -> None:
    response = user_client.post(
        "/generate/estimate",
        {"prompt": "x", "model": "bytedance-seed/seedream-4.5", "style": "images", "opt__n": "3"},
    )

    assert response.status_code == 200
    assert "Estimated cost: $" in response.text
    assert "× $" in response.text


def test_submit_queues_a_job_after_commit_and_shows_it(
    user_client: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post(
            "/",
            {
                "prompt": "a red bicycle",
                "model": "openai/gpt-image-1",
                "style": "images",
                "opt__quality": "low",
                "opt__n": "2",
            },
        )

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.author, job.prompt, job.status, job.n) == (user, "a red bicycle", Status.QUEUED, 2)
    assert job.params["quality"] == "low"
    assert job.estimated_cost > 0
    assert len(callbacks) == 1


def test_bad_input_rerenders_with_field_messages(user_client: Client) -> None:
    response = user_client.post(
        "/",
        {"prompt": "", "model": "openai/gpt-image-1", "style": "images", "opt__n": "99"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not Job.objects.exists()


def test_unknown_model_is_a_message_not_a_crash(user_client: Client) -> None:
    response = user_client.post("/", {"prompt": "x", "model": "nobody/nothing", "style": "images"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.text


def test_compare_creates_one_batch(
    user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        user_client.post(
            "/",
            {
                "prompt": "a teapot",
                "model": "openai/gpt-image-1",
                "style": "images",
                "compare": ["black-forest-labs/flux.2-pro", "google/gemini-2.5-flash-image"],
            },
        )

    jobs = list(Job.objects.all())
    assert len(jobs) == 3
    assert len({job.batch_id for job in jobs}) == 1
    assert jobs[0].batch_id is not None


def test_reference_upload_is_verified_and_stored(
    user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    picture = io.BytesIO()
    PILImage.new("RGB", (64, 64), (1, 2, 3)).save(picture, format="PNG")
    picture.seek(0)
    picture.name = "ref.png"
    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(
            "/",
            {
                "prompt": "like this",
                "model": "openai/gpt-image-1",
                "style": "images",
                "references": picture,
            },
        )

    assert response.status_code == 302
    reference = Job.objects.get().references[0]
    assert reference["kind"] == "upload"
    assert reference["media_type"] == "image/png"


def test_reference_that_is_not_an_image_is_refused(user_client: Client) -> None:
    fake = io.BytesIO(b"not a picture")
    fake.name = "ref.png"

    response = user_client.post(
        "/", {"prompt": "x", "model": "openai/gpt-image-1", "style": "images", "references": fake}
    )

    assert response.status_code == 400
    assert "not a valid image" in response.text


def test_private_job_is_invisible_to_others(
    user: User, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(user, "openai/gpt-image-1", "secret plan", private=True)
    other = Client()
    other.force_login(make_user("bob"))

    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/card").status_code == 404
    assert other.post(f"/jobs/{job.pk}/cancel").status_code == 404


def test_only_the_author_cancels(
    user: User, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(user, "openai/gpt-image-1", "team job")
    other = Client()
    other.force_login(make_user("bob"))

    assert other.post(f"/jobs/{job.pk}/cancel").status_code == 403
    owner = Client()
    owner.force_login(user)
    assert owner.post(f"/jobs/{job.pk}/cancel").status_code == 302
    assert Job.objects.get(pk=job.pk).status == Status.CANCELED


# The events view is async: it is called through AsyncClient on a thread of its
# own, so it reads committed data with its own connection.
@pytest.mark.django_db(transaction=True)
def test_events_stream_sends_current_state_and_closes_when_final(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(user, "openai/gpt-image-1", "done already")
    Job.objects.filter(pk=job.pk).update(status=Status.FAILED, error_message="Out of credits.")

    status, content_type, body = run_async(_events(user, f"jobs={job.pk}"))

    assert (status, content_type) == (200, "text/event-stream")
    assert f"event: job-{job.pk}\n" in body
    assert "Out of credits." in body
    assert body.rstrip().endswith("event: close\ndata:")


@pytest.mark.django_db(transaction=True)
def test_events_rejects_garbage_ids(user: User) -> None:
    status, _, body = run_async(_events(user, "jobs=not-a-uuid"))

    assert status == 400
    assert "comma-separated list of job ids" in body


async def _events(user: User, query: str) -> tuple[int, str, str]:
    client = AsyncClient()
    await client.aforce_login(user)
    response: Any = await client.get(f"/events?{query}")
    if response.streaming:
        body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    else:
        body = response.content.decode()
    return response.status_code, response["Content-Type"].split(";")[0], body


def test_style_choice_swaps_to_tool_options(user_client: Client) -> None:
    html = user_client.get(
        "/generate/options", {"model": "openai/gpt-5-image", "style": Style.TOOL_CHAT}
    ).text

    assert "moderation" in html.lower()


def test_remix_prefills_everything_and_records_the_origin(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        original = submit(
            user,
            "google/gemini-3.1-flash-image-preview",
            "a koi pond",
            style=Style.CHAT,
            params={"image_config": {"aspect_ratio": "1:8", "image_size": "0.5K"}},
        )

    page = user_client.get(f"/?remix={original.pk}").text

    assert "a koi pond</textarea>" in page
    assert 'value="1:8" selected' in page
    assert 'value="0.5K" selected' in page
    assert f'value="{original.pk}"' in page
    assert 'data-testid="remixing"' in page

    from generation.forms import GenerateForm

    data = GenerateForm.data_for_job(original)
    data["remix_of"] = str(original.pk)
    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post("/", data)
    assert response.status_code == 302
    remix = Job.objects.exclude(pk=original.pk).get()
    assert remix.remix_of_id == original.pk
    assert remix.params == original.params


def test_use_prompt_prefills_only_the_prompt(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        original = submit(user, "openai/gpt-image-1", "an owl at night")

    page = user_client.get(f"/?prompt_of={original.pk}").text

    assert "an owl at night</textarea>" in page
    assert 'data-testid="remixing"' not in page


def test_over_budget_submit_is_refused_with_what_is_left(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from decimal import Decimal

    from costs.models import Budget

    # One gpt-image-1 image without a quality is estimated as high: $0.1664.
    Budget.objects.create(user=user, monthly_usd=Decimal("0.20"))
    with django_capture_on_commit_callbacks(execute=False):
        first = user_client.post(
            "/", {"prompt": "one", "model": "openai/gpt-image-1", "style": "images"}
        )
        second = user_client.post(
            "/", {"prompt": "two", "model": "openai/gpt-image-1", "style": "images", "opt__n": "4"}
        )

    assert first.status_code == 302
    assert second.status_code == 400
    assert "monthly budget of $0.20" in second.text
    assert "is left this month" in second.text
    assert Job.objects.count() == 1


def test_model_text_drops_markdown_links_to_temporary_images(user: User) -> None:
    job = Job(text="Here is the image I made. ![a fox](http://host/__emulator__/files/abc.png)")

    assert job.display_text == "Here is the image I made."


def test_retry_over_budget_says_so_instead_of_failing(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(user, "openai/gpt-image-1", "retry me")
    Job.objects.filter(pk=job.pk).update(status=Status.FAILED, reserved_cost=0)
    Budget.objects.create(user=user, monthly_usd=Decimal("0.001"))

    response = user_client.post(f"/jobs/{job.pk}/retry", follow=True)

    assert response.status_code == 200
    assert "would go over your monthly budget" in response.text
    assert Job.objects.filter(retry_of=job).count() == 0


def test_reference_upload_is_reencoded_without_what_trailed_it(
    user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from generation import storage

    picture = io.BytesIO()
    PILImage.new("RGB", (64, 48), (10, 120, 200)).save(picture, format="PNG")
    uploaded = picture.getvalue() + b"<html><script>alert(1)</script></html>"
    upload = io.BytesIO(uploaded)
    upload.name = "ref.png"
    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(
            "/",
            {
                "prompt": "like this",
                "model": "openai/gpt-image-1",
                "style": "images",
                "references": upload,
            },
        )

    assert response.status_code == 302
    stored = storage.read(Job.objects.get().references[0]["key"])
    assert stored != uploaded
    assert b"<html" not in stored
    with PILImage.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (64, 48))
        assert image.convert("RGB").getpixel((5, 5)) == (10, 120, 200)
    # Pillow reads the whole file back as the image: nothing follows its end.
    assert stored.endswith(b"IEND\xaeB`\x82")
