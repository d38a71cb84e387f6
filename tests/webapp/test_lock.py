"""The lock files in requirements/ are what `make` and the Dockerfile install,
and they agree with the ranges pyproject.toml states."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# A new major version of these changes APIs the code relies on.
BOUNDED = {"django", "celery", "httpx", "django-ninja", "pydantic", "redis", "psycopg", "pillow"}
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def pins(name: str) -> dict[str, list[Version]]:
    """Package -> every version the lock file pins (a universal lock may pin one
    package twice, under different markers)."""
    found: dict[str, list[Version]] = {}
    for package, version in _PIN.findall((ROOT / "requirements" / name).read_text()):
        found.setdefault(canonicalize_name(package), []).append(Version(version))
    return found


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("base.txt", PROJECT["dependencies"]),
        ("dev.txt", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lock: str, requirements: list[str]
) -> None:
    pinned = pins(lock)
    for line in requirements:
        requirement = Requirement(line)
        versions = pinned.get(canonicalize_name(requirement.name), [])
        assert versions, f"{requirement.name} is not in requirements/{lock}: run `make lock`"
        assert any(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"requirements/{lock} pins {requirement.name} {versions}, outside {requirement}"
        )


def test_every_pin_carries_hashes() -> None:
    for lock in ("base.txt", "dev.txt"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements" / lock).read_text())
        for block in blocks:
            if _PIN.match(block):
                assert "--hash=sha256:" in block, (lock, block.splitlines()[0])


def test_the_dev_lock_keeps_the_runtime_versions() -> None:
    runtime, dev = pins("base.txt"), pins("dev.txt")
    for package, versions in runtime.items():
        assert dev.get(package) == versions, package


def test_majors_that_would_break_are_bounded() -> None:
    declared = {
        canonicalize_name(Requirement(line).name): Requirement(line)
        for line in PROJECT["dependencies"]
    }
    for name in BOUNDED:
        specifier = declared[canonicalize_name(name)].specifier
        assert any(spec.operator == "<" for spec in specifier), name


def test_make_and_the_dockerfile_install_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "pip install -q --require-hashes -r requirements/base.txt" in makefile
    assert "pip install -q --require-hashes -r requirements/dev.txt" in makefile
    assert "pip install --require-hashes -r requirements/base.txt" in dockerfile
    # The project itself adds no unlocked dependency.
    assert "pip install -q --no-deps -e ." in makefile
    assert "pip install --no-deps ." in dockerfile
