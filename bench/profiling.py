"""Optional sampling profiles of the stack's processes during a run (``--profile``).

py-spy samples the worker and the web server without changing their code; only
stacks that hold the GIL are kept, since one Python process with many threads
can do one thing at a time: what holds the GIL is what limits it.
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


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


@contextlib.contextmanager
def sampling(targets: dict[str, int], folder: Path) -> Iterator[dict[str, Path]]:
    """Record each ``name -> pid`` while the block runs; yields name -> output file."""
    binary = py_spy()
    if binary is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    folder.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}
    recorders = []
    for name, pid in targets.items():
        # Two views of each process: what held the GIL (CPU), and where every
        # thread was, waiting included (--idle): what a request or task waits on.
        for mode, flags in (("gil", ["--gil"]), ("wall", ["--idle"])):
            outputs[f"{name} ({mode})"] = output = folder / f"{name}-{mode}.txt"
            recorders.append(
                subprocess.Popen(
                    [
                        binary,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "100",
                        *flags,
                        "--nolineno",
                        "--nonblocking",
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
    """The functions most often on the GIL-holding stack (inclusive), as lines."""
    if not path.exists():
        return ["    (no samples)"]
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = {frame.strip() for frame in stack.split(";") if frame.strip()}
        for frame in frames:
            if _interesting(frame):
                inclusive[frame] += samples
    if not total:
        return ["    (no samples)"]
    return [
        f"    {count / total:6.1%}  {frame[:110]}" for frame, count in inclusive.most_common(top)
    ] + [f"    ({total} samples holding the GIL)"]


def _interesting(frame: str) -> bool:
    boring = ("threading.py", "concurrent/futures", "<module>", "celery/concurrency", "kombu/")
    return not any(part in frame for part in boring)
