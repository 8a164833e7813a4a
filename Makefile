# One command runner. `make demo` starts the portal; `make test` runs every test.
# Targets share one environment (.venv): `make demo` adds what it needs and removes nothing,
# so it never undoes `make test` (and back). `make test` leaves `git status` clean.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
# make demo PORT=8123 / HOST=0.0.0.0: where the demo listens (default 127.0.0.1:8000)
PORT ?=
HOST ?=

.PHONY: demo serve test test-fast lint screenshots bench bench-smoke bench-100m bench-test install install-dev system-deps clean

## Install the portal (locked dependencies) and start it with the demo data on http://127.0.0.1:8000
demo: install
	$(BIN)/openblotter demo $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

## Install the dev dependencies and the browser, then run the whole test suite
test: install-dev system-deps
	$(BIN)/pytest -p no:cacheprovider

## Unit and integration tests only (no browser)
test-fast: install-dev
	$(BIN)/pytest -p no:cacheprovider -m "not browser"

## Ruff, mypy (strict on domain, services, storage) and the import contracts
lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## The browser tests, writing the documentation's screenshots into docs/screenshots
screenshots: install-dev system-deps
	OPENBLOTTER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:cacheprovider -m browser tests/browser

## Benchmarks against Datasette 0.65 + sqlite-utils on 1,000,000 rows (own environment; 7 min on a quiet machine)
bench: install
	UV=$(abspath $(UV)) bash benchmarks/run.sh

## The same end to end on 20,000 rows (a few minutes) -> benchmarks/work/smoke.md
bench-smoke: install
	UV=$(abspath $(UV)) bash benchmarks/run.sh --smoke

## OpenBlotter alone at 100,000,000 rows (about 40 minutes on 2 quiet cores; never in CI) -> benchmarks/work/big-<rows>.md
## make bench-100m BIG_ROWS=20000000 for a smaller run
BIG_ROWS ?= 100000000
bench-100m: install
	UV=$(abspath $(UV)) bash benchmarks/setup_env.sh
	cd benchmarks && ../.venv-bench/bin/python big.py --rows $(BIG_ROWS)

## Tests of the benchmark harness itself (own environment .venv-bench; no timing assertions)
bench-test: install
	UV=$(abspath $(UV)) bash benchmarks/setup_env.sh
	.venv-bench/bin/python -m pytest benchmarks/test_harness.py benchmarks/test_generate_streamed.py -q -p no:cacheprovider

# --inexact: keep packages installed by other targets (the dev tools), install what is missing.
# --compile-bytecode: where Python writes no bytecode (PYTHONDONTWRITEBYTECODE), every command
# would compile its imports again (openblotter --help: 4.1 s instead of 1.6 s).
install: $(UV)
	$(UV) sync --frozen --no-dev --inexact --compile-bytecode
	$(BIN)/python -m compileall -q src > /dev/null

install-dev: $(UV)
	$(UV) sync --frozen --inexact --compile-bytecode
	$(BIN)/python -m compileall -q src > /dev/null

system-deps:
	bash scripts/install-system-deps.sh

# uv from PyPI into a private virtual environment: no system pip, no installer script.
.tools/bin/uv:
	bash scripts/bootstrap-uv.sh $(UV_VERSION)

clean:
	rm -rf $(VENV) .venv-bench .tools data benchmarks/work
