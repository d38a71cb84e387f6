"""Running coroutines from synchronous tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run_async[T](awaitable: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end on a thread of its own: Playwright's sync API
    leaves an event loop running in the test thread once a browser test has run,
    and neither asyncio.run nor async_to_sync may be used there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, awaitable).result()
