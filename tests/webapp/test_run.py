"""`make run` (scripts/run.py) stops every child it started, whatever stop signal
arrives and however often, SIGKILLing stragglers after a grace period."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]

HARNESS = """
import sys
sys.path.insert(0, {scripts!r})
import run

supervisor = run.Supervisor(grace=2)
supervisor.install_signal_handlers()
ignores_term = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"
plain = "import time; print('ready', flush=True); time.sleep(600)"
supervisor.start("stubborn", [sys.executable, "-c", ignores_term])
supervisor.start("plain", [sys.executable, "-c", plain])
supervisor.start("infra", [sys.executable, "-c", plain], last=True)
print("pids", *(process.pid for process in supervisor.processes.values()), flush=True)
try:
    code = supervisor.wait()
finally:
    supervisor.stop()
sys.exit(code)
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def survivors(pids: set[int], within: float = 30) -> set[int]:
    """The pids still running once they had ``within`` seconds to go."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        running = {pid for pid in pids if alive(pid)}
        if not running:
            return set()
        time.sleep(0.2)
    return {pid for pid in pids if alive(pid)}


@pytest.mark.parametrize(
    "signals",
    [
        (signal.SIGTERM, signal.SIGTERM),
        (signal.SIGHUP, signal.SIGINT, signal.SIGINT),
        (signal.SIGINT,),
    ],
    ids=["term-twice", "hup-then-int-twice", "int"],
)
def test_every_child_stops_whatever_signals_arrive(signals: tuple[signal.Signals, ...]) -> None:
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS.format(scripts=str(ROOT / "scripts"))],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert harness.stdout is not None
    try:
        pids: set[int] = set()
        ready = 0
        while ready < 3 or not pids:
            line = harness.stdout.readline()
            assert line, "the harness ended before its children were ready"
            if line.startswith("pids"):
                pids = {int(pid) for pid in line.split()[1:]}
            ready += "ready" in line

        for signum in signals:
            os.killpg(harness.pid, signum)
            time.sleep(0.2)  # the next one arrives while the first shutdown runs
        harness.wait(timeout=60)

        assert harness.returncode == 0
        assert len(pids) == 3
        assert survivors(pids) == set()
    finally:
        if harness.poll() is None:
            os.killpg(harness.pid, signal.SIGKILL)
        harness.communicate()


@pytest.fixture
def make_run() -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """scripts/run.py on ports of its own, SQLite and local files in a temporary
    folder, and a Redis database of the suite's Redis that nothing else uses."""
    folder = Path(tempfile.mkdtemp(prefix="darkroom-run-"))
    redis = SERVICES.env["REDIS_URL"].rsplit("/", 1)[0] + "/7"
    port = services.free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE", "S3_", "AWS_", "OPENROUTER_", "DARKROOM_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DARKROOM_VAR_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'darkroom.sqlite3'}",
            "REDIS_URL": redis,
            "DARKROOM_HOST": "127.0.0.1",
            "DARKROOM_PORT": str(port),
            "OPENROUTER_EMULATOR_PORT": str(services.free_port()),
            "DARKROOM_ADMIN_PASSWORD": "a-test-admin-password",
        }
    )
    log = folder / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run.py")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        for pid in descendants(process.pid) | {process.pid}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.mark.slow
@pytest.mark.services
def test_make_run_stopped_by_sigterm_to_its_group_leaves_nothing_running(
    make_run: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, url, log = make_run

    def healthy() -> bool:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200

    services.wait_for(healthy, f"make run ({log.read_text(errors='replace')[-3000:]})", 180)
    children = descendants(process.pid)
    # emulator, web server, two workers (the default one with its pool), beat
    assert len(children) >= 5, log.read_text(errors="replace")[-3000:]

    os.killpg(process.pid, signal.SIGTERM)
    time.sleep(0.5)  # the second arrives while the shutdown runs, as from a service manager
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=90)

    assert survivors(children) == set(), log.read_text(errors="replace")[-3000:]
    assert process.returncode == 0


def test_the_generation_worker_gets_two_malloc_arenas_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import run

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert run.generation_worker_env() == {"MALLOC_ARENA_MAX": "2"}
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert run.generation_worker_env() == {"MALLOC_ARENA_MAX": "4"}


def test_a_child_started_with_extra_environment_sees_it(tmp_path: Path) -> None:
    harness = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); import run\n"
        "supervisor = run.Supervisor(grace=2)\n"
        "child = supervisor.start('probe', [sys.executable, '-c', "
        '\'import os; print("arenas", os.environ["MALLOC_ARENA_MAX"], "PATH" in os.environ)\'], '
        "env={'MALLOC_ARENA_MAX': '3'})\n"
        "child.wait()\n"
        "supervisor.stop()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", harness], capture_output=True, timeout=60, cwd=tmp_path, check=True
    )
    assert "arenas 3 True" in result.stdout.decode()


def test_run_raises_the_open_file_limit_to_the_hard_limit() -> None:
    """Each open page holds a socket in the web server: `make run` must not keep
    a soft limit of a few hundred descriptors."""
    code = f"""
import resource, sys
sys.path.insert(0, {str(ROOT / "scripts")!r})
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
import run
print(*run.raise_open_file_limit(), hard)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    soft, hard, expected = result.stdout.split()
    assert soft == hard == expected
