"""The fault suite's printed table: one row per scenario, then its verdict."""

from __future__ import annotations

from collections.abc import Iterable

from faults.tally import Row, verdict

COLUMNS = (
    ("scenario", 16),
    ("time", 6),
    ("jobs", 4),
    ("ok", 3),
    ("fail", 4),
    ("lost", 4),
    ("stuck (longest)", 15),
    ("double", 6),
    ("charged", 10),
    ("recorded (unknown)", 18),
    ("orphan/missing", 14),
)


def header() -> str:
    return "  ".join(name.ljust(width) for name, width in COLUMNS).rstrip()


def line(row: Row) -> str:
    stuck = f"{row.stuck}" + (f"+{row.late} late" if row.late else "")
    cells = (
        row.scenario,
        f"{row.seconds:.0f} s",
        str(row.jobs),
        str(row.succeeded),
        str(row.failed),
        str(row.lost),
        f"{stuck} ({row.longest_active:.0f} s)",
        str(row.double_charged),
        f"${row.charged:.4f}",
        f"${row.recorded:.4f} ({row.unknown})",
        f"{row.orphans}/{row.missing}",
    )
    return "  ".join(cell.ljust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))


def verdict_line(row: Row) -> str:
    misses = verdict(row)
    return "  verdict: " + ("met" if not misses else "NOT met: " + "; ".join(misses))


def details(row: Row) -> Iterable[str]:
    yield verdict_line(row)
    for note in row.notes:
        yield f"    {note}"


def table(rows: list[Row]) -> str:
    return "\n".join([header(), *(line(row) for row in rows)])
