"""The fault suite's bookkeeping: what was charged against what Darkroom recorded.

Pure functions over plain records, so that the arithmetic and the verdict are
tested on synthetic rows (tests/faults/) without any service running. The
harness (``faults.harness``) fills the records from the job table, the
emulator's ledger and the bucket.

Per job, money is judged as the README's "Costs and budgets" defines spend: the
charge (confirmed cost, else the cost reported with the answer) plus what is
still reserved. A job matches the ledger when its charge equals what the
emulator charged for it and nothing more is reserved, or when its charge is
unknown and its estimate is kept reserved as spend (flagged "unknown").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

FINAL = frozenset({"succeeded", "failed", "canceled"})
ZERO = Decimal(0)
# Darkroom keeps money to 8 decimal places (generation.models.MONEY_PLACES).
CENT_MILLIONTH = Decimal("0.00000001")


@dataclass(frozen=True)
class JobRecord:
    """One job row as Darkroom recorded it (times are epoch seconds)."""

    token: str
    status: str
    created_at: float
    finished_at: float | None
    actual_cost: Decimal | None
    confirmed_cost: Decimal | None
    reserved_cost: Decimal
    images: int = 0  # Image rows
    missing_objects: int = 0  # of those, rows whose stored object is gone
    error: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @property
    def charge(self) -> Decimal | None:
        return self.confirmed_cost if self.confirmed_cost is not None else self.actual_cost

    @property
    def spend(self) -> Decimal:
        return (self.charge or ZERO) + self.reserved_cost


@dataclass(frozen=True)
class Charge:
    """One entry of the emulator's ledger; ``token`` names the job's prompt."""

    token: str | None
    cost: Decimal
    images: int = 0
    outcome: str = "ok"


@dataclass(frozen=True)
class Expectation:
    """What a correct Darkroom must achieve for one job in its scenario."""

    # The answer carries usable images that were paid for: they must end up stored.
    images_expected: bool = True
    # Epoch seconds by which the job must be in a final state (its worker's death
    # or the fault's end, plus the allowed window); None: no bound.
    final_by: float | None = None


@dataclass
class Row:
    """One scenario's line of the report."""

    scenario: str
    seconds: float = 0.0
    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    stuck: int = 0
    late: int = 0  # final, but only after their window closed
    longest_active: float = 0.0
    double_charged: int = 0
    charged: Decimal = ZERO
    recorded: Decimal = ZERO
    unknown: int = 0
    mismatched: int = 0
    dropped_images: int = 0
    orphans: int = 0
    missing: int = 0
    probe_failures: list[str] = field(default_factory=list)
    # Processes that exited without the scenario stopping them (the supervisor
    # started them again): a fault must never crash a part of the stack.
    crashes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""


def tally(
    scenario: str,
    *,
    accepted: set[str],
    records: dict[str, JobRecord],
    charges: list[Charge],
    expectations: dict[str, Expectation],
    now: float,
    orphans: int = 0,
) -> Row:
    """Count one scenario. ``accepted``: tokens of the jobs Darkroom answered 201
    for; ``records``: the job rows found now, by token; ``charges``: the ledger
    entries whose prompt carries one of this scenario's tokens."""
    row = Row(scenario, orphans=orphans)
    by_token: dict[str | None, list[Charge]] = defaultdict(list)
    for charge in charges:
        by_token[charge.token].append(charge)
    row.charged = sum((charge.cost for charge in charges), ZERO)
    row.jobs = len(accepted | set(records))
    row.succeeded = sum(1 for r in records.values() if r.status == "succeeded")
    row.failed = sum(1 for r in records.values() if r.status in ("failed", "canceled"))
    vanished = accepted - set(records)
    charged_without_job = {
        t for t in by_token if t is not None and t not in records and t not in vanished
    }
    row.lost = len(vanished) + len(charged_without_job)
    for token in vanished | charged_without_job:
        if expectations.get(token, Expectation()).images_expected:
            row.dropped_images += max((c.images for c in by_token.get(token, [])), default=0)

    for token, record in records.items():
        expected = expectations.get(token, Expectation())
        ended = record.finished_at if record.final and record.finished_at else now
        row.longest_active = max(row.longest_active, ended - record.created_at)
        if not record.final:
            row.stuck += 1
        elif expected.final_by is not None and ended > expected.final_by:
            row.late += 1

        entries = by_token.get(token, [])
        if len(entries) > 1:
            row.double_charged += 1
        row.recorded += record.spend
        verdict = money_verdict(record, sum((c.cost for c in entries), ZERO))
        row.unknown += verdict == "unknown"
        row.mismatched += verdict == "mismatch"

        row.missing += record.missing_objects
        if expected.images_expected:
            paid = max((c.images for c in entries if c.outcome == "ok"), default=0)
            kept = record.images - record.missing_objects
            row.dropped_images += max(0, paid - kept)
    return row


def money_verdict(record: JobRecord, charged: Decimal) -> str:
    """ "match", "unknown" (charge not known, estimate kept reserved as spend),
    "pending" (not final yet, estimate still reserved) or "mismatch"."""
    if record.charge is not None:
        same = record.spend.quantize(CENT_MILLIONTH) == charged.quantize(CENT_MILLIONTH)
        return "match" if same else "mismatch"
    if record.reserved_cost > 0:
        return "unknown" if record.final else "pending"
    return "match" if charged == 0 else "mismatch"


def verdict(row: Row) -> list[str]:
    """The goals this row misses, in words; empty when it meets them all."""
    misses: list[str] = []
    if row.error:
        misses.append(f"the scenario did not complete: {row.error}")
    if row.lost:
        misses.append(f"{row.lost} lost")
    if row.double_charged:
        misses.append(f"{row.double_charged} double-charged")
    if row.mismatched:
        misses.append(
            f"{row.mismatched} job(s) charged otherwise than recorded "
            f"(charged ${row.charged}, recorded ${row.recorded})"
        )
    if row.dropped_images:
        misses.append(f"{row.dropped_images} paid image(s) dropped")
    if row.stuck or row.late:
        misses.append(
            f"{row.stuck + row.late} job(s) not final within their window "
            f"(longest {row.longest_active:.0f} s in a non-final state)"
        )
    misses.extend(row.probe_failures)
    misses.extend(row.crashes)
    return misses
