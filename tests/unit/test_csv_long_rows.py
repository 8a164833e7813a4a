"""Rows longer than Arrow's read block (issue 17: any row over 2 MB was called an unclosed quote)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.read.readers import read_table


@pytest.mark.parametrize("size", [3_000_000, 20_000_000])
def test_a_row_longer_than_a_block_is_read(tmp_path: Path, size: int) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f'id,note,n\n1,short,1\n2,"{"x" * size}",2\n3,after,3\n')
    table = read_table(path)
    assert table.frame["note"].str.len_chars().to_list() == [5, size, 5]
    assert table.frame["n"].to_list() == ["1", "2", "3"]


def test_a_quote_that_never_closes_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    rows = "".join(f"{i},row {i},{i}\n" for i in range(5))
    tail = "".join(f"{i},row {i} with enough text to pass a block,{i}\n" for i in range(80_000))
    path.write_text(f'id,note,n\n{rows}9,"broken,9\n{tail}')
    with pytest.raises(InvalidInput) as refused:
        read_table(path)
    assert "a quoted field opened at line 7 does not close" in refused.value.message
    assert refused.value.detail["line"] == 7
