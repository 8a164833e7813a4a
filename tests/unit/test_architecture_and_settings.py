"""The layering holds (import-linter) and settings come from env, config file, then defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from openblotter.config import DEVELOPMENT_SALT, load_settings
from openblotter.domain.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def test_imports_point_down_only():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_itself_through_others() -> None:
    """Issue 14: two cycles were held only for type hints (the cursor and the query model,
    the mapping and its spec). Type-checking imports count: a cycle is a cycle."""
    graph = grimp.build_graph("openblotter", include_external_packages=False)
    cycles = _cycles(graph)
    assert cycles == [], f"import cycles: {cycles}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_environment_beats_config_file_beats_defaults(tmp_path, monkeypatch):
    config = tmp_path / "openblotter.toml"
    config.write_text('portal_name = "From the file"\nagency = "File PD"\nport = 9001\n')
    monkeypatch.setenv("OPENBLOTTER_CONFIG", str(config))
    monkeypatch.setenv("OPENBLOTTER_AGENCY", "Env PD")
    settings = load_settings()
    assert (settings.portal_name, settings.agency, settings.port) == (
        "From the file",
        "Env PD",
        9001,
    )
    assert load_settings(port=8123).port == 8123


def test_the_development_salt_is_refused_outside_demo_mode(monkeypatch):
    monkeypatch.delenv("OPENBLOTTER_SALT", raising=False)
    monkeypatch.delenv("OPENBLOTTER_CONFIG", raising=False)
    settings = load_settings()
    assert settings.salt.get_secret_value() == DEVELOPMENT_SALT
    with pytest.raises(ConfigurationError, match="OPENBLOTTER_SALT"):
        settings.require_safe()
    load_settings(demo=True).require_safe()
    load_settings(salt="a-long-random-secret").require_safe()


def test_the_result_cache_size_is_a_setting_that_reaches_the_engine(tmp_path: Path) -> None:
    from openblotter.services.portal import Portal

    for cells, mb in ((0, 32), (1234, 5)):
        settings = load_settings(
            data_dir=tmp_path / str(cells), query_cache_cells=cells, query_cache_mb=mb
        )
        cache = Portal.open(settings).query_engine()._cache
        assert (cache.max_cells, cache.max_bytes) == (cells, mb * 2**20)
