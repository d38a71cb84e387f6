"""A mixed run of all four styles with faults: what Darkroom records equals what the
emulator charged, to the last digit, and no reservation is left once settled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from costs import budgets, reconcile
from generation.models import Job, Status, Style
from tests.generation.conftest import charges_for, submit, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "catalog"),
]

IMAGE_MODEL = "openai/gpt-image-1"  # streams on the Image API
CHAT_MODEL = "google/gemini-2.5-flash-image"
TOOL_MODEL = "openai/gpt-5-image-mini"

RUN = [
    (IMAGE_MODEL, Style.IMAGES, "fine"),
    (IMAGE_MODEL, Style.IMAGES, "[emulator:stream_error]"),
    (IMAGE_MODEL, Style.IMAGES, "[emulator:fail=502]"),
    (IMAGE_MODEL, Style.IMAGES, "[emulator:bytes=garbage]"),
    (CHAT_MODEL, Style.CHAT, "fine"),
    (CHAT_MODEL, Style.CHAT, "[emulator:truncate]"),
    (CHAT_MODEL, Style.CHAT, "[emulator:stream_error]"),
    (CHAT_MODEL, Style.CHAT, "[emulator:refuse]"),
    (CHAT_MODEL, Style.CHAT, "[emulator:preview]"),
    (CHAT_MODEL, Style.CHAT, "[emulator:malformed]"),
    (TOOL_MODEL, Style.TOOL_CHAT, "fine"),
    (TOOL_MODEL, Style.TOOL_CHAT, "[emulator:tool_shape=plain_url]"),
    (TOOL_MODEL, Style.TOOL_CHAT, "[emulator:truncate]"),
    (TOOL_MODEL, Style.TOOL_RESPONSES, "fine"),
    (TOOL_MODEL, Style.TOOL_RESPONSES, "[emulator:tool_shape=imageB64]"),
    (TOOL_MODEL, Style.TOOL_RESPONSES, "[emulator:truncate]"),
]


def test_recorded_costs_equal_the_emulators_ledger_after_reconciliation(
    user: User, emulator: Any
) -> None:
    prompts = [f"money-true {index} {fault}" for index, (_, _, fault) in enumerate(RUN)]
    jobs = [
        submit(user, slug, prompt, style=style)
        for (slug, style, _), prompt in zip(RUN, prompts, strict=True)
    ]
    finished = [wait_for(job.pk) for job in jobs]
    assert {job.status for job in finished} <= {Status.SUCCEEDED, Status.FAILED}

    report = reconcile.reconcile(delays=(0.5, 1.0, 2.0))

    assert report.pending == 0
    charged = sum(
        (Decimal(entry["cost"]) for prompt in prompts for entry in charges_for(emulator, prompt)),
        Decimal(0),
    )
    recorded = Job.objects.filter(pk__in=[job.pk for job in jobs])
    assert charged > 0
    assert sum((job.charge or Decimal(0) for job in recorded), Decimal(0)) == charged
    assert not [job.prompt for job in recorded if job.reserved_cost]
    assert budgets.standing(user)[0].spent == charged
    # The preview was kept as a preview only: one image stored for it.
    preview = recorded.get(prompt=prompts[8])
    assert preview.images.count() == 1


def test_an_image_api_charge_of_unknown_size_is_held_until_staff_settle_it(
    user: User, staff: User, emulator: Any
) -> None:
    prompt = "money-true unknown [emulator:stream_error,no_usage]"
    job = wait_for(submit(user, IMAGE_MODEL, prompt).pk)

    assert job.status == Status.FAILED
    assert "may have been charged" in job.error_message or "may have charged" in (job.error_message)
    assert job.charge_unknown
    assert budgets.standing(user)[0].spent == job.estimated_cost
    (entry,) = charges_for(emulator, prompt)

    assert reconcile.settle(job.pk, Decimal(entry["cost"]), staff)

    job.refresh_from_db()
    assert job.charge == Decimal(entry["cost"])
    assert budgets.standing(user)[0].spent == Decimal(entry["cost"])
