"""The shared prompt history: identical prompts grouped, newest use first, keyset
pages over groups, searchable and filterable, and "Run again" through the
Generate form so that validation and budgets apply."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from costs.models import Budget
from gallery import history
from gallery.paging import Filters
from generation.models import Job, Status
from tests.gallery.conftest import add_image, make_image, make_job

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def group_prompts(response: Any) -> list[str]:
    return [
        html.unescape(text)
        for text in re.findall(r'data-testid="group-prompt">(.*?)</p>', response.text, re.S)
    ]


def run_again_data(response: Any, index: int = 0) -> dict[str, str]:
    forms = re.findall(r'<form[^>]*data-testid="run-again">(.*?)</form>', response.text, re.S)
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', forms[index])
        if name != "csrfmiddlewaretoken"
    }


def test_identical_prompts_are_one_group_with_counts_per_model(
    user: User, bob: User, user_client: Client
) -> None:
    now = timezone.now()
    first = make_image(user, "a red fox", created_at=now - 5 * HOUR, cost=Decimal("0.04"))
    make_job(user, "a grey wolf", created_at=now - 4 * HOUR)
    make_job(
        bob,
        "a red fox",
        model="google/gemini-2.5-flash-image",
        created_at=now - 3 * HOUR,
        status=Status.FAILED,
        cost=None,
    )
    latest = make_image(bob, "a red fox", created_at=now - 2 * HOUR, cost=Decimal("0.06"))

    response = user_client.get("/history/")

    assert response.status_code == 200
    assert group_prompts(response) == ["a red fox", "a grey wolf"]
    summary = re.search(r'data-testid="group-summary">(.*?)</p>', response.text, re.S)
    assert summary is not None
    words = " ".join(re.sub(r"<[^>]+>", "", summary.group(1)).split())
    assert words == (
        "Run 3 times on openai/gpt-image-1 ×2, google/gemini-2.5-flash-image ×1 · $0.10 in all"
    )
    fox = response.text.split('data-testid="prompt-group"')[1]
    assert fox.count('data-testid="run"') == 3
    assert fox.index("bob") < fox.index("alice")  # newest run first
    assert "Failed" in fox
    assert "Succeeded" in fox
    assert f'src="/media/{latest.pk}/thumbnail"' in fox  # the strip of images
    assert f'src="/media/{first.pk}/thumbnail"' in fox
    assert f'href="/gallery/{latest.pk}/"' in fox
    assert f'data-copy="#prompt-{latest.job_id}"' in fox  # copy prompt (JS reveals it)
    assert f'id="prompt-{latest.job_id}"' in fox  # the text, selectable without JS


def test_a_group_moves_to_the_top_when_its_prompt_is_used_again(user: User) -> None:
    now = timezone.now()
    make_job(user, "a red fox", created_at=now - 3 * HOUR)
    make_job(user, "a grey wolf", created_at=now - 2 * HOUR)
    make_job(user, "a red fox", created_at=now - HOUR)

    page = history.history_page(user, Filters())

    assert [(g.latest.prompt, g.runs) for g in page.items] == [("a red fox", 2), ("a grey wolf", 1)]


def test_only_the_latest_runs_are_listed_and_the_rest_counted(user: User) -> None:
    for _ in range(history.HISTORY_RUNS_SHOWN + 2):
        make_job(user, "again and again")

    (group,) = history.history_page(user, Filters()).items

    assert len(group.recent) == history.HISTORY_RUNS_SHOWN
    assert group.earlier == 2


def test_keyset_pages_over_groups(
    user: User, user_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "HISTORY_PAGE_SIZE", 2)
    now = timezone.now()
    for i in range(5):
        make_job(user, f"prompt {i}", created_at=now - (10 - i) * HOUR)
        make_job(user, f"prompt {i}", created_at=now - (5 - i) * HOUR)  # used again later

    seen: list[str] = []
    url = "/history/"
    while url:
        response = user_client.get(url)
        assert response.status_code == 200
        seen += group_prompts(response)
        found = re.search(r'href="([^"]+)" data-testid="next-page"', response.text)
        url = html.unescape(found.group(1)) if found else ""

    assert seen == [f"prompt {i}" for i in reversed(range(5))]


def test_infinite_scroll_gets_only_the_next_groups(
    user: User, user_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "HISTORY_PAGE_SIZE", 1)
    make_job(user, "older")
    make_job(user, "newer")
    first = user_client.get("/history/")
    next_url = html.unescape(re.findall(r'href="([^"]+)" data-testid="next-page"', first.text)[0])

    response = user_client.get(
        next_url, headers={"HX-Request": "true", "HX-Target": "history-next"}
    )

    assert response.text.lstrip().startswith("<article")
    assert group_prompts(response) == ["older"]


def test_search_and_filters_like_the_gallery(user: User, bob: User, user_client: Client) -> None:
    make_job(user, "a red fox in the snow")
    make_job(bob, "a red fox in the snow", status=Status.FAILED)
    make_job(bob, "lighthouses at dusk")
    make_job(user, "a grey wolf")

    def prompts(query: str) -> list[str]:
        response = user_client.get(f"/history/?{query}")
        assert response.status_code == 200
        return group_prompts(response)

    assert prompts("q=lighthouse") == ["lighthouses at dusk"]
    assert prompts("q=fox&author=bob") == ["a red fox in the snow"]
    assert prompts("status=failed") == ["a red fox in the snow"]
    assert prompts("author=alice&q=-fox") == ["a grey wolf"]
    assert prompts("provider=OpenAI&style=images&model=openai%2Fgpt-image-1&q=wolf") == [
        "a grey wolf"
    ]
    assert "No prompt matches these filters." in user_client.get("/history/?q=zebra").text


def test_a_filtered_group_counts_only_matching_runs(user: User, bob: User) -> None:
    make_job(user, "a red fox")
    make_job(bob, "a red fox")

    (group,) = history.history_page(user, Filters(author_id=bob.pk)).items

    assert group.runs == 1
    assert group.latest.author == bob


def test_private_prompts_of_others_are_invisible(
    user: User, bob: User, user_client: Client, bob_client: Client
) -> None:
    make_job(user, "my secret prompt", private=True)
    make_job(user, "a shared prompt", private=True)
    make_job(bob, "a shared prompt")

    bobs = bob_client.get("/history/")
    alices = user_client.get("/history/")

    assert group_prompts(bobs) == ["a shared prompt"]
    assert "Run <strong>1</strong> time " in bobs.text
    assert "my secret prompt" not in bob_client.get("/history/?q=secret").text
    assert group_prompts(alices) == ["a shared prompt", "my secret prompt"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=nonsense", "This page link is broken or out of date"),
        ("date_to=yesterday", "To: Enter a valid date."),
        ("status=exploded", "Outcome: Select a valid choice."),
    ],
)
def test_bad_input_is_a_400_with_a_message(user_client: Client, query: str, message: str) -> None:
    response = user_client.get(f"/history/?{query}")

    assert response.status_code == 400
    assert message in response.text


@pytest.mark.usefixtures("catalog")
def test_run_again_submits_the_same_request_through_the_generate_form(
    user: User, bob: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    original = make_job(bob, "a red fox at dawn", params={"quality": "low"})
    add_image(original)
    data = run_again_data(user_client.get("/history/"))
    assert data["prompt"] == "a red fox at dawn"
    assert data["opt__quality"] == "low"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.post("/", data)

    new = Job.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{new.pk}/"
    assert (new.author, new.prompt, new.model_slug, new.style, new.params["quality"]) == (
        user,
        "a red fox at dawn",
        "openai/gpt-image-1",
        original.style,
        "low",
    )
    assert new.status == Status.QUEUED
    assert new.estimated_cost > 0
    assert len(callbacks) == 1  # queued after commit, like any new request


@pytest.mark.usefixtures("catalog")
def test_run_again_is_refused_over_budget(
    user: User, user_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    make_job(user, "a red fox at dawn", params={"quality": "low"})
    Budget.objects.create(user=user, monthly_usd=Decimal("0.00"))
    data = run_again_data(user_client.get("/history/"))

    with django_capture_on_commit_callbacks(execute=False):
        response = user_client.post("/", data)

    assert response.status_code == 400
    assert "This would go over your monthly budget of $0.00" in response.text
    assert Job.objects.count() == 1


def test_the_history_needs_a_login() -> None:
    response = Client().get("/history/")

    assert response.status_code == 302
