from __future__ import annotations

from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "team"
    verbose_name = "Team"

    def ready(self) -> None:
        # Sign-ins are recorded in the audit log, whichever way they happen.
        from team import receivers  # noqa: F401
