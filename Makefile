# One command runner. `make demo` starts the portal; `make test` runs every test.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo serve test test-fast lint bench bench-smoke bench-test install install-dev system-deps clean

## Install the portal (locked dependencies) and start it with the demo data on http://127.0.0.1:8000
demo: install
	$(BIN)/openblotter demo

## Install the dev dependencies and the browser, then run the whole test suite
test: install-dev system-deps
	$(BIN)/pytest -p no:cacheprovider

## Unit and integration tests only (no browser)
test-fast: install-dev
	$(BIN)/pytest -m "not browser"

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## Benchmarks against Datasette 0.65 + sqlite-utils on 1,000,000 rows (own environment, ~10-15 min)
bench: install
	UV=$(UV) bash benchmarks/run.sh

## The same end to end on 20,000 rows (a few minutes) -> benchmarks/work/smoke.md
bench-smoke: install
	UV=$(UV) bash benchmarks/run.sh --smoke

## Tests of the benchmark harness itself (no timing assertions)
bench-test: install
	UV=$(UV) bash benchmarks/setup_env.sh && .venv-bench/bin/python -m pytest benchmarks/test_harness.py -q -p no:cacheprovider

install: $(UV)
	$(UV) sync --frozen --no-dev

install-dev: $(UV)
	$(UV) sync --frozen

system-deps:
	bash scripts/install-system-deps.sh

.tools/bin/uv:
	python3 -m pip install --quiet --target .tools/pylib "uv==$(UV_VERSION)"
	mkdir -p .tools/bin
	ln -sf ../pylib/bin/uv .tools/bin/uv

clean:
	rm -rf $(VENV) .tools data benchmarks/work
