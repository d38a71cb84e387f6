"""The team gallery: the grid, an image's page, favourites, boards and bulk
actions. Thin views over ``gallery.selectors``; full pages and the htmx
fragments come from the same templates (``{% partialdef %}``)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gallery import paging, selectors, services, zips
from gallery.forms import GalleryFilterForm
from gallery.models import Board
from gallery.paging import Cursor, GalleryError
from generation import selectors as job_selectors
from generation.models import Image
from generation.option_controls import option_values
from webapp import htmx, inputs, permissions
from webapp.http import AuthenticatedRequest
from webapp.streaming import streamed

RESULTS_TARGET = "gallery-results"
NEXT_TARGET = "gallery-next"


def _cursor(request: AuthenticatedRequest) -> Cursor | None:
    raw = request.GET.get("after", "")
    return Cursor.decode(raw) if raw else None


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


@require_GET
def index(request: AuthenticatedRequest, board_id: int | None = None) -> HttpResponse:
    """The grid, newest first, filtered by the query string; ``?after=`` pages on.

    htmx asks for the results alone (filters changed) or for the next page's
    tiles (infinite scroll); without JavaScript the "Next page" link is a page.
    """
    board = (
        get_object_or_404(Board.objects.select_related("created_by"), pk=board_id)
        if board_id
        else None
    )
    options = selectors.filter_options(request.user)
    form = GalleryFilterForm(request.GET, options=options, board=board)
    base_url = reverse("gallery:board", args=[board.pk]) if board else reverse("gallery:index")
    context: dict[str, Any] = {
        "form": form,
        "board": board,
        "boards": options.boards,
        "base_url": base_url,
        "page": None,
        "errors": [],
        "max_selection": selectors.MAX_SELECTION,
        "may_delete_board": board is not None and services.may_delete_board(request.user, board),
    }
    status = 200
    try:
        if not form.is_valid():
            raise GalleryError(" ".join(form.error_messages()))
        after = _cursor(request)
        filters = form.filters(request.user)
        page = selectors.gallery_page(request.user, filters, after)
    except GalleryError as exc:
        context["errors"] = [exc.message]
        status = exc.status
    else:
        query = form.querystring()
        context.update(
            page=page,
            image_query=form.image_querystring(),
            is_first_page=after is None,
            first_url=_with_query(base_url, query),
            next_url=(
                _with_query(
                    base_url,
                    "&".join(
                        filter(None, [query, urlencode({"after": page.next_cursor.encode()})])
                    ),
                )
                if page.next_cursor
                else ""
            ),
            board_count=selectors.board_image_count(request.user, board) if board else None,
        )
    return htmx.render_paged(
        request, "gallery/index.html", context, status, RESULTS_TARGET, NEXT_TARGET, "tiles"
    )


@require_GET
def image(request: AuthenticatedRequest, image_id: uuid.UUID) -> HttpResponse:
    """One image: the picture, its prompt and parameters, who made it with what,
    what it took and cost, and next/previous within the filter it was opened from."""
    shown = selectors.image_detail(request.user, image_id)
    job = shown.job
    options = selectors.filter_options(request.user)
    form = GalleryFilterForm(request.GET, options=options)
    filter_note = ""
    if form.is_valid():
        filters = form.filters(request.user)
        query = form.querystring()
    else:
        filters, query = paging.Filters(), ""
        filter_note = "The filter in this link was not understood; next and previous go through the whole gallery."
    newer, older = selectors.neighbours(request.user, filters, shown)
    remix_of = job.remix_of
    if (
        remix_of is not None
        and remix_of.is_private
        and not permissions.is_author(request.user, remix_of)
    ):
        remix_of = None
    context = {
        "image": shown,
        "job": job,
        "query": query,
        "back_url": _with_query(reverse("gallery:index"), query),
        "newer_url": _with_query(reverse("gallery:image", args=[newer.pk]), query) if newer else "",
        "older_url": _with_query(reverse("gallery:image", args=[older.pk]), query) if older else "",
        "filter_note": filter_note,
        "params": sorted(option_values(job.style, job.params).items()),
        "timing": selectors.timing(job),
        "remix_of": remix_of,
        "image_boards": selectors.boards_of(shown),
        "boards": options.boards,
        "may_delete": services.may_delete(request.user, shown),
        "media_label": selectors.MEDIA_TYPE_LABELS.get(shown.media_type, shown.media_type),
    }
    return render(request, "gallery/image.html", context)


@require_POST
def favourite(request: AuthenticatedRequest, image_id: uuid.UUID) -> HttpResponse:
    """Mark or unmark one of my favourites (``on=1`` or ``on=0``); for htmx the
    toggle is answered, else a redirect to ``next`` (or the image's page)."""
    target = job_selectors.image_for(request.user, image_id)
    services.set_favourite(request.user, target, request.POST.get("on") == "1")
    if request.htmx:
        shown = selectors.image_detail(request.user, image_id)
        # A tile in the grid has its own, smaller toggle (``look=tile``).
        template = (
            "gallery/_tile_favourite.html"
            if request.POST.get("look") == "tile"
            else "gallery/image.html#favourite"
        )
        return render(request, template, {"image": shown})
    return redirect(_safe_next(request, reverse("gallery:image", args=[image_id])))


@require_POST
def add_to_board(request: AuthenticatedRequest, image_id: uuid.UUID) -> HttpResponse:
    target = job_selectors.image_for(request.user, image_id)
    back = _safe_next(request, reverse("gallery:image", args=[image_id]))
    try:
        board = _chosen_board(request)
        added = services.add_to_board(request.user, board, [target])
    except GalleryError as exc:
        return _refused(request, exc, back)
    if added:
        messages.success(request, f"Added to the board “{board.name}”.")
    else:
        messages.info(request, f"It was already on the board “{board.name}”.")
    return redirect(back)


@require_POST
def selection(request: AuthenticatedRequest) -> HttpResponseBase:
    """What to do with the images ticked in the grid (``image`` ids, ``action``):
    ``zip`` downloads them, ``board`` adds them to a board, ``delete`` asks to
    confirm, ``delete-confirmed`` deletes them and ``remove`` takes them off
    ``from_board`` (the images stay). Every id must be an image
    the user may see, or nothing happens."""
    back = _safe_next(request, reverse("gallery:index"))
    action = request.POST.get("action", "")
    try:
        images = selectors.resolve_selection(request.user, request.POST.getlist("image"))
        if action == "zip":
            return _zip_response(request, images)
        if action == "board":
            board = _chosen_board(request)
            added = services.add_to_board(request.user, board, images)
            messages.success(
                request,
                f"Added {added} image{'s' if added != 1 else ''} to the board “{board.name}”"
                + (f" ({len(images) - added} already on it)." if added < len(images) else "."),
            )
            return redirect("gallery:board", board_id=board.pk)
        if action in ("delete", "delete-confirmed"):
            services.check_may_delete(request.user, images)
            if action == "delete":
                return render(
                    request, "gallery/confirm_delete.html", {"images": images, "next": back}
                )
            count = services.delete_images(request.user, images)
            messages.success(
                request,
                f"Deleted {count} image{'s' if count != 1 else ''}. "
                "Their jobs and what they cost stay in the history.",
            )
            return redirect(_after_delete(back, images))
        if action == "remove":
            board = _board_posted(request, "from_board")
            removed = services.remove_from_board(board, images)
            messages.success(
                request,
                f"Took {removed} image{'s' if removed != 1 else ''} off the board “{board.name}”. "
                "They stay in the gallery.",
            )
            return redirect(back)
        raise GalleryError("Choose what to do with the selected images.")
    except GalleryError as exc:
        return _refused(request, exc, back)


@require_http_methods(["GET", "POST"])
def boards(request: AuthenticatedRequest) -> HttpResponse:
    """Every board, and a form to start a new one."""
    status = 200
    error = ""
    if request.method == "POST":
        try:
            board = services.create_board(
                request.user, _posted_text(request, "name"), _posted_text(request, "description")
            )
        except GalleryError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, f"Created the board “{board.name}”.")
            return redirect("gallery:board", board_id=board.pk)
    context = {
        "summaries": selectors.boards_overview(request.user),
        "error": error,
        # Shown again to be corrected, without what was refused.
        "name": request.POST.get("name", "").replace("\x00", ""),
        "description": request.POST.get("description", "").replace("\x00", ""),
    }
    return render(request, "gallery/boards.html", context, status=status)


