"""Issue 14: test helpers live in factories (tests/factories*.py) or fixtures (conftest.py),
never in a test module that another test module imports."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _imports_from_tests(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests."):
            found.append((node.module or "", [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("tests.")]
    return found


def test_no_test_module_imports_another_test_module() -> None:
    crossing = [
        f"{path.relative_to(TESTS)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module, _ in _imports_from_tests(path)
        if module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert not crossing, "move the helpers to tests/factories*.py or a fixture: " + "; ".join(
        crossing
    )


def test_no_private_name_is_imported_across_test_files() -> None:
    private = [
        f"{path.relative_to(TESTS)} imports {name} from {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module, names in _imports_from_tests(path)
        for name in names
        if name.startswith("_")
    ]
    assert not private, "; ".join(private)
