"""Every form and API field, fuzzed: no input makes a page or endpoint answer 5xx.

A bounded, deterministic run (``derandomize``, no example database) over the
real test client on the real PostgreSQL, with the synced catalog, a stored
image, a board and a job to aim at. Values mix what each field expects with
what broke it before: NUL, lone surrogates (JSON only: form encoding cannot
carry them), "digits" such as "²", far dates, deep JSON, oversized and
random text, random bytes as uploads. The test client re-raises any
exception a view lets out, so a failure names the example; every streamed
body (CSV ledger, zip) is read to its end, where a late error would surface.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import ImageModel
from gallery.models import Board
from generation.models import Image, Job, Status, Style
from tests.api.conftest import bearer
from tests.gallery.conftest import add_image, make_job, png
from tests.generation.conftest import catalog  # noqa: F401 - the synced catalog
from webapp import tokens

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog")]

# Per endpoint; with about 30 endpoints the whole run stays well under a minute.
EXAMPLES = 20
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY = [
    "",
    "\x00",
    "a\x00b",
    "²",
    "١٢",
    "9" * 30,
    "-1",
    "0",
    " 1 ",
    "1e309",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-W01-1",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\ufeff",
    "x" * 5000,
    "true",
    "null",
    "[]",
    '{"a": [[[[1]]]]}',
    "[" * 200,
    "https://example.com/a.png",
    "http://127.0.0.1/",
    "javascript:alert(1)",
]
# Form text: anything but surrogates, which no form encoding can carry.
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))
SURROGATE_TEXT = st.text(
    alphabet=st.one_of(st.characters(categories=["Cs"]), st.characters()), max_size=8
)
JSON_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        TEXT,
        SURROGATE_TEXT,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@dataclass
class World:
    """What the fuzzed requests aim at."""

    user: User
    client: Client
    api: Client
    image: Image
    job: Job
    board: Board
    models: list[str]


@pytest.fixture
def world(make_user: Any) -> World:
    user = make_user("fuzzer", staff=True)
    client = Client()
    client.force_login(user)
    api = Client(headers=bearer(tokens.create(user, "fuzz")[1]))
    job = make_job(user, "a lighthouse at dusk", status=Status.SUCCEEDED)
    image = add_image(job)
    board = Board.objects.create(name="Moodboard", created_by=user)
    models = list(ImageModel.objects.order_by("slug").values_list("slug", flat=True))
    queued = Job.objects.create(
        author=user,
        model=job.model,
        model_slug=job.model_slug,
        style=Style.IMAGES,
        prompt="queued",
        status=Status.QUEUED,
    )
    return World(user, client, api, image, queued, board, models)


def field(*expected: Any) -> st.SearchStrategy[Any]:
    """A field's value: one it expects, one known to be nasty, or any text."""
    if not expected:
        return TEXT
    return st.one_of(st.sampled_from(expected), st.sampled_from(NASTY), st.text(max_size=30))


