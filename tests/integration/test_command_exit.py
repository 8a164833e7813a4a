"""The ``openblotter`` command freezes its objects when it is done (cli.main), so the
interpreter does not collect them one by one on the way out; what it wrote is whole by
then, and an error still ends the command with its message and exit status."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL_DATA

CODE = """
import atexit, gc, json, os, sys
from openblotter.cli import main
atexit.register(lambda: os.write(1, json.dumps({"frozen": gc.get_freeze_count()}).encode()))
sys.argv = ["openblotter", *sys.argv[1:]]
main()
"""


def _command(tmp_path: Path, *args: str) -> tuple[int, dict[str, int], str]:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "OPENBLOTTER_DATA_DIR": str(tmp_path / "data"),
        "OPENBLOTTER_SALT": "0123456789abcdef0123456789abcdef",
    }
    done = subprocess.run(
        [sys.executable, "-c", CODE, *args], env=env, capture_output=True, text=True, timeout=300
    )
    last = done.stdout.strip().splitlines()[-1]
    return done.returncode, json.loads(last[last.index('{"frozen"') :]), done.stderr


def test_a_publish_is_whole_when_the_command_ends_frozen(tmp_path: Path) -> None:
    path = REAL_DATA / "seattle/Terry_Stops.csv"
    code, state, stderr = _command(
        tmp_path, "publish", str(path), "--dataset", "stops", "--release", "2026-Q3",
        "--accept-privacy",
    )  # fmt: skip
    assert code == 0, stderr[-2000:]
    assert state["frozen"] > 10_000
    catalog = tmp_path / "data" / "catalog.sqlite"
    leftovers = [p.name for p in catalog.parent.iterdir() if p.name.startswith("catalog.sqlite-")]
    assert leftovers == []
    with sqlite3.connect(catalog) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ((rows,),) = db.execute("SELECT row_count FROM releases").fetchall()
    assert rows > 0
    released = list((tmp_path / "data" / "releases").rglob("*.parquet"))
    assert released


def test_an_error_still_ends_with_its_message_and_status(tmp_path: Path) -> None:
    code, state, stderr = _command(
        tmp_path, "publish", str(tmp_path / "missing.csv"), "--dataset", "stops",
        "--release", "2026-Q3",
    )  # fmt: skip
    assert code == 2
    assert "missing.csv" in stderr
    assert state["frozen"] > 10_000
