"""The name lists come from Faker once per machine: kept in the user's cache directory
under a name of Faker's version and the module's text, and made again when that file is
missing, damaged or cannot be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openblotter.ingest import name_lists

PROBE = """
import json, sys
from openblotter.ingest import name_lists
lists = {"first": name_lists.first_names(), "last": name_lists.last_names(),
         "words": name_lists.common_words()}
print(json.dumps({"faker": "faker" in sys.modules,
                  "sizes": {k: len(v) for k, v in lists.items()},
                  "probe": [name_lists.is_first_name("José"), name_lists.is_last_name("Nguyen"),
                            name_lists.is_common_word("Officer")]}))
"""


def _run(cache: Path) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_lists_are_kept_and_read_back_without_importing_faker(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first["faker"] is True
    kept = list((tmp_path / "openblotter").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("name-lists-")
    assert not list((tmp_path / "openblotter").glob("*.tmp"))  # written whole, then renamed
    second = _run(tmp_path)
    assert second["faker"] is False
    assert second["sizes"] == first["sizes"] and second["probe"] == first["probe"] == [True] * 3
    sizes = first["sizes"]
    assert isinstance(sizes, dict) and sizes["first"] > 15_000 and sizes["last"] > 15_000


def test_a_damaged_or_foreign_cache_is_made_again(tmp_path: Path) -> None:
    clean = _run(tmp_path / "clean")
    (kept,) = (tmp_path / "clean" / "openblotter").iterdir()
    emptied = '{"first": [], "last": [], "words": []}'  # valid, but names would pass unseen
    for damage in ['{"first": ["x"]', '{"first": [1], "last": [], "words": []}', "[]", emptied]:
        broken = tmp_path / "broken" / "openblotter" / kept.name
        broken.parent.mkdir(parents=True, exist_ok=True)
        broken.write_text(damage)
        again = _run(tmp_path / "broken")
        assert again["faker"] is True and again["sizes"] == clean["sizes"]
        assert json.loads(broken.read_text()).keys() == {"first", "last", "words"}


def test_no_cache_directory_still_gives_the_lists(tmp_path: Path) -> None:
    """A cache directory that cannot be written (a read-only home) is done without."""
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    result = _run(blocked)
    assert result["faker"] is True and result["probe"] == [True, True, True]


def test_the_cache_name_changes_with_faker_and_the_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    now = name_lists.cache_path()
    assert now is not None and now.parent == tmp_path / "openblotter"
    edited = tmp_path / "name_lists.py"
    edited.write_bytes(Path(name_lists.__file__).read_bytes() + b"# one more line\n")
    monkeypatch.setattr(name_lists, "__file__", str(edited))
    assert name_lists.cache_path() not in (None, now)
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(name_lists.metadata, "version", lambda _: "0.0.1")
    assert name_lists.cache_path() not in (None, now)
