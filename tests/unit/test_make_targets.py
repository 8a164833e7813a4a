"""The make targets a newcomer runs do not fight each other, and CI runs what the README says.

Read with `make -n` (prints the commands, runs nothing), so the recipes are checked as make
expands them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(*args: str) -> str:
    # Run as a top-level make even under `make test` (CI): no "Entering directory" lines,
    # no flags inherited from the outer make.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    run = subprocess.run(
        ["make", "-n", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return run.stdout


def test_demo_and_test_share_one_environment_without_removing_each_others_packages() -> None:
    demo, test = dry_run("demo"), dry_run("test")
    assert "uv sync --frozen --no-dev --inexact" in demo
    assert "uv sync --frozen --inexact" in test  # never an exact sync that uninstalls
    assert "uv sync --frozen\n" not in demo + test


def test_make_demo_takes_a_port_and_a_host() -> None:
    assert ".venv/bin/openblotter demo --port 8123 --host 0.0.0.0" in dry_run(
        "demo", "PORT=8123", "HOST=0.0.0.0"
    )
    assert dry_run("demo").strip().endswith(".venv/bin/openblotter demo")


def test_tests_photograph_pages_outside_the_checkout_unless_asked() -> None:
    assert ROOT not in SCREENSHOTS.parents
    assert "OPENBLOTTER_SCREENSHOTS=docs/screenshots" in dry_run("screenshots")


def test_uv_is_bootstrapped_from_a_venv_not_a_system_pip_or_an_installer_script() -> None:
    script = (ROOT / "scripts" / "bootstrap-uv.sh").read_text()
    assert '-m venv "$tools/venv"' in script and '"$tools/venv/bin/python" -m pip' in script
    assert "python3-venv" in script
    for fetcher in ("curl", "wget", "astral.sh", "python3 -m pip"):
        assert fetcher not in script


def test_ci_runs_the_readme_test_command_the_linters_and_the_harness_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for target in ("test", "lint", "bench-test"):
        assert f'make "${{make_args[@]}}" {target}\n' in ci
    assert "git status --porcelain" in ci and "mktemp -d" in ci
    lint = dry_run("lint")
    assert "ruff check" in lint and ".venv/bin/mypy" in lint and "lint-imports" in lint


def test_the_readme_says_how_to_use_another_port() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo PORT=" in readme and "openblotter serve --port" in readme
    assert "openblotter init" in readme and "python3-venv" in readme
