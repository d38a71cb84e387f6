"""Authentication backends for when password sign-in is switched off."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class NoPasswordBackend(ModelBackend):
    """Keeps signed-in sessions (and single sign-on) working but accepts no password,
    so the login form, the Django admin and a shell's ``authenticate`` all refuse."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        return None
