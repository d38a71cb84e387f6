"""Only the styles the catalog says a model has are offered and accepted
(issue 10, item 6): the Image API where ``/images/models`` lists it, Chat
Completions and the image tool where ``/models?output_modalities=image`` does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from catalog import selectors
from catalog.models import ImageModel
from generation.models import Job, Style
from tests.api.conftest import bearer
from webapp import tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

IMAGE_API_ONLY = "openai/gpt-image-1"
EVERY_STYLE = "google/gemini-2.5-flash-image"


def _style_options(html: str) -> list[str]:
    select = html.split('name="style"', 1)[1].split("</select>", 1)[0]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:]]


def test_the_sync_records_which_models_chat_completions_serves() -> None:
    assert ImageModel.objects.get(slug=IMAGE_API_ONLY).chat_api is False
    assert ImageModel.objects.get(slug=EVERY_STYLE).chat_api is True


def test_offered_styles_follow_the_catalog() -> None:
    only_images = ImageModel.objects.get(slug=IMAGE_API_ONLY)
    every = ImageModel.objects.get(slug=EVERY_STYLE)

    assert selectors.offered_styles(only_images) == [Style.IMAGES]
    assert selectors.offered_styles(every) == [
        Style.IMAGES,
        Style.CHAT,
        Style.TOOL_CHAT,
        Style.TOOL_RESPONSES,
    ]


def test_a_chat_only_model_offers_no_image_api() -> None:
    every = ImageModel.objects.get(slug=EVERY_STYLE)
    every.image_api = False

    assert Style.IMAGES not in selectors.offered_styles(every)


def test_the_options_partial_offers_only_the_models_styles(user_client: Client) -> None:
    response = user_client.get("/generate/options", {"model": IMAGE_API_ONLY, "style": Style.CHAT})

    assert response.status_code == 200
    # The style the page had is not one this model has: its own style is shown.
    assert _style_options(response.text) == [Style.IMAGES]
    assert 'value="images" selected' in response.text


def test_the_generate_page_offers_every_style_a_model_has(user_client: Client) -> None:
    response = user_client.get("/", {"model": EVERY_STYLE})

    assert _style_options(response.text) == list(Style.values)


def test_the_form_refuses_a_style_the_model_lacks_naming_those_it_has(
    user_client: Client,
) -> None:
    response = user_client.post(
        "/", {"prompt": "a cat", "model": IMAGE_API_ONLY, "style": Style.CHAT}
    )

    assert response.status_code == 400
    assert f"{IMAGE_API_ONLY} cannot be used through “chat”; it offers: Image API." in (
        response.text
    )
    assert not Job.objects.exists()


def test_the_form_accepts_a_style_the_model_has(
    user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(
            "/", {"prompt": "a cat", "model": EVERY_STYLE, "style": Style.TOOL_RESPONSES}
        )

    assert response.status_code == 302
    assert Job.objects.get().style == Style.TOOL_RESPONSES


def test_the_api_refuses_a_style_the_model_lacks_with_fields_style(user: User) -> None:
    api = Client(headers=bearer(tokens.create(user, "tests")[1]))

    response = api.post(
        "/api/v1/jobs",
        json.dumps({"prompt": "a cat", "model": IMAGE_API_ONLY, "style": "tool_chat"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["fields"]["style"] == [
        f"{IMAGE_API_ONLY} cannot be used through “tool_chat”; it offers: Image API."
    ]
    assert not Job.objects.exists()


def test_comparing_runs_each_model_in_a_style_it_has(
    user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    ImageModel.objects.filter(slug=EVERY_STYLE).update(image_api=False)

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post(
            "/",
            {
                "prompt": "a cat",
                "model": IMAGE_API_ONLY,
                "style": Style.IMAGES,
                "compare": [EVERY_STYLE],
            },
        )

    assert response.status_code == 302
    styles = dict(Job.objects.values_list("model_slug", "style"))
    assert styles == {IMAGE_API_ONLY: Style.IMAGES, EVERY_STYLE: Style.CHAT}


def test_a_model_with_no_style_cannot_be_compared(user_client: Client) -> None:
    ImageModel.objects.filter(slug=IMAGE_API_ONLY).update(image_api=False)

    response = user_client.post(
        "/",
        {"prompt": "a cat", "model": EVERY_STYLE, "style": Style.CHAT, "compare": [IMAGE_API_ONLY]},
    )

    assert response.status_code == 400
    assert f"{IMAGE_API_ONLY} cannot be compared" in response.text
