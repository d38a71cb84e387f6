"""Create the first admin account when there is none, and say how to log in."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from webapp import env


class Command(BaseCommand):
    help = (
        "Create a superuser named DARKROOM_ADMIN_USERNAME (default 'admin') when no superuser "
        "exists. The password is DARKROOM_ADMIN_PASSWORD, or a random one printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already; log in with it.")
            return
        username = env.string("DARKROOM_ADMIN_USERNAME", "admin")
        password = env.string("DARKROOM_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the first admin account.\n"
                f"  username: {username}\n"
                f"  password: {password}\n"
                f"Keep the password somewhere safe; change it any time with "
                f"`.venv/bin/python manage.py changepassword {username}`."
            )
        )
