"""The Celery app is configured for long generations on Redis, and a real worker answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from webapp.celery import app


def test_configuration_is_safe_for_long_generations() -> None:
    conf = app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.broker_transport_options["visibility_timeout"] > settings.GENERATION_TIME_LIMIT
    assert conf.broker_transport_options["socket_timeout"] <= 10
    assert conf.task_time_limit > conf.task_soft_time_limit >= settings.GENERATION_TIME_LIMIT
    assert conf.task_routes["generation.tasks.run_job"] == {"queue": "generation"}
    assert conf.task_default_queue == "default"


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()

    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_answers_on_the_broker(celery_worker: Any) -> None:
    replies = app.control.ping(timeout=2)

    assert replies
    assert any(name.startswith("test-") for reply in replies for name in reply)
