"""Every generation time limit in the documented range gives bounds that fit inside one another,
and a short limit still lets a generation succeed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from generation import services
from generation.models import Status
from tests.generation.conftest import catalog, submit  # noqa: F401 - catalog is a fixture
from webapp.limits import CATALOG_SYNC_HARD_LIMIT, GenerationLimits, served_url


def test_every_limit_in_the_range_gives_bounds_that_nest() -> None:
    for total in range(GenerationLimits.MINIMUM, GenerationLimits.MAXIMUM + 1):
        limits = GenerationLimits(total)

        # The call keeps at least 90 % of the limit and leaves at most 30 s for storing.
        assert 0 < limits.call < total, total
        assert total - limits.call <= min(30, total / 10) + 1e-9, total
        assert limits.overstay > total, total
        assert limits.task_soft >= limits.overstay, total
        assert limits.task_hard > limits.task_soft, total
        assert limits.visibility_timeout >= 3 * total, total
        assert limits.visibility_timeout > max(limits.task_hard, CATALOG_SYNC_HARD_LIMIT), total


def test_the_edges_of_the_range() -> None:
    assert GenerationLimits(10).call == 9.0
    assert GenerationLimits(300).call == 270.0
    assert GenerationLimits(3600).call == 3570.0
    for outside in (GenerationLimits.MINIMUM - 1, GenerationLimits.MAXIMUM + 1):
        with pytest.raises(ValueError, match="10–3600"):
            GenerationLimits(outside)


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://localhost:8000"),
        ("0.0.0.0", 9000, "http://localhost:9000"),  # noqa: S104 - an address people bind
        ("studio.lan", 8080, "http://studio.lan:8080"),
        ("192.168.1.20", 80, "http://192.168.1.20:80"),
        ("fd00::7", 8000, "http://[fd00::7]:8000"),
    ],
)
def test_the_served_url_follows_host_and_port(host: str, port: int, url: str) -> None:
    assert served_url(host, port) == url


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalog")
def test_a_one_second_answer_succeeds_at_the_shortest_limit(
    user: User, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shortest = GenerationLimits(GenerationLimits.MINIMUM)
    prompt = "a paper boat on a pond [emulator:latency=1]"
    # Run here, with the short limit, not on a worker with the suite's settings.
    monkeypatch.setattr(services, "enqueue", lambda *args, **kwargs: None)
    job = submit(user, "google/gemini-2.5-flash-image", prompt, style="chat")

    with override_settings(
        GENERATION_TIME_LIMIT=shortest.total,
        GENERATION_CALL_LIMIT=shortest.call,
        GENERATION_OVERSTAY_SECONDS=shortest.overstay,
    ):
        services.run(job.pk)

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.images.count() == 1
