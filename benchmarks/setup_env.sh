#!/usr/bin/env bash
# Create or refresh the benchmark's own environment (.venv-bench at the repository root)
# from the locked benchmarks/requirements.txt. Datasette and sqlite-utils live only here,
# never in the project's dependencies.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-bench"
# The Makefile passes the uv it bootstrapped (UV=...); run alone, any uv on PATH will do.
uv="${UV:-$(command -v uv || echo "$root/.tools/bin/uv")}"
if [ ! -x "$venv/bin/python" ]; then
    "$uv" venv --quiet --python 3.11 "$venv"
fi
# A no-op when the environment already matches the lock file.
"$uv" pip sync --quiet --python "$venv/bin/python" "$root/benchmarks/requirements.txt"
