"""A publish loads only what it uses: a first publish into an empty data directory runs no
Alembic, no Faker (the name lists come from their cache), no report renderer it is not
asked for, no census parser for a file that is not a census download, and no statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL_DATA

NOT_LOADED = [
    "alembic",
    "faker",
    "markdown_it",
    "openblotter.ingest.census.tables",
    "openblotter.services.analyses",
    "scipy",
    "statsmodels",
]

CODE = """
import json, sys
from typer.testing import CliRunner
from openblotter.cli import app
done = CliRunner().invoke(app, ["publish", sys.argv[1], "--dataset", "stops",
                                "--release", "2026-Q3", "--accept-privacy"])
loaded = [m for m in sys.argv[2:] if any(k == m or k.startswith(m + ".") for k in sys.modules)]
print(json.dumps({"exit": done.exit_code, "output": done.output[-2000:], "loaded": loaded}))
"""


def _publish(tmp_path: Path, data: str) -> dict[str, object]:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "OPENBLOTTER_DATA_DIR": str(tmp_path / data),
        "OPENBLOTTER_SALT": "0123456789abcdef0123456789abcdef",
    }
    path = REAL_DATA / "seattle/Terry_Stops.csv"
    done = subprocess.run(
        [sys.executable, "-c", CODE, str(path), *NOT_LOADED],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_first_publish_loads_only_what_it_uses(tmp_path: Path) -> None:
    first = _publish(tmp_path, "first")  # fills the name-list cache
    assert first["exit"] == 0, first["output"]
    assert first["loaded"] == ["faker"]
    again = _publish(tmp_path, "second")  # another empty data directory
    assert again["exit"] == 0, again["output"]
    assert again["loaded"] == []
