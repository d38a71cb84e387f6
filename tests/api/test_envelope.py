"""Every failure the framework itself meets answers the API's one error shape:
validation of types, the body guard, authentication, methods and HEAD."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from generation.models import Job
from tests.api.conftest import bearer
from webapp import inputs

pytestmark = pytest.mark.django_db


def test_every_wrong_type_is_named_in_one_answer(api: Client) -> None:
    body = {
        "prompt": 5,
        "model": ["m"],
        "options": [],
        "private": "yes",
        "compare": "flux",
        "reference_urls": [1],
        "colour": "red",
    }

    response = api.post("/api/v1/jobs", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields == {
        "prompt": ["Must be a string."],
        "model": ["Must be a string."],
        "options": ["Must be an object of option name to value."],
        "private": ["Must be true or false."],
        "compare": ["Must be a list of strings."],
        "reference_urls": ["Must be a list of strings."],
        "colour": [
            "Unknown field; known fields: prompt, model, style, options, reference_urls, "
            "private, compare."
        ],
    }
    # No pydantic wording reaches the client.
    assert "Input should" not in response.text
    assert "pydantic" not in response.text


def test_an_oversized_body_is_413(api: Client) -> None:
    raw = b'{"prompt": "' + b"x" * inputs.MAX_JSON_BYTES + b'"}'

    response = api.post("/api/v1/jobs", raw, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_over_djangos_own_limit_is_413(api: Client) -> None:
    raw = json.dumps({"prompt": "x" * 200, "model": "m"})

    response = api.post("/api/v1/jobs", raw, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_form_body_with_a_session_is_refused_as_json(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/profile/")
    csrf = client.cookies["csrftoken"].value

    response = client.post(
        "/api/v1/jobs", {"prompt": "x", "model": "m", "csrfmiddlewaretoken": csrf}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "JSON" in response.json()["error"]["message"]
    assert not Job.objects.exists()


@pytest.mark.parametrize("debug", [False, True])
def test_bad_json_keeps_its_message_with_debug_on_or_off(api: Client, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = api.post("/api/v1/jobs", b'{"prompt": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The request body is not valid JSON")


def test_query_parameters_are_checked_by_the_input_rules(api: Client) -> None:
    response = api.get("/api/v1/jobs", {"limit": "²", "status": "sleeping"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "limit": ["Must be a whole number from 1 to 100."],
        "status": ["One of queued, running, streaming, storing, succeeded, failed or canceled."],
    }


def test_a_blank_status_means_every_status(api: Client, user: User, make_job: Any) -> None:
    make_job(user)

    response = api.get("/api/v1/jobs?status=")

    assert response.status_code == 200
    assert len(response.json()["jobs"]) == 1


def test_head_answers_like_get_without_a_body(api: Client, user: User, make_job: Any) -> None:
    job = make_job(user)

    for path in ("/api/v1/jobs", f"/api/v1/jobs/{job.pk}", "/api/v1/openapi.json"):
        response = api.head(path)

        assert response.status_code == 200, path
        assert response.content == b""
    assert Client().head("/api/v1/jobs").status_code == 401


def test_a_wrong_method_names_the_right_ones(api: Client) -> None:
    response = api.delete("/api/v1/jobs")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD"
    assert response.json()["error"]["message"] == "DELETE is not allowed here; use GET or POST."


def test_answers_are_plain_application_json(api: Client) -> None:
    assert api.get("/api/v1/jobs")["Content-Type"] == "application/json"
    assert api.get("/api/v1/nothing")["Content-Type"] == "application/json"


def test_anonymous_api_calls_are_401_not_a_login_redirect() -> None:
    response = Client().post(
        "/api/v1/jobs/batch", json.dumps({"jobs": []}), content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_bearer_scheme_refuses_a_token_the_middleware_did_not_see(user: User) -> None:
    from django.test import RequestFactory

    from generation.api.auth import TokenAuth
    from generation.api.errors import ApiError
    from webapp import tokens

    _, raw = tokens.create(user, "direct")
    request = RequestFactory().get("/api/v1/jobs", headers=bearer(raw))
    assert TokenAuth()(request) == user
    revoked, raw_revoked = tokens.create(user, "gone")
    tokens.revoke(revoked)
    with pytest.raises(ApiError) as refused:
        TokenAuth()(RequestFactory().get("/api/v1/jobs", headers=bearer(raw_revoked)))
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("status", "code"), [(400, "invalid_request"), (403, "forbidden"), (503, "internal")]
)
def test_ninjas_own_http_errors_take_the_envelope(status: int, code: str) -> None:
    from django.test import RequestFactory
    from ninja.errors import HttpError

    from generation.api.urls import api

    response = api.on_exception(RequestFactory().get("/api/v1/jobs"), HttpError(status, "No."))

    assert response.status_code == status
    assert json.loads(response.content) == {"error": {"code": code, "message": "No."}}


def test_an_unexpected_error_is_left_to_django(token: str, monkeypatch: Any) -> None:
    from generation.api import jobs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "jobs_with_relations", broken)
    client = Client(raise_request_exception=False, headers=bearer(token))

    response = client.get("/api/v1/jobs")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "Something went wrong on our side."}
    }
