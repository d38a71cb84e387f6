"""What the scenarios read about the stack's processes: CPU, memory, descriptors.

CPU is counted per process tree, not per process group: PostgreSQL's backends
start sessions of their own (so a group count showed 0.0 s for it), and
uvicorn's and Celery's workers are children of their supervisors. A tree's CPU
is every live member's user + system time plus what its reaped children used
(a PostgreSQL backend that has ended is reaped by the postmaster).

The stack's parts are split into the product (what a team server runs: web,
workers, PostgreSQL, Redis) and the harness (the OpenRouter emulator, the S3
server, this benchmark process), so that a figure "per job" is the product's
alone and the harness is reported beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

HARNESS_PARTS = frozenset({"emulator", "s3 (moto)"})
THIS_PROCESS = "bench (this process)"
_TICKS = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of it and its reaped children)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        found[pid] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / _TICKS)
    return found


def descendants(pid: int, stats: Mapping[int, tuple[int, float]] | None = None) -> list[int]:
    """``pid`` and every live process below it."""
    stats = stats if stats is not None else _stats()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds of each named process tree so far, and of this process."""
    stats = _stats()
    seconds = {
        name: sum(stats[pid][1] for pid in descendants(root, stats)) for name, root in roots.items()
    }
    own = os.times()
    seconds[THIS_PROCESS] = own.user + own.system
    return seconds


def difference(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def is_harness(name: str) -> bool:
    return name in HARNESS_PARTS or name == THIS_PROCESS


def split(cpu: Mapping[str, float]) -> tuple[float, float]:
    """(product, harness) CPU seconds."""
    harness = sum(value for name, value in cpu.items() if is_harness(name))
    return sum(cpu.values()) - harness, harness


def cpu_lines(cpu: Mapping[str, float], per: int = 0, unit: str = "job") -> list[str]:
    """The CPU table, product first then harness, with ms per ``unit`` when ``per``."""
    product, harness = split(cpu)
    lines = []
    for title, total, members in (
        ("product", product, [n for n in cpu if not is_harness(n)]),
        ("harness", harness, [n for n in cpu if is_harness(n)]),
    ):
        each = f"  ({total / per * 1000:6.1f} ms per {unit})" if per else ""
        lines.append(f"    {title:<30} {total:6.1f} s{each}")
        for name in sorted(members, key=lambda n: -cpu[n]):
            each = f"  ({cpu[name] / per * 1000:6.1f} ms per {unit})" if per else ""
            lines.append(f"      {name:<28} {cpu[name]:6.1f} s{each}")
    return lines


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` in KB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def open_files(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def percentile(values: Iterable[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def raise_open_file_limit() -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit
    it: the web server it starts needs one descriptor per open stream)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)
