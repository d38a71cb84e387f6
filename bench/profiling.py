"""Optional sampling profiles of the stack's processes during a run (``--profile``).

py-spy (a dev dependency, from PyPI) samples the processes that do the work
without changing their code: the Celery worker (its threads pool runs in the
process Celery starts) and each uvicorn worker process, never uvicorn's
supervisor, which only watches them. ``--native`` adds C frames, so time in
Pillow's decoders and encoders, zlib or libwebp shows as such instead of as
the Python line that called it. Two views of each process: ``cpu`` (samples
of threads that were running, native included: where the CPU went) and
``wall`` (``--idle``, every thread: what a request or task waits on).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def targets(stack: Any) -> dict[str, int]:
    """name -> pid of the processes worth sampling: the generation worker and
    uvicorn's worker processes (or uvicorn itself when it runs one process)."""
    from bench import measure

    found = {"celery-worker": stack.worker.pid}
    web = stack.web.pid
    workers = [
        pid
        for pid in measure.descendants(web)
        if pid != web and "spawn_main" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
    ]
    for number, pid in enumerate(workers or [web], start=1):
        found[f"uvicorn-{number}" if workers else "uvicorn"] = pid
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


@contextlib.contextmanager
def sampling(
    targets: dict[str, int], folder: Path, native: bool = False
) -> Iterator[dict[str, Path]]:
    """Record each ``name -> pid`` while the block runs; yields name -> output file."""
    binary = py_spy()
    if binary is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}
    recorders = []
    for name, pid in targets.items():
        # Not --gil: a thread running C code that released the GIL (Pillow
        # decoding, zlib, libwebp) is on the CPU too, and is sampled at the
        # Python line that called it. --native names the C function itself,
        # but py-spy must pause the process for every such sample: a worker of
        # 250 threads then runs several times slower, so it is asked for apart.
        cpu = ["--native", "--rate", "20"] if native else ["--nonblocking", "--rate", "100"]
        for mode, flags in (("cpu", cpu), ("wall", ["--idle", "--nonblocking", "--rate", "100"])):
            outputs[f"{name} ({mode})"] = output = folder / f"{name}-{mode}.txt"
            recorders.append(
                subprocess.Popen(
                    [
                        binary,
                        "record",
                        "--pid",
                        str(pid),
                        *flags,
                        "--nolineno",
                        "--format",
                        "raw",
                        "--output",
                        str(output),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    try:
        yield outputs
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recorder.kill()


def summary(path: Path, top: int = 12) -> list[str]:
    """The functions most often on the sampled stacks (inclusive), then the
    innermost frames (where the time itself was spent: a C function of Pillow
    or zlib with ``--native``), as lines."""
    if not path.exists():
        return ["    (no samples)"]
    inclusive: Counter[str] = Counter()
    innermost: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        if "-cpu" in path.name and any(_waiting(frame) for frame in frames):
            continue  # native samples include idle threads: keep what ran
        total += samples
        if frames:
            innermost[frames[-1]] += samples
        for frame in set(frames):
            if _interesting(frame):
                inclusive[frame] += samples
    if not total:
        return ["    (no samples of a running thread)"]
    return (
        [f"    {count / total:6.1%}  {frame[:110]}" for frame, count in inclusive.most_common(top)]
        + ["    innermost frames:"]
        + [f"    {count / total:6.1%}  {frame[:110]}" for frame, count in innermost.most_common(8)]
        + [f"    ({total} samples)"]
    )


def _waiting(frame: str) -> bool:
    waits = ("acquire_lock", "epoll_", "Condition.wait", "Queue.get", "select (", "poll (")
    return any(part in frame for part in waits)


def _interesting(frame: str) -> bool:
    boring = ("threading.py", "concurrent/futures", "<module>", "celery/concurrency", "kombu/")
    return not any(part in frame for part in boring)
