"""Publishing stays linear in the column count (issue 17: 10,000 columns took 59 s).

The quadratic step was asking a frame for its column list (which polars builds anew on
every call) once per schema field, in conform, scrub and the header renaming. The test
counts those calls instead of timing: they must not grow with the columns.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.factories import make_portal, publish_file, write_csv


def _column_list_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int) -> int:
    header = ["case_id"] + [f"field_{i}" for i in range(width)]
    rows = [[r] + [f"v{(r * i) % 13}" for i in range(width)] for r in range(20)]
    source = write_csv(tmp_path / f"wide{width}.csv", header, rows)
    calls = 0
    real = pl.DataFrame.columns

    def counted(frame: pl.DataFrame) -> list[str]:
        nonlocal calls
        calls += 1
        return real.fget(frame)  # type: ignore[attr-defined,no-any-return]

    portal = make_portal(tmp_path / f"portal{width}")
    with monkeypatch.context() as patched:
        patched.setattr(pl.DataFrame, "columns", property(counted, real.fset))
        publish_file(portal, source, "wide", "2026-Q1")
    return calls


def test_column_lists_are_not_rebuilt_per_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = _column_list_calls(tmp_path, monkeypatch, 50)
    wide = _column_list_calls(tmp_path, monkeypatch, 200)
    assert wide - narrow < 20, (narrow, wide)
