"""Each input the fuzzer found answered with a 500 is a 400 with a message that
says what to change, and stores nothing (issue 15, item 7). On PostgreSQL,
which refuses NUL in text and lone surrogates in any encoding."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from costs.models import Budget
from gallery.models import Board
from generation.models import Job
from tests.api.conftest import bearer
from tests.gallery.conftest import add_image, make_job
from tests.generation.conftest import catalog  # noqa: F401 - the synced catalog
from webapp import tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

NUL = "\x00"
SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes; int() says no
BOX = [[0, 0], [1, 0], [1, 1], [0, 1]]


@pytest.fixture
def api(user: User) -> Client:
    return Client(headers=bearer(tokens.create(user, "tests")[1]))


def _api_post(client: Client, body: Any) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/jobs", raw, content_type="application/json")


# NUL bytes


@pytest.mark.parametrize("path", ["/", "/generate/estimate"])
def test_a_nul_model_on_generate_and_estimate_is_a_message_on_the_form(
    user_client: Client, path: str
) -> None:
    response = user_client.post(path, {"prompt": "a cat", "model": NUL, "style": "images"})

    assert response.status_code == 400
    assert "cannot be stored" in response.text
    assert not Job.objects.exists()


def test_a_nul_model_on_the_options_fragment_is_a_400_page(user_client: Client) -> None:
    response = user_client.get("/generate/options", {"model": NUL, "style": "images"})

    assert response.status_code == 400
    assert "cannot be stored" in response.text


def test_a_nul_in_a_model_page_address_is_a_400(user_client: Client) -> None:
    response = user_client.get("/models/%00/")

    assert response.status_code == 400
    assert "cannot be stored" in response.text


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_nul_in_a_new_board_is_refused(user_client: Client, field: str) -> None:
    data = {"name": "Moodboard", "description": "calm", field: f"mood{NUL}board"}

    response = user_client.post("/gallery/boards/", data)

    assert response.status_code == 400
    assert "cannot be stored" in response.text
    assert not Board.objects.exists()


def test_a_nul_in_a_board_name_given_while_adding_is_refused(
    user_client: Client, user: User
) -> None:
    image = add_image(make_job(user))

    response = user_client.post(f"/gallery/{image.pk}/board", {"new_board": f"a{NUL}b"})

    assert response.status_code == 400
    assert "cannot be stored" in response.text
    assert not Board.objects.exists()


# Digits that str.isdigit() accepts and int() refuses


def test_a_superscript_budget_who_is_a_message_on_the_budget_form(staff_client: Client) -> None:
    response = staff_client.post("/costs/budgets", {"who": SUPERSCRIPT_TWO, "monthly_usd": "5"})

    assert response.status_code == 400
    assert "There is no such person." in response.text
    assert not Budget.objects.exists()


def test_a_huge_budget_who_is_no_such_person(staff_client: Client) -> None:
    response = staff_client.post("/costs/budgets", {"who": "9" * 30, "monthly_usd": "5"})

    assert response.status_code == 400
    assert "There is no such person." in response.text


@pytest.mark.parametrize("raw", [SUPERSCRIPT_TWO, "9" * 30])
def test_a_board_id_that_is_not_plain_digits_is_refused(
    user_client: Client, user: User, raw: str
) -> None:
    image = add_image(make_job(user))

    response = user_client.post(f"/gallery/{image.pk}/board", {"board": raw})

    assert response.status_code in (400, 404)
    assert "board" in response.text


# Dates at the edge of what Python and the database hold


@pytest.mark.parametrize("path", ["/gallery/", "/history/"])
@pytest.mark.parametrize(
    "query", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_from": "9999-12-31"}]
)
def test_far_dates_on_gallery_and_history_filters_are_a_message(
    user_client: Client, path: str, query: dict[str, str]
) -> None:
    response = user_client.get(path, query)

    assert response.status_code == 400
    assert "between" in response.text


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-01-01", "to": "9999-12-31"},
        {"from": "9999-12-30", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-02"},
    ],
)
def test_far_dates_on_the_costs_page_are_a_message(
    staff_client: Client, query: dict[str, str]
) -> None:
    response = staff_client.get("/costs/", query)

    assert response.status_code in (200, 400)
    assert "between" in response.text


def test_the_ledger_csv_refuses_a_bad_range_before_it_starts_streaming(
    staff_client: Client,
) -> None:
    response = staff_client.get("/costs/ledger.csv", {"from": "9999-12-30", "to": "9999-12-31"})

    assert response.status_code == 400
    assert not response.streaming
    assert "between" in response.content.decode()


# The JSON API


def test_deeply_nested_json_is_a_400_envelope(api: Client) -> None:
    depth = 100_000
    response = _api_post(api, '{"options": {"x": ' + "[" * depth + "]" * depth + "}}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "nested" in error["message"]


def test_a_lone_surrogate_in_the_api_prompt_is_a_400_naming_the_field(api: Client) -> None:
    body = '{"prompt": "a cat \\ud800", "model": "openai/gpt-image-1"}'

    response = _api_post(api, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert "prompt" in error["fields"]
    assert not Job.objects.exists()


def test_a_nul_escaped_inside_a_json_option_is_refused(api: Client) -> None:
    body = {
        "prompt": "a cat",
        "model": "recraft/recraft-v3",
        "style": "chat",
        # JSON text: the NUL is an escape sequence until the option is parsed.
        "options": {"image_config.text_layout": json.dumps([{"text": "a\x00", "bbox": BOX}])},
    }

    response = _api_post(api, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not Job.objects.exists()
