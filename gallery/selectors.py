"""Reads of the team gallery: filters, the grid, one image, its neighbours, a selection, boards.

Every read starts from ``generation.selectors.visible_images`` / ``visible_jobs``,
so a private image stays invisible to everyone but its author here as
everywhere (grid, search, neighbours, boards, zip, history). A page is built
with the same small number of queries whatever its size (related rows joined,
favourite counts as subqueries).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from catalog.models import ImageModel
from gallery.models import Board, BoardItem, Favourite
from gallery.paging import Cursor, FilterOptions, Filters, GalleryError, Page
from gallery.search import search
from generation.models import Image, Job
from generation.selectors import visible_images, visible_jobs

GALLERY_PAGE_SIZE = 48  # divides into rows of 2, 3, 4, 6 and 8 tiles


# A zip, a board addition or a delete takes at most this many images at once.
MAX_SELECTION = 200


MEDIA_TYPE_LABELS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WebP",
    "image/svg+xml": "SVG",
    "image/gif": "GIF",
}


def job_conditions(filters: Filters, prefix: str) -> Q:
    condition = Q()
    if filters.author_id is not None:
        condition &= Q(**{f"{prefix}author_id": filters.author_id})
    if filters.model_id is not None:
        condition &= Q(**{f"{prefix}model_id": filters.model_id})
    if filters.provider:
        condition &= Q(**{f"{prefix}provider": filters.provider})
    if filters.style:
        condition &= Q(**{f"{prefix}style": filters.style})
    return condition


def in_dates(filters: Filters) -> Q:
    condition = Q()
    if filters.since is not None:
        condition &= Q(created_at__gte=filters.since)
    if filters.until is not None:
        condition &= Q(created_at__lt=filters.until)
    return condition


def filter_options(user: User) -> FilterOptions:
    """The authors, models, providers and boards to offer: four queries, none of
    which reads the images. Authors and models are probed per row of their own
    (small) tables through the jobs' author and model indexes; providers come
    from a loose index scan (``_providers``)."""
    jobs = visible_jobs(user)
    authors = list(
        get_user_model()
        .objects.filter(Exists(jobs.filter(author_id=OuterRef("pk"))))
        .order_by("username")
        .values_list("pk", "username")
    )
    models = list(
        ImageModel.objects.filter(Exists(jobs.filter(model_id=OuterRef("pk"))))
        .order_by("name", "slug")
        .values_list("pk", "slug", "name")
    )
    boards = list(Board.objects.order_by("name").values_list("pk", "name"))
    return FilterOptions(authors, models, _providers(user), boards)


def _providers(user: User) -> list[str]:
    """The distinct providers of the jobs ``user`` may see.

    A loose index scan (a recursive CTE on the provider index): one index probe
    per distinct provider instead of reading every job, which at 100,000 jobs
    is the difference between microseconds and a full scan per page view.
    """
    table = Job._meta.db_table
    sql = f"""
        WITH RECURSIVE providers(name) AS (
            SELECT MIN(provider) FROM {table}
            WHERE provider > '' AND (NOT is_private OR author_id = %s)
          UNION ALL
            SELECT (
                SELECT MIN(provider) FROM {table}
                WHERE provider > providers.name AND (NOT is_private OR author_id = %s)
            )
            FROM providers WHERE providers.name IS NOT NULL
        )
        SELECT name FROM providers WHERE name IS NOT NULL
    """  # noqa: S608 - the table name is ours, the values are parameters
    with connections[Job.objects.db].cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        return [row[0] for row in cursor.fetchall()]


def gallery_images(user: User, filters: Filters) -> QuerySet[Image]:
    """Every image ``user`` may see that passes ``filters``, unordered."""
    images = visible_images(user).filter(job_conditions(filters, "job__"), in_dates(filters))
    if filters.media_type:
        images = images.filter(media_type=filters.media_type)
    if filters.favourites_of is not None:
        images = images.filter(
            Exists(Favourite.objects.filter(user_id=filters.favourites_of, image_id=OuterRef("pk")))
        )
    if filters.board_id is not None:
        images = images.filter(
            Exists(BoardItem.objects.filter(board_id=filters.board_id, image_id=OuterRef("pk")))
        )
    if filters.q:
        images = search(images, filters.q, field="job__prompt")
    return images


def with_tile_data(images: QuerySet[Image], user: User) -> QuerySet[Image]:
    """Images with what a tile shows, in the same query: the job, its author and
    model joined, ``favourite_count`` and ``is_favourite`` (the viewer's) as
    subqueries evaluated only for the rows returned."""
    counts = (
        Favourite.objects.filter(image_id=OuterRef("pk"))
        .order_by()
        .values("image_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    # A scalar subquery, not EXISTS: PostgreSQL may run an EXISTS as one hashed
    # scan of ALL the viewer's favourites (42 ms at 1,000,000 images, whatever
    # the page); a scalar one is one index probe per row of the page.
    mine = Favourite.objects.filter(user_id=user.pk, image_id=OuterRef("pk")).values(
        flag=Value(True)
    )[:1]
    return images.select_related("job__author", "job__model").annotate(
        favourite_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
        is_favourite=Coalesce(
            Subquery(mine, output_field=BooleanField()), Value(False), output_field=BooleanField()
        ),
    )


def gallery_page(
    user: User, filters: Filters, after: Cursor | None = None, size: int | None = None
) -> Page[Image]:
    """One page of the gallery (``GALLERY_PAGE_SIZE`` images), newest first,
    after ``after``: one query."""
    size = size or GALLERY_PAGE_SIZE
    images = gallery_images(user, filters)
    if after is not None:
        images = images.filter(after.older())
    rows = list(with_tile_data(images, user).order_by("-created_at", "-pk")[: size + 1])
    next_cursor = Cursor.of(rows[size - 1]) if len(rows) > size else None
    return Page(rows[:size], next_cursor)


def neighbours(user: User, filters: Filters, image: Image) -> tuple[Image | None, Image | None]:
    """The images just newer and just older than ``image`` within ``filters``
    (two keyset queries of one row each)."""
    images = gallery_images(user, filters).only("pk", "created_at")
    here = Cursor.of(image)
    newer = images.filter(here.newer()).order_by("created_at", "pk").first()
    older = images.filter(here.older()).order_by("-created_at", "-pk").first()
    return newer, older


def image_detail(user: User, image_id: uuid.UUID) -> Image:
    """One image with its job and everything the image page shows; 404 if the
    user may not see it."""
    images = with_tile_data(visible_images(user), user).select_related(
        "job__endpoint", "job__batch", "job__remix_of"
    )
    return get_object_or_404(images, pk=image_id)


def boards_of(image: Image) -> list[Board]:
    return list(Board.objects.filter(items__image=image).order_by("name"))


def favourite_count(image: Image) -> int:
    return Favourite.objects.filter(image=image).count()


@dataclass(frozen=True)
class Timing:
    upstream: float | None  # the OpenRouter call alone
    total: float | None  # from submit to done, waiting and storing included


def timing(job: Job) -> Timing:
    total = (job.finished_at - job.created_at).total_seconds() if job.finished_at else None
    return Timing(job.upstream_seconds, total)


def resolve_selection(user: User, raw_ids: Sequence[str]) -> list[Image]:
    """The selected images, newest first, with their jobs.

    Refuses (``GalleryError``) an empty selection, more than ``MAX_SELECTION``,
    anything that is not an image id (400), and ids that do not exist or that
    ``user`` may not see (404, without saying which: no existence leak).
    """
    distinct = list(dict.fromkeys(raw.strip() for raw in raw_ids if raw.strip()))
    if not distinct:
        raise GalleryError("Select at least one image first.")
    if len(distinct) > MAX_SELECTION:
        raise GalleryError(
            f"Select at most {MAX_SELECTION} images at once; {len(distinct)} were selected."
        )
    try:
        ids = {uuid.UUID(raw) for raw in distinct}
    except ValueError:
        raise GalleryError("The selection contains something that is not an image id.") from None
    images = list(
        visible_images(user)
        .filter(pk__in=ids)
        .select_related("job__author", "job__model")
        .order_by("-created_at", "-pk")
    )
    if len(images) != len(ids):
        missing = len(ids) - len(images)
        raise GalleryError(
            f"{missing} of the selected images {'does' if missing == 1 else 'do'} not exist "
            "or you may not see them; nothing was done.",
            status=404,
        )
    return images


@dataclass
class BoardSummary:
    board: Board
    count: int
    cover_id: uuid.UUID | None


def boards_overview(user: User) -> list[BoardSummary]:
    """Every board with how many images ``user`` can see on it and its cover:
    the chosen one if ``user`` may see it, else the newest visible: one query."""
    visible_items = BoardItem.objects.filter(board_id=OuterRef("pk")).filter(
        Q(private_author__isnull=True) | Q(private_author_id=user.pk)
    )
    newest = visible_items.order_by("-added_at", "-pk").values("image_id")[:1]
    # The chosen cover only while it is on the board and the viewer may see it.
    chosen = visible_items.filter(image_id=OuterRef("cover_id")).values("image_id")[:1]
    boards = (
        Board.objects.select_related("created_by")
        .annotate(
            own_private=_own_private_items(user),
            shown_cover_id=Coalesce(
                Subquery(chosen, output_field=UUIDField()),
                Subquery(newest, output_field=UUIDField()),
            ),
        )
        .order_by("name")
    )
    return [
        BoardSummary(board, _visible_count(board, board.own_private), board.shown_cover_id)
        for board in boards
    ]


def board_image_count(user: User, board: Board) -> int:
    """How many of the board's images ``user`` may see: its stored counts, and
    only when it holds private images, the viewer's own ones (a small index)."""
    if not board.private_count:
        return board.image_count
    own = BoardItem.objects.filter(board=board, private_author_id=user.pk).count()
    return _visible_count(board, own)


def _own_private_items(user: User) -> Coalesce:
    counts = (
        BoardItem.objects.filter(board_id=OuterRef("pk"), private_author_id=user.pk)
        .order_by()
        .values("board_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _visible_count(board: Board, own_private: int) -> int:
    # Public items, plus the viewer's own private ones.
    return board.image_count - board.private_count + own_private
