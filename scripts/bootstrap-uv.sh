#!/usr/bin/env bash
# Install uv (pinned) into .tools/venv with the standard library's venv and that venv's
# own pip; link it as .tools/bin/uv. Needs no system pip and downloads no installer script,
# so it works wherever PyPI (or a mirror: PIP_INDEX_URL) is reachable.
#
# Usage: bash scripts/bootstrap-uv.sh <uv version>     (the Makefile does this)
set -euo pipefail
version="${1:?usage: bootstrap-uv.sh <uv version>}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "error: $python not found. Install Python 3.11 or newer (Debian/Ubuntu: sudo apt-get install python3 python3-venv)." >&2
    exit 1
fi
mkdir -p "$tools"
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if ! "$python" -m venv "$tools/venv" >/dev/null 2>"$errors"; then
    rm -rf "$tools/venv"
    cat "$errors" >&2
    echo "error: '$python -m venv' could not create a virtual environment with pip (ensurepip is missing)." >&2
    echo "       Debian/Ubuntu: sudo apt-get install python3-venv   (then run make again)" >&2
    exit 1
fi
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$version"
mkdir -p "$tools/bin"
ln -sf ../venv/bin/uv "$tools/bin/uv"
"$tools/bin/uv" --version
