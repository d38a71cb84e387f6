"""The layout's contracts, read from the source: which part may import which.

Every import counts, at module level or inside a function: a lazy import is
still a dependency. The parts, from the bottom up:

- ``webapp`` shared helpers (http, inputs, roles and permissions, htmx,
  tokens…) and the Django-free OpenRouter client ``generation.openrouter``, and the emulator;
- ``catalog`` (image models and prices; it uses the client, nothing else of
  ``generation``);
- ``generation`` (jobs);
- ``gallery``, then ``costs`` (they read jobs; jobs know neither: job creation
  asks ``generation.spending``, which the costs app fills in);
- ``team`` (members, invitations, sign-in; its Members page reads costs, and
  nothing below imports it: roles live in ``webapp.roles``);
- the project: settings, URLs, Celery app, ASGI/WSGI.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("webapp", "catalog", "generation", "gallery", "costs", "team", "emulator")
# The project's own modules sit on top: they wire the apps together.
PROJECT = {
    "webapp.settings",
    "webapp.urls",
    "webapp.asgi",
    "webapp.wsgi",
    "webapp.apps",
    "webapp.middleware",
    "webapp.unavailable",
    "webapp.management.commands.openrouter_emulator",
}


def _part(module: str) -> str | None:
    """The part a dotted module name belongs to (None: not the project's code)."""
    if module in PROJECT or any(module.startswith(f"{p}.") for p in PROJECT):
        return "project"
    if module == "generation.openrouter" or module.startswith("generation.openrouter."):
        return "openrouter"
    top = module.split(".")[0]
    return top if top in APPS else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative ones resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            # ``from generation import services`` imports generation.services.
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, dict[str, set[str]]]:
    """part → part → the modules (of the first part) behind that edge."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            source = _part(module)
            if source is None:
                continue
            for imported in _imports(path):
                target = _part(imported)
                if target is not None and target != source:
                    edges[source][target].add(module)
    return edges


ALLOWED = {
    "webapp": set(),
    "openrouter": set(),
    "emulator": {"openrouter"},
    # estimate_report runs the emulator to measure estimates against it.
    "catalog": {"webapp", "openrouter", "emulator"},
    "generation": {"webapp", "openrouter", "catalog"},
    "gallery": {"webapp", "openrouter", "catalog", "generation"},
    # The ledger names each job's boards.
    "costs": {"webapp", "openrouter", "catalog", "generation", "gallery"},
    # The Members page shows each person's spending and budget.
    "team": {"webapp", "openrouter", "catalog", "generation", "gallery", "costs"},
    "project": set(APPS) | {"openrouter"},
}


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_the_parts_below_it(part: str) -> None:
    edges = _graph()[part]
    wrong = {target: sorted(modules) for target, modules in edges.items()}
    wrong = {t: m for t, m in wrong.items() if t not in ALLOWED[part]}
    assert not wrong, f"{part} must not import {sorted(wrong)}: {wrong}"


def test_there_is_no_import_cycle_between_parts() -> None:
    edges = _graph()
    seen: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        seen[node] = "open"
        for target in edges.get(node, {}):
            if seen.get(target) == "open":
                cycle = [*path[path.index(target) :], target] if target in path else [node, target]
                pytest.fail(f"import cycle: {' → '.join(cycle)}")
            if target not in seen:
                visit(target, [*path, target])
        seen[node] = "done"

    for node in list(edges):
        if node not in seen:
            visit(node, [node])


def test_the_graph_sees_real_imports() -> None:
    # Guards the test itself: a reader that found nothing would pass every contract.
    edges = _graph()
    assert "generation.services" in edges["generation"]["catalog"]
    assert "gallery.views" in edges["gallery"]["generation"]
    assert "team.selectors" in edges["team"]["costs"]


def test_every_app_is_in_the_graph() -> None:
    # A Django app left out of APPS would have its imports, both ways, unchecked.
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(APPS), f"add {sorted(apps - set(APPS))} to APPS and ALLOWED"


def test_views_never_import_other_views() -> None:
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*views*.py"):
            module = _module_name(path)
            for imported in _imports(path):
                if imported != module and imported.rsplit(".", 1)[-1].endswith("views"):
                    offenders.append(f"{module} imports {imported}")
    assert not offenders, offenders


def test_selectors_never_call_the_network() -> None:
    offenders = []
    for path in ROOT.glob("*/selectors.py"):
        for imported in _imports(path):
            if imported.startswith(("generation.openrouter", "httpx", "requests", "urllib")):
                offenders.append(f"{_module_name(path)} imports {imported}")
    assert not offenders, offenders
