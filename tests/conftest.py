"""Fixtures shared by the whole suite: users, logged-in clients, a Celery worker, a browser."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests import services
from tests.settings import SERVICES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_catalog_snapshot() -> Iterator[None]:
    """Each test reads the catalog its own database holds: this process's copy
    (catalog.snapshot) may hold a previous test's rolled-back rows."""
    from catalog import snapshot

    snapshot.clear()
    yield
    snapshot.clear()


@pytest.fixture
def make_user(db: None) -> Any:
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, *, staff: bool = False, password: str = "pw") -> User:
        name = username or f"user{next(counter)}"
        return User.objects.create_user(
            username=name, password=password, is_staff=staff, is_superuser=staff
        )

    return make


@pytest.fixture
def user(make_user: Any) -> User:
    return make_user("alice")


@pytest.fixture
def staff(make_user: Any) -> User:
    return make_user("boss", staff=True)


@pytest.fixture
def user_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def worker_env(database_name: str) -> dict[str, str]:
    """The environment a subprocess needs to run the app against the test services."""
    env = dict(os.environ)
    env.update(SERVICES.env)
    env["DJANGO_SETTINGS_MODULE"] = "tests.subprocess_settings"
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{database_name}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{database_name}"
    env["OPENROUTER_BASE_URL"] = settings.OPENROUTER_BASE_URL
    env["DARKROOM_RETRY_BACKOFF_MS"] = "100"  # retries in tests need not wait seconds
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process serving both queues against the test database."""
    from webapp.celery import app

    with django_db_blocker.unblock():
        from django.db import connection

        database_name = connection.settings_dict["NAME"]
    process = SERVICES.spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webapp",
            "worker",
            "-Q",
            "generation,default",
            "-P",
            "threads",
            "-c",
            "16",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        "celery",
        env=worker_env(str(database_name)),
        cwd=str(ROOT),
    )

    def answers() -> bool:
        return bool(app.control.ping(timeout=0.5))

    services.wait_for(answers, f"Celery worker (log: {SERVICES.log('celery')})", timeout=60)
    yield process
    process.terminate()
    process.wait(timeout=30)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; Playwright never downloads a browser here."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page: Any, live_server: Any) -> Any:
    """Log a user in through the real login form; returns the page."""

    def do_login(user: User, password: str = "pw") -> Any:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return do_login


class Emulator:
    """The running emulator, reset for each test, with its control endpoints at hand."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def reset(self) -> None:
        self.http.post("/__emulator__/reset").raise_for_status()

    def configure(self, **config: Any) -> None:
        self.http.post("/__emulator__/config", json=config).raise_for_status()

    def patch_catalog(self, patch: dict[str, Any]) -> None:
        self.http.post("/__emulator__/catalog", json=patch).raise_for_status()

    def ledger(self) -> dict[str, Any]:
        response = self.http.get("/__emulator__/ledger")
        response.raise_for_status()
        return dict(response.json())

    def requests(self) -> dict[str, Any]:
        response = self.http.get("/__emulator__/requests")
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The offline OpenRouter emulator the app is pointed at, fresh for this test."""
    from tests.settings import EMULATOR

    emulator = Emulator(EMULATOR.url)
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """Darkroom under uvicorn (ASGI, so server-sent events stream), on the test
    database; pytest-django's live_server is WSGI and would buffer the streams."""
    with django_db_blocker.unblock():
        from django.db import connection

        database_name = connection.settings_dict["NAME"]
    port = services.free_port()
    process = SERVICES.spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "webapp.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "2",
            "--no-access-log",
        ],
        "uvicorn",
        env=worker_env(str(database_name)),
        cwd=str(ROOT),
    )
    services.wait_for(lambda: services.port_open(port), f"uvicorn (log: {SERVICES.log('uvicorn')})")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)
