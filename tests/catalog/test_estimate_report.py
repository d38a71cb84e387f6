"""Estimates against the emulator's real charges over HTTP (issue 10, item 5): an accuracy check."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import estimate_report
from catalog.estimate_report import Cell
from catalog.models import ImageModel

pytestmark = pytest.mark.django_db

# The cells the issue measured far off, and one of each other pricing unit.
REPRESENTATIVE = [
    Cell("openai/gpt-image-1", "openai", "images", None, None),  # billed as high: was 3.2x under
    Cell("openai/gpt-image-1", "openai", "images", None, "low"),
    Cell("openai/gpt-5-image", "openai", "chat", None, None),
    Cell("google/gemini-3-pro-image-preview", "google-ai-studio", "images", "2K", None),
    Cell("google/gemini-3-pro-image-preview", "google-vertex", "images", "4K", None),
    Cell("google/gemini-3.1-flash-image-preview", "google-ai-studio", "images", "512", None),
    Cell("google/gemini-3.1-flash-image-preview", "google-ai-studio", "chat", "512", None),
    Cell("google/gemini-2.5-flash-image", "google-ai-studio", "images", "1K", None),
    Cell("microsoft/mai-image-2.5", "azure", "images", "1K", None),  # was 25% over
    Cell("black-forest-labs/flux.2-pro", "black-forest-labs", "images", "2K", None),
    Cell("bytedance-seed/seedream-4.5", "bytedance", "images", "4K", None),
    Cell("sourceful/riverflow-v2-pro", "sourceful", "images", "4K", None),
]


def test_representative_cells_are_within_10_percent_of_the_charge(synced: Any) -> None:
    rows = estimate_report.compare(synced.url, REPRESENTATIVE)

    off = [(row.cell, row.estimate, row.charge, row.error) for row in rows if not row.within]
    assert off == []
    assert len(rows) == len(REPRESENTATIVE)
    assert all(row.charge is not None and row.charge > 0 for row in rows)


def test_every_synced_model_has_cells_for_each_tier_and_quality(synced: Any) -> None:
    cells = estimate_report.cells(ImageModel.objects.all())

    assert {cell.model for cell in cells} == set(ImageModel.objects.values_list("slug", flat=True))
    gpt = {(c.style, c.quality) for c in cells if c.model == "openai/gpt-image-1"}
    assert gpt == {("images", q) for q in (None, "auto", "low", "medium", "high")}
    flash = {(c.style, c.tier) for c in cells if c.model == "google/gemini-3.1-flash-image-preview"}
    assert flash == {(s, t) for s in ("images", "chat") for t in ("512", "1K", "2K", "4K")}


def test_the_command_prints_the_table_and_the_verdict(synced: Any) -> None:
    out = io.StringIO()
    call_command(
        "estimate_report",
        emulator_url=synced.url,
        models=["microsoft/mai-image-2.5", "openai/gpt-image-1-mini"],
        stdout=out,
    )

    text = out.getvalue()
    lines = text.strip().splitlines()
    assert lines[0].split()[:3] == ["model", "provider", "style"]
    assert sum("openai/gpt-image-1-mini" in line for line in lines) == 5
    assert lines[-1] == "Every cell within 10%: yes (6 cells)."


def test_the_command_fails_when_an_estimate_is_off(synced: Any) -> None:
    # The emulator now charges 4x what the synced catalog says: every estimate is 4x under.
    synced.patch_catalog(
        {
            "set_price": [
                {"model": "recraft/recraft-v3", "billable": "output_image", "cost_usd": 0.16}
            ]
        }
    )
    out = io.StringIO()

    with pytest.raises(CommandError, match="more than 10%"):
        call_command(
            "estimate_report", emulator_url=synced.url, models=["recraft/recraft-v3"], stdout=out
        )

    assert "0.250" in out.getvalue()
    assert out.getvalue().strip().endswith("(1 of 1 cells outside).")


def test_an_unknown_model_is_a_clear_error(synced: Any) -> None:
    with pytest.raises(CommandError, match="Not in the synced catalog: acme/nothing"):
        call_command("estimate_report", emulator_url=synced.url, models=["acme/nothing"])
