"""What the team does with images: favourites and shared boards.

The images themselves belong to ``generation`` (a job produces them); these
rows only point at them, so deleting an image takes its favourites and board
entries with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from generation.models import Image


class Favourite(models.Model):
    """One person's favourite image; others see only the count."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "image"], name="one_favourite_per_user_image"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ♥ {self.image_id}"


class Board(models.Model):
    """A shared, named collection any team member can add to."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="boards"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    images = models.ManyToManyField(Image, through="BoardItem", related_name="boards")
    # Chosen on the board's page; empty (or gone, or private to someone else)
    # means the newest image added is the cover.
    cover = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept by database triggers on gallery_boarditem (migration 0003), so every
    # way an item comes or goes counts: adding, deleting images or jobs (the
    # cascade), the admin. Counting a board of 100,000 items took 700 ms.
    image_count = models.PositiveIntegerField(default=0, editable=False)
    # Of those, items whose job is private (seen only by their author).
    private_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    added_at = models.DateTimeField(auto_now_add=True)
    # The author of a private image, None for one everyone sees; set by a
    # database trigger from the job (whose privacy never changes). A viewer's
    # count of a board is its public items plus their own private ones, read
    # from a small index, not the board.
    private_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "image"], name="one_item_per_board_image"),
        ]
        indexes = [
            models.Index(
                fields=["board", "private_author"],
                condition=models.Q(private_author__isnull=False),
                name="boarditem_private_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.board} / {self.image_id}"
