"""The team gallery and the shared prompt history: reads (selectors) and writes (services).

Every read starts from ``selectors.visible_images`` / ``visible_jobs``, so a
private image stays invisible to everyone but its author here as everywhere
(grid, search, neighbours, boards, zip, history).

Pages are keyset pages on ``(created_at, id)``, newest first, never OFFSET:
a page deep in a 100,000-image gallery costs what the first page costs, and
a page is built with the same small number of queries whatever its size
(related rows joined, favourite counts as subqueries).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import IntegrityError, connections, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    UUIDField,
    Value,
    Window,
)
from django.db.models.functions import MD5, Coalesce, RowNumber
from django.shortcuts import get_object_or_404

from catalog.models import ImageModel
from costs.budgets import charged_expression
from gallery.models import Board, BoardItem, Favourite
from generation import storage
from generation.models import Image, Job
from generation.selectors import visible_images, visible_jobs
from webapp import permissions

logger = logging.getLogger(__name__)

# The text search configuration of the GIN index in migration 0002_gallery_search:
# queries must use the same one, or PostgreSQL cannot use the index.
FTS_CONFIG = "english"
GALLERY_PAGE_SIZE = 48  # divides into rows of 2, 3, 4, 6 and 8 tiles
HISTORY_PAGE_SIZE = 20
HISTORY_RUNS_SHOWN = 5
# A zip, a board addition or a delete takes at most this many images at once.
MAX_SELECTION = 200
ZIP_CHUNK_BYTES = 1024 * 1024

MEDIA_TYPE_LABELS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WebP",
    "image/svg+xml": "SVG",
    "image/gif": "GIF",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class GalleryError(Exception):
    """A request the gallery refuses: ``message`` is for the person, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BadCursor(GalleryError):
    def __init__(self) -> None:
        super().__init__("This page link is broken or out of date. Start again from the newest.")


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first listing: the last row shown, by ``(created_at, id)``.

    Encoded for URLs as ``<microseconds since 1970>-<id hex>``.
    """

    created_at: datetime
    pk: uuid.UUID

    @classmethod
    def of(cls, row: Image | Job) -> Cursor:
        return cls(row.created_at, row.pk)

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.pk.hex}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """Raises ``BadCursor`` for anything this class did not encode."""
        micros, _, hex_id = raw.partition("-")
        if len(raw) > 60 or not micros.isdigit() or len(hex_id) != 32:
            raise BadCursor
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError):
            raise BadCursor from None

    def older(self) -> Q:
        """Rows after this one in newest-first order. The leading ``created_at <=``
        is an index range condition; the OR only breaks ties within it."""
        return Q(created_at__lte=self.created_at) & (
            Q(created_at__lt=self.created_at) | Q(pk__lt=self.pk)
        )

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (
            Q(created_at__gt=self.created_at) | Q(pk__gt=self.pk)
        )


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class Filters:
    """What a gallery or history listing is narrowed to; empty values do not filter.

    ``since`` is inclusive and ``until`` exclusive. ``media_type``,
    ``favourites_of`` and ``board_id`` apply to images (the gallery), ``status``
    to jobs (the history); the rest to both.
    """

    q: str = ""
    author_id: int | None = None
    model_id: int | None = None
    provider: str = ""
    style: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None
    media_type: str = ""
    favourites_of: int | None = None
    board_id: int | None = None


@dataclass(frozen=True)
class FilterOptions:
    """What the filter menus offer, read with a fixed number of small queries."""

    authors: list[tuple[int, str]]
    models: list[tuple[int, str, str]]  # pk, slug, name
    providers: list[str]
    boards: list[tuple[int, str]]


# Search


def search(queryset: QuerySet[Any], text: str, *, field: str = "prompt") -> QuerySet[Any]:
    """Rows whose ``field`` (a prompt) matches ``text``, over the whole history.

    PostgreSQL: full-text search with web-search syntax (words, "quoted
    phrases", ``-word``, ``or``), stemmed in English, answered by the GIN
    index of migration 0002_gallery_search (same expression, same config).
    Elsewhere (SQLite in development): ``fallback_search``.
    """
    text = text.strip()
    if not text:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        return queryset.alias(prompt_fts=SearchVector(field, config=FTS_CONFIG)).filter(
            prompt_fts=SearchQuery(text, config=FTS_CONFIG, search_type="websearch")
        )
    return queryset.filter(fallback_search(text, field=field))


_TERMS = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
_PUNCTUATION = ".,;:!?()[]{}'\"“”‘’-"


def fallback_search(text: str, *, field: str = "prompt") -> Q:
    """The search without PostgreSQL: every word and "quoted phrase" must appear
    in ``field``, case-insensitively; a ``-word`` must not; ``or`` is ignored
    (no stemming: "bicycles" does not find "bicycle")."""
    condition = Q()
    for match in _TERMS.finditer(text):
        negated = bool(match.group(1) or match.group(3))
        term = (match.group(2) if match.group(2) is not None else match.group(4)).strip(
            _PUNCTUATION + " "
        )
        if not term or term.lower() == "or":
            continue
        contains = Q(**{f"{field}__icontains": term})
        condition &= ~contains if negated else contains
    return condition


# Filters


def _job_conditions(filters: Filters, prefix: str) -> Q:
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


def _in_dates(filters: Filters) -> Q:
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


# Gallery


def gallery_images(user: User, filters: Filters) -> QuerySet[Image]:
    """Every image ``user`` may see that passes ``filters``, unordered."""
    images = visible_images(user).filter(_job_conditions(filters, "job__"), _in_dates(filters))
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
    return images.select_related("job__author", "job__model").annotate(
        favourite_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
        is_favourite=Exists(Favourite.objects.filter(user_id=user.pk, image_id=OuterRef("pk"))),
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


# Boards


@dataclass
class BoardSummary:
    board: Board
    count: int
    cover_id: uuid.UUID | None


def boards_overview(user: User) -> list[BoardSummary]:
    """Every board with how many images ``user`` can see on it and the newest
    visible one as a cover: one query."""
    visible_items = BoardItem.objects.filter(board_id=OuterRef("pk")).filter(
        Q(image__job__is_private=False) | Q(image__job__author_id=user.pk)
    )
    counts = visible_items.order_by().values("board_id").annotate(count=Count("pk")).values("count")
    cover = visible_items.order_by("-added_at", "-pk").values("image_id")[:1]
    boards = (
        Board.objects.select_related("created_by")
        .annotate(
            visible_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
            cover_id=Subquery(cover, output_field=UUIDField()),
        )
        .order_by("name")
    )
    return [BoardSummary(board, board.visible_count, board.cover_id) for board in boards]


def board_image_count(user: User, board: Board) -> int:
    return visible_images(user).filter(board_items__board=board).count()


def clean_board_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise GalleryError("Give the board a name.")
    max_length = Board._meta.get_field("name").max_length or 120
    if len(name) > max_length:
        raise GalleryError(f"A board name has at most {max_length} characters.")
    return name


def create_board(user: User, name: str, description: str = "") -> Board:
    """A new shared board; refuses a name already taken (case-insensitively)."""
    name = clean_board_name(name)
    if Board.objects.filter(name__iexact=name).exists():
        raise GalleryError(f"There is already a board named “{name}”.", status=409)
    try:
        with transaction.atomic():
            return Board.objects.create(name=name, description=description.strip(), created_by=user)
    except IntegrityError:  # created meanwhile by someone else
        raise GalleryError(f"There is already a board named “{name}”.", status=409) from None


def board_named(user: User, name: str) -> Board:
    """The board called ``name`` (case-insensitively), created if there is none."""
    name = clean_board_name(name)
    existing = Board.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Board.objects.create(name=name, created_by=user)
    except IntegrityError:  # created meanwhile by someone else
        return Board.objects.get(name__iexact=name)


def add_to_board(user: User, board: Board, images: Iterable[Image]) -> int:
    """Put ``images`` on ``board``; returns how many were not on it already."""
    ids = {image.pk for image in images}
    present = set(
        BoardItem.objects.filter(board=board, image_id__in=ids).values_list("image_id", flat=True)
    )
    new = [
        BoardItem(board=board, image_id=image_id, added_by=user)
        for image_id in sorted(ids - present)
    ]
    # Two people adding the same image at once: the unique constraint keeps one.
    BoardItem.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# Favourites


def set_favourite(user: User, image: Image, on: bool) -> None:
    """Make ``image`` one of ``user``'s favourites or not. Setting a state, not
    toggling, so a double click or a resent form cannot flip it back."""
    if on:
        Favourite.objects.bulk_create([Favourite(user=user, image=image)], ignore_conflicts=True)
    else:
        Favourite.objects.filter(user=user, image=image).delete()


# Deleting


def may_delete(user: User, image: Image) -> bool:
    return permissions.can_manage(user, image)


def check_may_delete(user: User, images: Sequence[Image]) -> None:
    """Raises ``GalleryError`` (403) unless ``user`` may delete every one of ``images``."""
    refused = [image for image in images if not may_delete(user, image)]
    if refused:
        raise GalleryError(
            f"Only an image's author or staff can delete it; {len(refused)} of the selected "
            f"{'is' if len(refused) == 1 else 'are'} someone else's. Nothing was deleted.",
            status=403,
        )


def delete_images(user: User, images: Sequence[Image]) -> int:
    """Delete images (rows, favourites, board items) and, once that has
    committed, their files, keeping every job: the job is the cost record.

    Only the author or staff may delete: raises ``GalleryError`` (403) and
    deletes nothing if any image is someone else's.
    """
    check_may_delete(user, images)
    files = {image.sha256: {image.original_key, image.thumbnail_key} for image in images}
    with transaction.atomic():
        Image.objects.filter(pk__in=[image.pk for image in images]).delete()
        transaction.on_commit(partial(_delete_unreferenced_files, files))
    return len(images)


def _delete_unreferenced_files(files: dict[str, set[str]]) -> None:
    """Delete the stored files no image row refers to any more.

    Keys are content addresses: identical bytes made by two jobs share one file
    (and a small image is its own thumbnail), so a file goes only when no row
    with that SHA-256 is left. A job storing the same bytes at this very moment
    could lose its file; its page then says the file is gone (404), it never fails.
    """
    still_used: set[str] = set()
    for original, thumbnail in Image.objects.filter(sha256__in=list(files)).values_list(
        "original_key", "thumbnail_key"
    ):
        still_used.update((original, thumbnail))
    for key in sorted(set().union(*files.values()) - still_used):
        try:
            storage.delete(key)
        except Exception:  # storage backends raise many types; the rows are gone either way
            logger.warning("Could not delete %s from storage", key, exc_info=True)


# Zip downloads


@dataclass(frozen=True)
class ZipEntry:
    name: str
    key: str
    size: int
    created_at: datetime


def zip_entries(images: Sequence[Image]) -> list[ZipEntry]:
    """Each image's original under its real file name (``download_name``),
    made unique within the archive."""
    from generation.views import download_name

    taken: set[str] = set()
    entries = []
    for image in images:
        name = download_name(image.job, image.index, image.extension)
        stem, dot, extension = name.rpartition(".")
        counter = 2
        while name in taken:
            name = f"{stem}-{counter}{dot}{extension}"
            counter += 1
        taken.add(name)
        entries.append(ZipEntry(name, image.original_key, image.bytes, image.created_at))
    return entries


def zip_filename(count: int, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"darkroom-{count}-image{'s' if count != 1 else ''}-{stamp}.zip"


class _Sink(io.RawIOBase):
    """An unseekable file that collects what ``zipfile`` writes until drained,
    so the archive streams out in chunks instead of being built in memory."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks, self.size = [], 0
        return data


def zip_chunks(entries: Sequence[ZipEntry]) -> Generator[bytes]:
    """A zip of the entries' files, read from storage and yielded in chunks of
    about ``ZIP_CHUNK_BYTES``. Stored, not deflated: images are compressed
    already. A file missing from storage is left out and named in MISSING.txt."""
    sink = _Sink()
    missing: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            try:
                handle = storage.open_file(entry.key)
                first = handle.read(ZIP_CHUNK_BYTES)
            except FileNotFoundError:
                missing.append(entry.name)
                continue
            info = zipfile.ZipInfo(entry.name, date_time=entry.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            with handle, archive.open(info, "w") as out:
                chunk = first
                while chunk:
                    out.write(chunk)
                    if sink.size >= ZIP_CHUNK_BYTES:
                        yield sink.drain()
                    chunk = handle.read(ZIP_CHUNK_BYTES)
            if sink.size >= ZIP_CHUNK_BYTES:
                yield sink.drain()
        if missing:
            archive.writestr(
                "MISSING.txt",
                "These images are no longer in storage:\n" + "\n".join(missing) + "\n",
            )
    yield sink.drain()


# The shared prompt history


@dataclass
class PromptGroup:
    """Every run of one exact prompt (within the filters), newest run first."""

    latest: Job
    runs: int = 0
    total_cost: Decimal = Decimal(0)
    models: list[tuple[str, int]] = field(default_factory=list)  # slug, runs; most runs first
    recent: list[Job] = field(default_factory=list)
    # The latest run's Generate form data for "Run again", filled in by the view.
    run_again: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def earlier(self) -> int:
        return max(0, self.runs - len(self.recent))


def history_jobs(user: User, filters: Filters, *, with_search: bool = True) -> QuerySet[Job]:
    jobs = visible_jobs(user).filter(_job_conditions(filters, ""), _in_dates(filters))
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if with_search and filters.q:
        jobs = search(jobs, filters.q)
    return jobs


def _same_prompts(jobs: QuerySet[Job], prompts: Sequence[str]) -> QuerySet[Job]:
    # md5 first so PostgreSQL can use job_prompt_md5_idx; the text itself for exactness.
    digests = [hashlib.md5(prompt.encode()).hexdigest() for prompt in prompts]  # noqa: S324 - grouping, not security
    return jobs.alias(prompt_md5=MD5("prompt")).filter(prompt_md5__in=digests, prompt__in=prompts)


def history_page(
    user: User, filters: Filters, after: Cursor | None = None, size: int | None = None
) -> Page[PromptGroup]:
    """Identical prompts grouped, the group with the most recent run first.

    A group is found by its latest run: a job with no newer job of the same
    prompt (within the filters). That keeps the keyset on the jobs'
    ``(created_at, id)`` and the "is there a newer run?" check one probe of
    the md5(prompt) index, so no page ever groups the whole history. Four
    queries: the groups, their counts per model, their latest runs, and those
    runs' images.
    """
    size = size or HISTORY_PAGE_SIZE
    jobs = history_jobs(user, filters)
    # Search is about the prompt, which is the same for every run of a group:
    # no need to evaluate it again for the newer-run probe.
    candidates = history_jobs(user, filters, with_search=False)
    newer_run = (
        candidates.alias(prompt_md5=MD5("prompt"))
        .filter(prompt_md5=MD5(OuterRef("prompt")), prompt=OuterRef("prompt"))
        .filter(created_at__gte=OuterRef("created_at"))
        .filter(Q(created_at__gt=OuterRef("created_at")) | Q(pk__gt=OuterRef("pk")))
    )
    latest = jobs.filter(~Exists(newer_run))
    if after is not None:
        latest = latest.filter(after.older())
    rows = list(latest.select_related("author", "model").order_by("-created_at", "-pk")[: size + 1])
    next_cursor = Cursor.of(rows[size - 1]) if len(rows) > size else None
    rows = rows[:size]
    if not rows:
        return Page([], None)

    groups = {job.prompt: PromptGroup(latest=job) for job in rows}
    same = _same_prompts(candidates, list(groups))
    per_model: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for prompt, slug, runs, cost in (
        same.order_by()
        .values("prompt", "model_slug")
        .annotate(runs=Count("pk"), cost=Sum(charged_expression()))
        .values_list("prompt", "model_slug", "runs", "cost")
    ):
        group = groups[prompt]
        group.runs += runs
        group.total_cost += cost or Decimal(0)
        per_model[prompt].append((slug, runs))
    for prompt, models in per_model.items():
        groups[prompt].models = sorted(models, key=lambda item: (-item[1], item[0]))

    recent = (
        same.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("prompt")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=HISTORY_RUNS_SHOWN)
        .select_related("author", "model")
        .prefetch_related(Prefetch("images", queryset=Image.objects.order_by("index")))
        .order_by("-created_at", "-pk")
    )
    for job in recent:
        groups[job.prompt].recent.append(job)
    return Page([groups[job.prompt] for job in rows], next_cursor)