def form(
    fields: dict[str, st.SearchStrategy[Any]], baseline: dict[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """``baseline`` (a request that gets far into the view) with one to three of
    ``fields`` set to drawn values, at times one left out, at times a key no
    form has: each example aims at a few fields, so all of them get aimed at."""
    names = sorted(fields)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        data = dict(baseline or {})
        if baseline and draw(st.booleans()):
            data.pop(draw(st.sampled_from(sorted(baseline))))
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
            data[name] = draw(fields[name])
        extra = draw(st.sampled_from(["", "", "unknown", "\x00", "csrfmiddlewaretoken"]))
        if extra:
            data[extra] = draw(TEXT)
        return data

    return build()


def generate_baseline(world: World) -> dict[str, Any]:
    return {"prompt": "a cat", "model": "openai/gpt-image-1", "style": Style.IMAGES}


def generate_fields(world: World) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "prompt": field("a cat", "a cat [emulator:slow=0]"),
        "model": field(*world.models),
        "style": field(*Style.values),
        "compare": st.lists(field(*world.models), max_size=8),
        "reference_urls": field("https://example.com/a.png\nhttps://example.com/b.png"),
        "is_private": field("on"),
        "remix_of": field(str(world.job.pk), "00000000-0000-0000-0000-000000000000"),
        "reuse_references": field("on"),
        "opt__n": field("1", "2", "11"),
        "opt__aspect_ratio": field("1:1", "16:9", "99:1"),
        "opt__resolution": field("1K", "4K"),
        "opt__quality": field("low", "high"),
        "opt__size": field("1024x1024", "auto"),
        "opt__seed": field("42", str(2**40)),
        "opt__output_format": field("png", "gif"),
        "opt__output_compression": field("50", "101"),
        "opt__background": field("transparent"),
        "opt__image_config__aspect_ratio": field("16:9", "1:8"),
        "opt__image_config__image_size": field("0.5K", "2K"),
        "opt__image_config__text_layout": field(
            '[{"text": "hi", "bbox": [[0,0],[1,0],[1,1],[0,1]]}]', '[{"text": "\\u0000"}]'
        ),
        "opt__image_config__rgb_colors": field("[[1,2,3]]", '[["\\ud800"]]'),
        "opt__provider_options__steps": field("40", "true", "[1, 2]"),
        "references": st.lists(
            st.builds(
                lambda data, name, kind: SimpleUploadedFile(name, data, content_type=kind),
                st.one_of(
                    st.binary(max_size=64),
                    st.just(png()),
                    st.just(png() + b"<html>tail</html>"),
                ),
                st.sampled_from(["a.png", "b.jpg", "c.svg", "\x00.png", "x" * 300]),
                st.sampled_from(["image/png", "image/jpeg", "text/html", ""]),
            ),
            max_size=2,
        ),
    }


def filter_fields(world: World) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "q": field("cat", '"a phrase" -not', "or"),
        "author": field(world.user.get_username()),
        "model": field(*world.models),
        "provider": field("OpenAI"),
        "style": field(*Style.values),
        "status": field(*Status.values),
        "date_from": field("2026-01-01", "9999-12-31", "0001-01-01"),
        "date_to": field("2026-12-31", "9999-12-31"),
        "media_type": field("image/png", "image/svg+xml"),
        "favourites": field("on", "1"),
        "board": field(str(world.board.pk)),
        "after": field("1700000000000000-" + "0" * 32, "²-" + "0" * 32),
    }


def range_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "range": field("month", "30d", "90d"),
        "from": field("2026-01-01", "9999-12-30", "1900-01-01"),
        "to": field("2026-12-31", "9999-12-31", "0001-01-02"),
    }


@dataclass(frozen=True)
class Endpoint:
    """One URL and method, with what to send it."""

    name: str
    method: str
    url: Callable[[World], str]
    data: Callable[[World], st.SearchStrategy[Any]]
    api: bool = False


