"""While the database, Redis or storage is down, requests answer 503 with a message
(a page, or the API's JSON error envelope), and the next request after it is back is served."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

from generation.models import Job
from tests import services
from tests.generation.conftest import catalog, submit  # noqa: F401 - catalog is a fixture
from tests.settings import EMULATOR, SERVICES

ROOT = Path(__file__).resolve().parents[2]

MAKE_USER = """
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from webapp import tokens
user = User.objects.create_user("outage", password="pw")
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "team.backends.MemberBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key, tokens.create(user, "outage")[1])
"""


@dataclass
class Stack:
    postgres: services.Postgres
    http: httpx.Client
    token: str


@pytest.fixture
def own_postgres_app() -> Iterator[Stack]:
    """Darkroom under uvicorn on a PostgreSQL of its own, which the test may stop."""
    import psycopg

    own = services.Services(root=Path(tempfile.mkdtemp(prefix="darkroom-outage-")))
    try:
        server = services.postgres(own)
        server.start()
        with psycopg.connect(
            host="127.0.0.1", port=server.port, user="darkroom", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE darkroom")
        env = {
            **os.environ,
            **SERVICES.env,
            "DATABASE_URL": server.url,
            "DJANGO_SETTINGS_MODULE": "tests.subprocess_settings",
            "OPENROUTER_BASE_URL": EMULATOR.url,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        made = subprocess.run(
            [*manage, "shell", "-c", MAKE_USER],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        session_key, token = made.stdout.splitlines()[-1].split()
        port = services.free_port()
        own.spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "webapp.asgi:application",
                "--port",
                str(port),
                "--timeout-graceful-shutdown",
                "2",
            ],
            "uvicorn",
            env=env,
            cwd=str(ROOT),
        )
        services.wait_for(lambda: services.port_open(port), f"uvicorn ({own.log('uvicorn')})")
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": session_key}, timeout=60
        ) as http:
            yield Stack(server, http, token)
    finally:
        import shutil

        shutil.copy(own.root / "uvicorn.log", "/tmp/ops-uvicorn.log")
        own.stop()


@pytest.mark.services
def test_a_database_restart_answers_503_meanwhile_and_recovers_at_once(
    own_postgres_app: Stack,
) -> None:
    http, bearer = own_postgres_app.http, {"Authorization": f"Bearer {own_postgres_app.token}"}
    assert http.get("/gallery/").status_code == 200
    assert http.get("/api/v1/jobs", headers=bearer).status_code == 200

    own_postgres_app.postgres.stop()
    page = http.get("/gallery/")
    api = http.get("/api/v1/jobs", headers=bearer)
    fragment = http.get("/history/", headers={"HX-Request": "true"})

    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "database is not answering right now" in page.text
    assert "Try again in a minute" in page.text
    assert "Traceback" not in page.text
    assert "OperationalError" not in page.text
    assert page.headers["Retry-After"]
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "unavailable"
    assert "database is not answering" in api.json()["error"]["message"]
    assert fragment.status_code == 503

    own_postgres_app.postgres.start()

    assert http.get("/gallery/").status_code == 200
    assert http.get("/api/v1/jobs", headers=bearer).status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("catalog")
def test_a_preview_while_redis_is_down_answers_503(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = submit(user, "openai/gpt-image-1", "a preview nobody can fetch")
    dead = f"redis://127.0.0.1:{services.free_port()}/0"
    cache = {**settings.CACHES["default"], "LOCATION": dead}
    client = Client(raise_request_exception=False)
    client.force_login(user)

    with override_settings(CACHES={"default": cache}):
        response = client.get(f"/jobs/{job.pk}/preview/1")

    assert response.status_code == 503
    assert "Redis" in response.content.decode()
    assert Job.objects.filter(pk=job.pk).exists()
