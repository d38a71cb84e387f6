"""Bounds derived from the generation time limit, and the app's default address.

Every timeout that depends on ``DARKROOM_GENERATION_TIME_LIMIT`` is computed
here, once, so that each value in the documented range gives bounds that fit
inside one another: the OpenRouter call ends before the generation's limit,
the sweep waits past it, Celery's limits come after the sweep, and Redis
redelivers an unacknowledged task only after every task would have ended.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# The sweep runs every minute (webapp/celery.py): a job that overstayed is
# ended between this long and a minute more after its limit.
SWEEP_GRACE_SECONDS = 60
# Tasks without limits of their own (sweep, reconciliation) get at least this.
HOUSEKEEPING_SOFT_LIMIT = 600
# catalog.tasks.sync_catalog's own hard limit: the longest task there is.
CATALOG_SYNC_HARD_LIMIT = 15 * 60


@dataclass(frozen=True)
class GenerationLimits:
    """The bounds for a generation time limit of ``total`` seconds.

    ``call``: the OpenRouter call's bound. The rest of the limit, 10 % of it
    up to 30 s, is left for verifying and storing the images; it never
    leaves the call less than 90 % of the limit (a limit minus a fixed 30 s
    would leave nothing at 30 s).
    ``overstay``: the sweep ends a job still running this long after it started.
    ``task_soft``/``task_hard``: Celery's default limits; never before the sweep
    would end a job, so a prefork worker does not kill a job mid-store.
    ``visibility_timeout``: Redis redelivers an unacknowledged task after this
    long even if it is still running, so it is well above the longest task.
    """

    total: int

    MINIMUM = 10
    MAXIMUM = 3600

    def __post_init__(self) -> None:
        if not self.MINIMUM <= self.total <= self.MAXIMUM:
            raise ValueError(
                f"a generation time limit must be {self.MINIMUM}–{self.MAXIMUM} s, not {self.total}"
            )

    @property
    def call(self) -> float:
        return self.total - min(30.0, self.total / 10)

    @property
    def overstay(self) -> int:
        return self.total + SWEEP_GRACE_SECONDS

    @property
    def task_soft(self) -> int:
        return max(self.overstay, HOUSEKEEPING_SOFT_LIMIT)

    @property
    def task_hard(self) -> int:
        return self.task_soft + 30

    @property
    def visibility_timeout(self) -> int:
        longest_task = max(self.task_hard, CATALOG_SYNC_HARD_LIMIT)
        return max(3 * self.total, longest_task + 300)


def served_url(host: str, port: int) -> str:
    """The URL a person on this machine opens for a server on ``host:port``.

    Wildcard and loopback addresses read as ``localhost`` (what `make run`
    prints); another IPv6 address is bracketed.
    """
    if host in ("", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost"):  # noqa: S104 - compared only
        return f"http://localhost:{port}"
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False
    return f"http://[{host}]:{port}" if is_v6 else f"http://{host}:{port}"
