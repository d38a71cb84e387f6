"""`python manage.py openrouter_emulator`: the offline OpenRouter emulator.

A thin wrapper over ``python -m emulator``; every option
and failure directive is described by ``--help`` (the emulator's own).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from emulator.cli import build_parser, main


class Command(BaseCommand):
    help = build_parser().description or "Run the offline OpenRouter emulator."

    def run_from_argv(self, argv: list[str]) -> None:
        # The emulator owns its arguments (and a long --help): hand them over as they are.
        sys.exit(main(argv[2:]))

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.exit(main(list(args)))
