"""Authentication backends: passwords (or none), each loading the person's role with them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class MemberBackend(ModelBackend):
    """Django's backend, loading the signed-in person's membership (their role) in
    the same query: every page and the event stream ask for the role."""

    def get_user(self, user_id: Any) -> Any:
        user = (
            type(self)
            .user_model()
            ._default_manager.select_related("membership")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def user_model() -> Any:
        from django.contrib.auth import get_user_model

        return get_user_model()


class NoPasswordBackend(MemberBackend):
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
