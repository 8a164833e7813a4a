"""Issue 14: a door (web, cli) reads rows only through service functions that check access.

import-linter keeps the doors out of ingest, storage, analysis and services.reading
(pyproject.toml); this test keeps them off the portal's own ways to the rows: its
query engine and its release files.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "openblotter"
DOORS = [*sorted((PACKAGE / "web").rglob("*.py")), *sorted(PACKAGE.glob("cli*.py"))]
#: Portal attributes that reach rows without an access check.
ROW_ACCESS = {"query_engine", "release_path", "local_path"}


def test_no_door_reaches_the_engine_or_the_release_files() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} uses .{node.attr}"
        for path in DOORS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ROW_ACCESS
    ]
    assert not found, "call a service function (services/query.py, services/releases.py): " + (
        "; ".join(found)
    )


def test_the_doors_are_found() -> None:
    assert PACKAGE / "web" / "api.py" in DOORS and PACKAGE / "cli.py" in DOORS
