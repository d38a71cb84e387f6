"""The CSV ledger: one row per job in a range, safe to open in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import (
    Prefetch,
)
from django.utils import timezone

from costs import budgets
from costs.money import PRIVATE_PROMPT
from costs.ranges import DateRange, jobs_in
from gallery.models import BoardItem
from generation.models import (
    Image,
)

LEDGER_HEADER = [
    "row_type",
    "job_id",
    "created_at",
    "author",
    "prompt",
    "private",
    "model",
    "provider",
    "style",
    "status",
    "error_code",
    "estimated_cost",
    "actual_cost",
    "confirmed_cost",
    "reserved_cost",
    "charged",
    "upstream_id",
    "image_id",
    "image_index",
    "width",
    "height",
    "media_type",
    "bytes",
    "boards",
]
# (which some programs strip before looking). A leading quote makes it text.
# A spreadsheet runs a cell that starts like a formula: =, +, -, @, and tab or CR
# (which some programs strip before looking). A leading quote makes it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _money_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def ledger_rows(span: DateRange) -> Iterator[list[str]]:
    """The header, then for every job in the range (oldest first) a ``job`` row with
    its costs, followed by one ``image`` row per stored image. Image rows repeat the
    job's descriptive columns but leave the money columns empty, so that summing a
    money column over the whole file gives the ledger's total. Boards belong to
    images; a job row lists the boards of all its images."""
    yield LEDGER_HEADER
    items = Prefetch("board_items", queryset=BoardItem.objects.select_related("board"))
    jobs = (
        jobs_in(span)
        .select_related("author")
        .annotate(charged=budgets.charged_expression())
        .prefetch_related(
            Prefetch("images", queryset=Image.objects.order_by("index").prefetch_related(items))
        )
        .order_by("created_at", "pk")
    )
    for job in jobs.iterator(chunk_size=500):
        images = list(job.images.all())
        boards = {
            image.pk: sorted({item.board.name for item in image.board_items.all()})
            for image in images
        }
        descriptive = [
            str(job.pk),
            timezone.localtime(job.created_at).isoformat(),
            job.author.get_username(),
            PRIVATE_PROMPT if job.is_private else job.prompt,
            "yes" if job.is_private else "no",
            job.model_slug,
            job.provider,
            job.style,
            job.status,
            job.error_code,
        ]
        money = [
            _money_text(job.estimated_cost),
            _money_text(job.actual_cost),
            _money_text(job.confirmed_cost),
            _money_text(job.reserved_cost),
            _money_text(job.charged),
        ]
        job_boards = sorted({name for names in boards.values() for name in names})
        yield [
            csv_safe(v)
            for v in [
                "job",
                *descriptive,
                *money,
                job.upstream_id,
                *[""] * 6,  # the image columns
                "; ".join(job_boards),
            ]
        ]
        for image in images:
            yield [
                csv_safe(v)
                for v in [
                    "image",
                    *descriptive,
                    *[""] * len(money),
                    job.upstream_id,
                    str(image.pk),
                    image.index,
                    image.width,
                    image.height,
                    image.media_type,
                    image.bytes,
                    "; ".join(boards[image.pk]),
                ]
            ]
