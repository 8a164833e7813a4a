"""Issue 14: docs/architecture.md names every module of the package, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "openblotter"
DOC = ROOT / "docs" / "architecture.md"
#: A table row whose first cell is a module path: | `ingest/read/readers.py` | ... |
ROW = re.compile(r"^\| `([\w/]+\.py)` \| (.*) \|$", re.M)


def _documented() -> dict[str, str]:
    rows = ROW.findall(DOC.read_text(encoding="utf-8"))
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a module is listed twice in docs/architecture.md"
    return dict(rows)


def _modules() -> set[str]:
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py"
    }


def test_every_module_has_a_line_in_the_architecture_table() -> None:
    missing = sorted(_modules() - set(_documented()))
    assert not missing, (
        "add a line for each to the module table of docs/architecture.md: " + ", ".join(missing)
    )


def test_the_architecture_table_names_no_module_that_does_not_exist() -> None:
    gone = sorted(set(_documented()) - _modules())
    assert not gone, "remove (or rename) these lines of docs/architecture.md: " + ", ".join(gone)


def test_every_line_says_what_the_module_is() -> None:
    blank = sorted(name for name, text in _documented().items() if len(text.strip()) < 10)
    assert not blank, f"describe these modules in docs/architecture.md: {blank}"


def test_every_module_the_tour_mentions_exists() -> None:
    """The flows name modules by path (`services/query.py`): each must be there."""
    text = DOC.read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:domain|ingest|analysis|storage|services|web|demo)/[\w/]+\.py)`", text)
    )
    assert named, "the tour names no module"
    assert not sorted(named - _modules())
