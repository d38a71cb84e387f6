"""Writes of the gallery: boards, favourites, deleting images (and their files once unreferenced)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import partial

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from gallery.models import Board, BoardItem, Favourite
from gallery.paging import GalleryError
from generation import storage
from generation.models import Image
from webapp import permissions

logger = logging.getLogger(__name__)


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
    """Put ``images`` on ``board``; returns how many were not on it already.
    The board's stored counts (and ``private_author``) follow by database triggers."""
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


def update_board(board: Board, name: str, description: str) -> Board:
    """Rename ``board`` and set its description; anyone on the team may, as
    boards are shared. Refuses (``GalleryError``, 409) a name another board has."""
    name = clean_board_name(name)
    if Board.objects.filter(name__iexact=name).exclude(pk=board.pk).exists():
        raise GalleryError(f"There is already a board named “{name}”.", status=409)
    board.name, board.description = name, description.strip()
    try:
        with transaction.atomic():
            board.save(update_fields=["name", "description"])
    except IntegrityError:  # taken meanwhile by someone else
        raise GalleryError(f"There is already a board named “{name}”.", status=409) from None
    return board


def remove_from_board(board: Board, images: Iterable[Image]) -> int:
    """Take ``images`` off ``board`` (the images themselves stay); returns how many were on it."""
    removed, _ = BoardItem.objects.filter(
        board=board, image_id__in=[image.pk for image in images]
    ).delete()
    return removed


def set_cover(board: Board, image: Image) -> None:
    """Make ``image`` the cover of ``board``; it must be on the board
    (``GalleryError``, 400, otherwise)."""
    if not BoardItem.objects.filter(board=board, image=image).exists():
        raise GalleryError("Only an image on the board can be its cover.")
    board.cover = image
    board.save(update_fields=["cover"])


def may_delete_board(user: User, board: Board) -> bool:
    """Whoever started the board, or an admin."""
    return permissions.is_admin(user) or board.created_by_id == user.pk


def delete_board(user: User, board: Board) -> None:
    """Delete ``board`` and its list of images; the images stay in the gallery.
    Only whoever started it, or staff: else ``GalleryError`` (403)."""
    if not may_delete_board(user, board):
        raise GalleryError(
            f"Only {board.created_by.get_username()}, who started the board, or staff can "
            "delete it. Nothing was deleted.",
            status=403,
        )
    board.delete()


def set_favourite(user: User, image: Image, on: bool) -> None:
    """Make ``image`` one of ``user``'s favourites or not. Setting a state, not
    toggling, so a double click or a resent form cannot flip it back."""
    if on:
        Favourite.objects.bulk_create([Favourite(user=user, image=image)], ignore_conflicts=True)
    else:
        Favourite.objects.filter(user=user, image=image).delete()


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
