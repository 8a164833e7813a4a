"""The key check over a Parquet file: hashes sorted a partition at a time, collisions told
apart from repeated keys, and the same answers as polars over the whole column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openblotter.storage import key_check


def _write(tmp_path: Path, frame: pl.DataFrame) -> Path:
    path = tmp_path / "keys.parquet"
    frame.write_parquet(path, row_group_size=500)
    return path


def _frame(rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "contact_id": [f"C{n:07d}" for n in range(rows)],
            "officer_id": [f"P{n % 97}" for n in range(rows)],
            "row": list(range(rows)),
        }
    )


@pytest.mark.parametrize("part_rows", [4_000_000, 1_000, 333])
def test_unique_columns_whole_or_in_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part_rows: int
) -> None:
    monkeypatch.setattr(key_check, "PART_ROWS", part_rows)
    monkeypatch.setattr(key_check, "BATCH_ROWS", 700)
    path = _write(tmp_path, _frame(10_000))
    found = key_check.unique_columns(path, ["contact_id", "officer_id"], tmp_path / "tmp")
    assert found == ["contact_id"]
    # The partitions are written under the temporary directory and removed after.
    assert not list((tmp_path / "tmp").glob("*/*.u64"))


def test_one_repeat_in_a_partitioned_column_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(key_check, "PART_ROWS", 1_000)
    frame = _frame(10_000)
    ids = frame["contact_id"].to_list()
    ids[9_876] = ids[12]
    path = _write(tmp_path, frame.with_columns(pl.Series("contact_id", ids)))
    assert key_check.unique_columns(path, ["contact_id"], tmp_path / "tmp") == []
    count, rows = key_check.duplicate_rows(path, ["contact_id"], "row", 5, tmp_path / "tmp")
    assert count == 2
    assert [r["row"] for r in rows] == [12, 9_876]


@pytest.mark.parametrize("part_rows", [4_000_000, 1_000])
def test_hash_collisions_are_not_taken_for_repeated_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part_rows: int
) -> None:
    """A hash that only has 13 values: thousands of distinct keys share each one, and are
    still told apart; a real repeat among them is still found."""
    monkeypatch.setattr(key_check, "PART_ROWS", part_rows)
    monkeypatch.setattr(key_check, "CONFIRM_HASHES", 4)
    real = key_check._row_hashes
    monkeypatch.setattr(key_check, "_row_hashes", lambda frame: real(frame) % np.uint64(13))
    frame = _frame(6_000)
    path = _write(tmp_path, frame)
    assert key_check.unique_columns(path, ["contact_id"], tmp_path / "tmp") == ["contact_id"]
    assert key_check.duplicate_rows(path, ["contact_id"], "row", 5, tmp_path / "tmp") == (0, [])
    ids = frame["contact_id"].to_list()
    ids[5_999] = ids[0]
    path = _write(tmp_path, frame.with_columns(pl.Series("contact_id", ids)))
    assert key_check.unique_columns(path, ["contact_id"], tmp_path / "tmp") == []


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=0, max_size=120),
    second=st.lists(st.integers(0, 3), min_size=120, max_size=120),
    part_rows=st.sampled_from([7, 30, 4_000_000]),
)
def test_the_same_answers_as_polars(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[int | None],
    second: list[int],
    part_rows: int,
) -> None:
    tmp = tmp_path_factory.mktemp("keys")
    old = key_check.PART_ROWS, key_check.BATCH_ROWS
    key_check.PART_ROWS, key_check.BATCH_ROWS = part_rows, 16
    try:
        frame = pl.DataFrame(
            {
                "a": pl.Series(values, dtype=pl.Int64).cast(pl.String),
                "b": pl.Series(second[: len(values)], dtype=pl.Int64),
                "row": pl.Series(range(len(values)), dtype=pl.Int64),
            }
        )
        path = tmp / "keys.parquet"
        frame.write_parquet(path)
        unique = key_check.unique_columns(path, ["a", "b"], tmp / "tmp")
        assert unique == [c for c in ("a", "b") if not frame[c].is_duplicated().any()]
        repeated = frame.select("a", "b").is_duplicated()
        count, rows = key_check.duplicate_rows(path, ["a", "b"], "row", 3, tmp / "tmp")
        assert count == repeated.sum()
        assert [r["row"] for r in rows] == frame.filter(repeated)["row"].head(3).to_list()
    finally:
        key_check.PART_ROWS, key_check.BATCH_ROWS = old
