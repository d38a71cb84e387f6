"""The jobs API: create through the Generate page's own validation, read, list, cancel."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from costs.models import Budget
from generation.models import Job, Status, Style
from tests.api.conftest import bearer, succeeded
from webapp import tokens

pytestmark = pytest.mark.django_db


def post_json(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


# Creating


@pytest.mark.usefixtures("catalog")
def test_create_queues_a_validated_job_after_commit(
    api: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    body = {
        "prompt": "a lighthouse at dusk",
        "model": "openai/gpt-image-1",
        "options": {"quality": "low", "aspect_ratio": "3:2", "n": 2},
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_json(api, "/api/v1/jobs", body)

    assert response.status_code == 201, response.content
    data = response.json()
    job = Job.objects.get(pk=data["id"])
    assert response["Location"] == f"http://testserver/api/v1/jobs/{job.pk}"
    assert job.author == user
    assert job.status == Status.QUEUED
    assert job.style == Style.IMAGES
    assert job.model_slug == "openai/gpt-image-1"
    assert job.params["quality"] == "low"
    assert job.params["aspect_ratio"] == "3:2"
    assert job.n == 2
    assert job.estimated_cost > 0
    assert len(callbacks) == 1  # enqueued only once the transaction commits
    assert data["status"] == "queued"
    assert Decimal(data["cost"]["estimated"]) == job.estimated_cost
    assert data["cost"]["actual"] is None
    assert data["batch"] is None
    assert data["links"]["page"] == f"http://testserver/jobs/{job.pk}/"


@pytest.mark.usefixtures("catalog")
def test_create_in_chat_style_takes_dotted_option_names(api: Client) -> None:
    response = post_json(
        api,
        "/api/v1/jobs",
        {
            "prompt": "a fox",
            "model": "google/gemini-2.5-flash-image",
            "style": "chat",
            "options": {"image_config.aspect_ratio": "16:9"},
            "private": True,
        },
    )

    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.style == Style.CHAT
    assert job.params == {"image_config": {"aspect_ratio": "16:9"}}
    assert job.is_private
    assert response.json()["private"] is True


@pytest.mark.usefixtures("catalog")
def test_numbers_and_provider_options_arrive_typed(api: Client) -> None:
    response = post_json(
        api,
        "/api/v1/jobs",
        {
            "prompt": "a fox",
            "model": "black-forest-labs/flux.2-pro",
            "options": {"seed": 42, "provider_options.steps": 30, "aspect_ratio": None},
        },
    )

    assert response.status_code == 201, response.content
    params = Job.objects.get(pk=response.json()["id"]).params
    assert params["seed"] == 42
    assert list(params["provider_options"].values()) == [{"steps": 30}]
    assert "aspect_ratio" not in params  # null means "the model's default"


@pytest.mark.usefixtures("catalog")
def test_compare_makes_one_batch(api: Client, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_json(
            api,
            "/api/v1/jobs",
            {
                "prompt": "a red bicycle",
                "model": "openai/gpt-image-1",
                "compare": ["black-forest-labs/flux.2-pro", "recraft/recraft-v3"],
            },
        )

    assert response.status_code == 201, response.content
    batch = response.json()["batch"]
    assert batch["jobs"][0] == response.json()["id"]
    jobs = Job.objects.filter(batch_id=batch["id"])
    assert {str(job.pk) for job in jobs} == set(batch["jobs"])
    assert {job.model_slug for job in jobs} == {
        "openai/gpt-image-1",
        "black-forest-labs/flux.2-pro",
        "recraft/recraft-v3",
    }
    assert len(callbacks) == 3


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "openai/gpt-image-1"}, "prompt"),
        ({"prompt": "x", "model": "nobody/no-such-model"}, "model"),
        ({"prompt": "x", "model": "openai/gpt-image-1", "style": "telepathy"}, "style"),
        (
            {"prompt": "x", "model": "openai/gpt-image-1", "options": {"quality": "ultra"}},
            "options.quality",
        ),
        ({"prompt": "x", "model": "openai/gpt-image-1", "options": {"n": 99}}, "options.n"),
        ({"prompt": "x", "model": "openai/gpt-image-1", "options": {"n": [1, 2]}}, "options.n"),
        (
            {"prompt": "x", "model": "openai/gpt-image-1", "options": {"quality": {"a": 1}}},
            "options.quality",
        ),
        ({"prompt": "x", "model": "openai/gpt-image-1", "options": {"wings": 2}}, "options.wings"),
        (
            {"prompt": "x", "model": "openai/gpt-image-1", "reference_urls": ["ftp://host/a.png"]},
            "reference_urls",
        ),
        ({"prompt": "x", "model": "openai/gpt-image-1", "compare": ["nobody/none"]}, "compare"),
        ({"prompt": "x" * 4001, "model": "openai/gpt-image-1"}, "prompt"),
    ],
)
def test_invalid_fields_are_named_by_their_api_names(
    api: Client, body: dict[str, Any], field: str
) -> None:
    response = post_json(api, "/api/v1/jobs", body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["fields"], error
    assert all(isinstance(message, str) and message for message in error["fields"][field])
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": 5, "model": "m"}, "prompt"),
        ({"prompt": "x", "model": ["m"]}, "model"),
        ({"prompt": "x", "model": "m", "options": ["quality", "low"]}, "options"),
        ({"prompt": "x", "model": "m", "private": "yes"}, "private"),
        ({"prompt": "x", "model": "m", "compare": "flux"}, "compare"),
        ({"prompt": "x", "model": "m", "reference_urls": [1]}, "reference_urls"),
        ({"prompt": "x", "model": "m", "colour": "red"}, "colour"),
        ({"prompt": "x", "model": "a\x00b"}, "model"),
        ({"prompt": "x", "model": "m", "options": {"quality": "lo\x00w"}}, "options"),
        ({"prompt": "x", "model": "m", "compare": ["a\x00"]}, "compare"),
    ],
)
def test_wrong_types_are_400_naming_the_field(
    api: Client, body: dict[str, Any], field: str
) -> None:
    response = post_json(api, "/api/v1/jobs", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"not json", b"[1, 2]", b'"a string"', b"\xff\xfe", b"null"]
)
def test_bad_json_is_400(api: Client, raw: bytes) -> None:
    response = api.post("/api/v1/jobs", raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_form_encoded_body_is_refused_not_crashed(api: Client) -> None:
    response = api.post("/api/v1/jobs", {"prompt": "x", "model": "m"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


# Reading


def test_get_returns_the_job_with_images_and_costs(
    api: Client, user: User, make_job: Any, make_image: Any
) -> None:
    job = succeeded(make_job(user))
    image = make_image(job)

    data = api.get(f"/api/v1/jobs/{job.pk}").json()

    assert data["id"] == str(job.pk)
    assert data["status"] == "succeeded"
    assert data["progress"] == 100
    assert data["model"] == "test/painter"
    assert data["options"] == {"aspect_ratio": "16:9"}
    assert data["cost"] == {"estimated": "0.0400", "actual": "0.0387", "currency": "USD"}
    assert data["error"] is None
    assert data["provider"] == "Test provider"
    assert data["upstream_id"] == "gen-123"
    assert data["usage"] == {"cost": 0.0387}
    assert data["created_at"].endswith("Z")
    assert data["finished_at"] is not None
    assert data["images"] == [
        {
            "id": str(image.pk),
            "index": 0,
            "url": f"http://testserver/media/{image.pk}/original",
            "thumbnail_url": f"http://testserver/media/{image.pk}/thumbnail",
            "download_url": f"http://testserver/media/{image.pk}/original?download=1",
            "media_type": "image/png",
            "width": 8,
            "height": 6,
            "bytes": image.bytes,
            "sha256": image.sha256,
        }
    ]
    assert data["links"]["self"] == f"http://testserver/api/v1/jobs/{job.pk}"


def test_failed_job_carries_its_error(api: Client, user: User, make_job: Any) -> None:
    job = make_job(
        user,
        status=Status.FAILED,
        error_code="credits",
        error_message="OpenRouter says the account is out of credits.",
    )

    data = api.get(f"/api/v1/jobs/{job.pk}").json()

    assert data["error"] == {
        "code": "credits",
        "message": "OpenRouter says the account is out of credits.",
    }


def test_tiny_costs_keep_their_precision(api: Client, user: User, make_job: Any) -> None:
    job = make_job(user, estimated_cost=Decimal("0.00012345"))

    assert api.get(f"/api/v1/jobs/{job.pk}").json()["cost"]["estimated"] == "0.00012345"


def test_someone_elses_private_job_does_not_exist_for_me(
    api: Client, make_user: Any, make_job: Any
) -> None:
    bob = make_user("bob")
    private = make_job(bob, private=True)
    shared = make_job(bob)

    hidden = api.get(f"/api/v1/jobs/{private.pk}")

    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/jobs/{shared.pk}").status_code == 200
    assert api.post(f"/api/v1/jobs/{private.pk}/cancel").status_code == 404


@pytest.mark.parametrize(
    "path", [f"/api/v1/jobs/{uuid.uuid4()}", "/api/v1/jobs/not-a-uuid", "/api/v1/nothing"]
)
def test_unknown_paths_and_jobs_are_404_json(api: Client, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/api/v1/jobs"), ("put", "/api/v1/jobs/{id}"), ("get", "/api/v1/jobs/{id}/cancel")],
)
def test_wrong_methods_are_405_json(
    api: Client, user: User, make_job: Any, method: str, path: str
) -> None:
    job = make_job(user)

    response = getattr(api, method)(path.format(id=job.pk))

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "Allow" in response


# Listing


def test_list_shows_only_my_jobs_newest_first(
    api: Client, user: User, make_user: Any, make_job: Any
) -> None:
    older = make_job(user, prompt="older")
    newer = make_job(user, prompt="newer")
    make_job(make_user("bob"), prompt="bob's, shared with the team")

    data = api.get("/api/v1/jobs").json()

    assert [job["id"] for job in data["jobs"]] == [str(newer.pk), str(older.pk)]
    assert data["next"] is None


def test_list_pages_by_keyset_through_ties(api: Client, user: User, make_job: Any) -> None:
    jobs = [make_job(user, prompt=f"job {index}") for index in range(7)]
    # Three jobs created in the same instant: the id breaks the tie.
    same = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk__in=[job.pk for job in jobs[2:5]]).update(created_at=same)
    expected = [
        str(job.pk) for job in Job.objects.filter(author=user).order_by("-created_at", "-pk")
    ]

    seen: list[str] = []
    url: str | None = "/api/v1/jobs?limit=2"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200
        data = response.json()
        assert len(data["jobs"]) <= 2
        seen.extend(job["id"] for job in data["jobs"])
        url = data["next"]
        pages += 1

    assert seen == expected
    assert pages == 4
    assert "before=" in api.get("/api/v1/jobs?limit=2").json()["next"]


def test_list_before_a_time(api: Client, user: User, make_job: Any) -> None:
    old = make_job(user, prompt="old")
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    make_job(user, prompt="new")
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()

    data = api.get("/api/v1/jobs", {"before": cutoff}).json()

    assert [job["id"] for job in data["jobs"]] == [str(old.pk)]


def test_list_filters_by_status(api: Client, user: User, make_job: Any) -> None:
    make_job(user)
    done = succeeded(make_job(user))

    data = api.get("/api/v1/jobs?status=succeeded").json()

    assert [job["id"] for job in data["jobs"]] == [str(done.pk)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("before=yesterday", "before"),
        (f"before={uuid.uuid4()}", "before"),
        ("status=sleeping", "status"),
    ],
)
def test_bad_list_parameters_are_400(api: Client, query: str, field: str) -> None:
    response = api.get(f"/api/v1/jobs?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_before_cannot_probe_someone_elses_job(api: Client, make_user: Any, make_job: Any) -> None:
    bobs = make_job(make_user("bob"), private=True)

    assert api.get(f"/api/v1/jobs?before={bobs.pk}").status_code == 400


def test_listing_costs_a_fixed_number_of_queries(
    api: Client, user: User, make_job: Any, make_image: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        make_image(succeeded(make_job(user)))

    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/jobs").json()["jobs"]) == 5


# Cancelling


def test_cancel_a_queued_job_then_409(api: Client, user: User, make_job: Any) -> None:
    job = make_job(user)

    response = api.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert response.json()["error"]["code"] == "canceled"
    again = api.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_only_the_author_or_staff_cancel(
    api: Client, make_user: Any, make_job: Any, staff: User
) -> None:
    bobs = make_job(make_user("bob"))

    refused = api.post(f"/api/v1/jobs/{bobs.pk}/cancel")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert Job.objects.get(pk=bobs.pk).status == Status.QUEUED
    _, staff_token = tokens.create(staff, "ops")
    assert (
        Client(headers=bearer(staff_token)).post(f"/api/v1/jobs/{bobs.pk}/cancel").status_code
        == 200
    )


# The index


def test_index_is_json_for_clients_and_a_page_for_browsers(user_client: Client) -> None:
    data = Client().get("/api/v1/").json()
    assert data["links"]["openapi"] == "http://testserver/api/v1/openapi.json"

    page = user_client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert "Authorization: Bearer" in page.text
    assert "curl" in page.text
    anonymous = Client().get("/api/v1/", HTTP_ACCEPT="text/html")
    assert anonymous.status_code == 302


@pytest.mark.usefixtures("catalog")
def test_over_budget_create_is_402_with_what_is_left(api: Client, user: User) -> None:
    Budget.objects.create(user=user, monthly_usd=Decimal("0.01"))

    response = api.post(
        "/api/v1/jobs",
        data={"prompt": "a castle", "model": "openai/gpt-image-1", "options": {"n": 4}},
        content_type="application/json",
    )

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert (
        "$0.0100 is left this month and this costs about $0.6657." in error["message"]
    )  # 4 x high quality
    assert not Job.objects.exists()
