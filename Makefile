# Darkroom: `make run` brings the app up, `make test` installs what tests need and runs them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python

.PHONY: run test lint typecheck pytest bench faults screenshots venv dev-venv lock clean

# Installs come from the lock files in requirements/ (exact versions with hashes);
# pyproject.toml only states the ranges they are resolved within (`make lock`).
$(VENV)/.runtime: requirements/base.txt pyproject.toml
	@test -x $(PYTHON) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q --require-hashes -r requirements/base.txt
	$(PYTHON) -m pip install -q --no-deps -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements/dev.txt
	$(PYTHON) -m pip install -q --require-hashes -r requirements/dev.txt
	@touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

## run: everything on this machine (SQLite, local files, local Redis, the emulator without a key)
run: venv
	@scripts/install-system-packages redis-server=redis-server
	$(PYTHON) scripts/run.py

## test: lint, types, then the whole suite against real Redis, PostgreSQL, S3 and Chromium
test: dev-venv
	@scripts/install-system-packages redis-server=redis-server \
		'/usr/lib/postgresql/*/bin/postgres=postgresql' chromium=chromium
	$(MAKE) lint typecheck pytest

lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev-venv
	$(BIN)/mypy .

pytest: dev-venv
	$(PYTHON) -m pytest $(PYTEST_ARGS)

## bench: the benchmarks, printing their figures
bench: dev-venv
	@scripts/install-system-packages redis-server=redis-server \
		'/usr/lib/postgresql/*/bin/postgres=postgresql'
	$(PYTHON) -m bench $(BENCH_ARGS)

## faults: the fault suite against the real stack; exit 1 when a goal is missed
## (FAULTS_ARGS=--report-only always exits 0)
faults: dev-venv
	@scripts/install-system-packages redis-server=redis-server \
		'/usr/lib/postgresql/*/bin/postgres=postgresql'
	$(PYTHON) -m faults $(FAULTS_ARGS)

## lock: resolve pyproject.toml's ranges into requirements/*.txt, for every platform and
## Python 3.12+, keeping current pins (LOCK_ARGS=--upgrade for the newest); commit them
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --generate-hashes \
	--python-version 3.12 --custom-compile-command "make lock" --quiet $(LOCK_ARGS)
lock: dev-venv
	$(UV_COMPILE) -o requirements/base.txt
	$(UV_COMPILE) --extra dev -c requirements/base.txt -o requirements/dev.txt

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

## screenshots: every page at 1440 px and 390 px, as a staff member and a member, in var/screenshots/
## (production settings, demo data made through the emulator; exit 1 when a page scrolls sideways)
screenshots: dev-venv
	@scripts/install-system-packages redis-server=redis-server \
		'/usr/lib/postgresql/*/bin/postgres=postgresql' chromium=chromium
	$(PYTHON) scripts/screenshots.py $(SCREENSHOTS_ARGS)
