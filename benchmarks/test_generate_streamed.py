"""The generator's day-by-day mode (the 100-million-row file): exact count, order, same bytes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import COLUMNS, _day_counts, generate_rows_streamed  # noqa: E402


def test_day_counts_add_up_exactly() -> None:
    for rows in (1, 3_927, 1_000_003):
        assert sum(n for _, n in _day_counts(rows)) == rows


def test_streamed_rows_are_sorted_numbered_and_repeatable() -> None:
    rows = list(generate_rows_streamed(20_000, seed=5))
    assert len(rows) == 20_000 and all(len(r) == len(COLUMNS) for r in rows)
    assert [r[0] for r in rows[:3]] == ["C00000001", "C00000002", "C00000003"]
    moments = [(r[2], r[3]) for r in rows]
    assert moments == sorted(moments)
    assert rows == list(generate_rows_streamed(20_000, seed=5))
    assert rows != list(generate_rows_streamed(20_000, seed=6))