@require_POST
def board_edit(request: AuthenticatedRequest, board_id: int) -> HttpResponse:
    """Rename a board and set its description (``name``, ``description``)."""
    board = get_object_or_404(Board, pk=board_id)
    back = reverse("gallery:board", args=[board.pk])
    try:
        services.update_board(
            board, _posted_text(request, "name"), _posted_text(request, "description")
        )
    except GalleryError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"Saved the board “{board.name}”.")
    return redirect(back)


@require_POST
def board_cover(request: AuthenticatedRequest, board_id: int) -> HttpResponse:
    """Make the posted ``image`` (one on the board that the user may see) the board's cover."""
    board = get_object_or_404(Board, pk=board_id)
    back = _safe_next(request, reverse("gallery:board", args=[board.pk]))
    try:
        images = selectors.resolve_selection(request.user, request.POST.getlist("image")[:1])
        services.set_cover(board, images[0])
    except GalleryError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"That image is now the cover of “{board.name}”.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
def board_delete(request: AuthenticatedRequest, board_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes the board (its images stay in the gallery)."""
    board = get_object_or_404(Board.objects.select_related("created_by"), pk=board_id)
    back = reverse("gallery:board", args=[board.pk])
    if not services.may_delete_board(request.user, board):
        return _refused(
            request,
            GalleryError(
                f"Only {board.created_by.get_username()}, who started the board, or staff can "
                "delete it.",
                status=403,
            ),
            back,
        )
    if request.method == "GET":
        count = selectors.board_image_count(request.user, board)
        return render(
            request, "gallery/confirm_board_delete.html", {"board": board, "count": count}
        )
    name = board.name
    try:
        services.delete_board(request.user, board)
    except GalleryError as exc:
        return _refused(request, exc, back)
    messages.success(request, f"Deleted the board “{name}”. Its images stay in the gallery.")
    return redirect("gallery:boards")


def _chosen_board(request: AuthenticatedRequest) -> Board:
    """The board named in the form: a new name wins over the menu."""
    new_name = _posted_text(request, "new_board").strip()
    if new_name:
        return services.board_named(request.user, new_name)
    board_id = inputs.whole_number(request.POST.get("board", ""))
    if board_id is None:
        raise GalleryError("Choose a board, or type a name for a new one.")
    board = Board.objects.filter(pk=board_id).first()
    if board is None:
        raise GalleryError("That board does not exist any more.", status=404)
    return board


def _board_posted(request: AuthenticatedRequest, name: str) -> Board:
    """The board whose id is posted as ``name``; ``GalleryError`` when there is none."""
    board_id = inputs.whole_number(request.POST.get(name, ""))
    board = Board.objects.filter(pk=board_id).first() if board_id is not None else None
    if board is None:
        raise GalleryError("That board does not exist any more.", status=404)
    return board


def _posted_text(request: AuthenticatedRequest, name: str) -> str:
    """A posted text field, refused (``GalleryError``) when it cannot be stored."""
    try:
        return inputs.check_text(request.POST.get(name, ""))
    except inputs.BadInput as exc:
        raise GalleryError(exc.message) from None


def _safe_next(request: AuthenticatedRequest, default: str) -> str:
    """``next`` when it is a path on this site, else ``default``. Only paths:
    ``redirect()`` takes a bare word (``next=true``) for a URL name to reverse."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not inputs.unstorable(target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def _after_delete(back: str, images: list[Image]) -> str:
    """Back where the person came from, unless that was a page of a deleted image."""
    if any(str(shown.pk) in back for shown in images):
        return reverse("gallery:index")
    return back


def _refused(request: AuthenticatedRequest, exc: GalleryError, back: str) -> HttpResponse:
    return render(
        request,
        "gallery/refused.html",
        {"message": exc.message, "back": back},
        status=exc.status,
    )


def _zip_response(request: AuthenticatedRequest, images: list[Image]) -> StreamingHttpResponse:
    chunks = zips.zip_chunks(zips.zip_entries(images))
    response = StreamingHttpResponse(streamed(request, chunks), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{zips.zip_filename(len(images))}"'
    response["Cache-Control"] = "no-store"
    return response
