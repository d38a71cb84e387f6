"""The generated OpenAPI document is valid, documents every route, and matches
what the API answers."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, resolve
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from generation import api
from generation.api.urls import openapi_document
from tests.api.conftest import succeeded

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


def schema() -> dict[str, Any]:
    return openapi_document("/api/v1")


def served_schema() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")  # public, like any API's docs
    assert response.status_code == 200
    return dict(response.json())


def test_the_served_schema_is_valid_openapi_3_1() -> None:
    document = served_schema()

    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]
    assert set(document["components"]["securitySchemes"]) == {"token", "session"}


def _route_to_openapi(pattern: URLPattern) -> str:
    route = str(pattern.pattern)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_route_is_documented_and_every_documented_path_resolves() -> None:
    routes = {
        _route_to_openapi(pattern)
        for pattern in api.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.name != "not-found"
    }
    documented = set(schema()["paths"])

    assert routes == documented
    for path in documented:
        match = resolve("/api/v1" + path.replace("{job_id}", str(uuid.uuid4())))
        assert match.url_name != "not-found", path


def test_documented_methods_are_the_allowed_ones(api: Client, user: User, make_job: Any) -> None:
    job = make_job(user)
    for path, item in schema()["paths"].items():
        url = "/api/v1" + path.replace("{job_id}", str(job.pk))
        for method in METHODS:
            response = getattr(api, method)(url, content_type="application/json")
            if method in item:
                assert response.status_code != 405, (method, path)
            else:
                assert response.status_code == 405, (method, path)


def component(name: str) -> OAS31Validator:
    document = schema()
    return OAS31Validator({"$ref": f"#/components/schemas/{name}", **document})


def test_answers_match_their_schemas(
    api: Client, user: User, make_job: Any, make_image: Any
) -> None:
    done = succeeded(make_job(user))
    make_image(done)
    make_job(user)

    component("Job").validate(api.get(f"/api/v1/jobs/{done.pk}").json())
    component("JobList").validate(api.get("/api/v1/jobs?limit=1").json())
    component("Error").validate(api.get(f"/api/v1/jobs/{uuid.uuid4()}").json())
    component("Error").validate(
        api.post("/api/v1/jobs", b"{", content_type="application/json").json()
    )
    component("Error").validate(Client().get("/api/v1/jobs").json())


def test_every_operation_has_a_unique_id_a_summary_and_its_errors() -> None:
    operations = [
        (path, method, operation)
        for path, item in schema()["paths"].items()
        for method, operation in item.items()
    ]
    ids = [operation["operationId"] for _, _, operation in operations]

    assert len(ids) == len(set(ids))
    for path, method, operation in operations:
        assert operation["summary"], (method, path)
        if operation.get("security"):
            assert "401" in operation["responses"], (method, path)


@pytest.mark.usefixtures("catalog")
def test_a_batch_answer_matches_its_schema(api: Client) -> None:
    response = api.post(
        "/api/v1/jobs/batch",
        {"jobs": [{"prompt": "a kite", "model": "openai/gpt-image-1"}]},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    component("CreatedJobs").validate(response.json())


def test_the_docs_page_lists_every_documented_operation(user_client: Client) -> None:
    page = user_client.get("/api/v1/", HTTP_ACCEPT="text/html").text

    for path, item in schema()["paths"].items():
        for method in item:
            assert f"{method.upper()} /api/v1{path}" in page, (method, path)