ENDPOINTS = [
    Endpoint(
        "generate page",
        "GET",
        lambda w: "/",
        lambda w: form(
            generate_fields(w)
            | {
                "prompt_of": field(str(w.job.pk)),
                "remix": field(str(w.job.pk)),
            }
        ),
    ),
    Endpoint(
        "generate",
        "POST",
        lambda w: "/",
        lambda w: form(generate_fields(w), generate_baseline(w)),
    ),
    Endpoint(
        "estimate",
        "POST",
        lambda w: "/generate/estimate",
        lambda w: form(generate_fields(w), generate_baseline(w)),
    ),
    Endpoint(
        "options",
        "GET",
        lambda w: "/generate/options",
        lambda w: form(
            {"model": field(*w.models), "style": field(*Style.values)}, generate_baseline(w)
        ),
    ),
    Endpoint("gallery", "GET", lambda w: "/gallery/", lambda w: form(filter_fields(w))),
    Endpoint(
        "board page",
        "GET",
        lambda w: f"/gallery/boards/{w.board.pk}/",
        lambda w: form(filter_fields(w)),
    ),
    Endpoint(
        "image page", "GET", lambda w: f"/gallery/{w.image.pk}/", lambda w: form(filter_fields(w))
    ),
    Endpoint("history", "GET", lambda w: "/history/", lambda w: form(filter_fields(w))),
    Endpoint(
        "new board",
        "POST",
        lambda w: "/gallery/boards/",
        lambda w: form({"name": field("Moodboard", "New"), "description": TEXT}, {"name": "Fresh"}),
    ),
    Endpoint(
        "add to board",
        "POST",
        lambda w: f"/gallery/{w.image.pk}/board",
        lambda w: form(
            {
                "board": field(str(w.board.pk), "²"),
                "new_board": field("Another"),
                "next": field("/gallery/", "https://evil.example/"),
            },
            {"board": str(w.board.pk)},
        ),
    ),
    Endpoint(
        "favourite",
        "POST",
        lambda w: f"/gallery/{w.image.pk}/favourite",
        lambda w: form({"on": field("1", "0"), "next": field("/gallery/")}, {"on": "1"}),
    ),
    Endpoint(
        "selection",
        "POST",
        lambda w: "/gallery/selection",
        lambda w: form(
            {
                "image": st.lists(field(str(w.image.pk)), max_size=3),
                "action": field("zip", "board", "delete"),
                "board": field(str(w.board.pk)),
                "new_board": field("Picked"),
                "next": field("/gallery/"),
            },
            {"image": [str(w.image.pk)], "action": "board", "board": str(w.board.pk)},
        ),
    ),
    Endpoint("costs", "GET", lambda w: "/costs/", lambda w: form(range_fields())),
    Endpoint("ledger csv", "GET", lambda w: "/costs/ledger.csv", lambda w: form(range_fields())),
    Endpoint(
        "budget",
        "POST",
        lambda w: "/costs/budgets",
        lambda w: form(
            {
                "who": field("team", str(w.user.pk), "²"),
                "monthly_usd": field("25", "12.50", "-1", "1e309", "0.001"),
                **range_fields(),
            },
            {"who": "team", "monthly_usd": "25"},
        ),
    ),
    Endpoint(
        "models",
        "GET",
        lambda w: "/models/",
        lambda w: form(
            {
                "q": TEXT,
                "input": field("image", "text"),
                "output": field("image"),
                "streaming": field("yes", "no"),
                "param": field("n", "seed"),
                "min_price": field("0.01", "-1", "1e309"),
                "max_price": field("1", "NaN"),
                "sort": field("name", "-price"),
                "retired": field("on"),
            }
        ),
    ),
    Endpoint(
        "model page",
        "GET",
        lambda w: "/models/",
        lambda w: st.builds(lambda slug: {"__path__": slug}, field(*w.models)),
    ),
    Endpoint(
        "api list",
        "GET",
        lambda w: "/api/v1/jobs",
        lambda w: form(
            {
                "limit": field("1", "100", "101", "²", "١٠"),
                "status": field(*Status.values),
                "before": field(str(w.job.pk), "2026-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"),
            }
        ),
        api=True,
    ),
    Endpoint(
        "api create",
        "POST",
        lambda w: "/api/v1/jobs",
        lambda w: st.one_of(
            form(
                {
                    "prompt": st.one_of(st.just("a cat"), SURROGATE_TEXT, JSON_VALUE),
                    "model": st.one_of(st.sampled_from(w.models), JSON_VALUE),
                    "style": st.one_of(st.sampled_from(Style.values), JSON_VALUE),
                    "options": st.one_of(
                        st.dictionaries(
                            st.sampled_from(
                                ["n", "aspect_ratio", "image_config.aspect_ratio", "x", "\x00"]
                            ),
                            JSON_VALUE,
                            max_size=3,
                        ),
                        JSON_VALUE,
                    ),
                    "reference_urls": st.one_of(
                        st.lists(field("https://example.com/a.png"), max_size=5), JSON_VALUE
                    ),
                    "private": JSON_VALUE,
                    "compare": st.one_of(st.lists(field(*w.models), max_size=8), JSON_VALUE),
                    "junk": JSON_VALUE,
                },
                generate_baseline(w),
            ),
            JSON_VALUE,
            st.binary(max_size=40),
            st.just(b"[" * 50_000 + b"]" * 50_000),
            st.just(b'{"prompt": "\\ud800"}'),
        ),
        api=True,
    ),
    Endpoint(
        "api cancel",
        "POST",
        lambda w: f"/api/v1/jobs/{w.job.pk}/cancel",
        lambda w: JSON_VALUE,
        api=True,
    ),
]


def _send(world: World, endpoint: Endpoint, data: Any) -> Any:
    client = world.api if endpoint.api else world.client
    url = endpoint.url(world)
    if isinstance(data, dict) and "__path__" in data:
        return client.get(f"{url}{data['__path__']}/")
    if endpoint.method == "GET":
        return client.get(url, data)
    if endpoint.api:
        body = data if isinstance(data, bytes) else json.dumps(data)
        return client.post(url, body, content_type="application/json")
    return client.post(url, data)


def _read(response: Any) -> None:
    """Read a streamed body to its end: an error there would cut a file short."""
    if response.streaming:
        b"".join(response.streaming_content)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_no_input_makes_a_server_error(world: World, endpoint: Endpoint) -> None:
    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        sent = data.draw(endpoint.data(world), label=endpoint.name)
        response = _send(world, endpoint, sent)
        _read(response)
        assert response.status_code < 500, (endpoint.name, sent, response.status_code)
        if endpoint.api and response.status_code >= 400:
            error = response.json()["error"]
            assert set(error) <= {"code", "message", "fields"}
            assert error["message"]

    run()
