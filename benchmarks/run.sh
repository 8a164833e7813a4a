#!/usr/bin/env bash
# One command for the whole benchmark (make bench): prepare .venv-bench from the lock file,
# then run the harness. Arguments pass through, e.g. --rows 20000 for a smoke run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup_env.sh"
exec "$here/../.venv-bench/bin/python" "$here/run.py" "$@"
