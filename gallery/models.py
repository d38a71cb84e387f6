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

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "image"], name="one_item_per_board_image"),
        ]

    def __str__(self) -> str:
        return f"{self.board} / {self.image_id}"
