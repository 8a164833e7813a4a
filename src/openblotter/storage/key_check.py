"""Keys checked over a Parquet file of any size, in memory that does not grow with it.

A chunked publish writes its key columns and row numbers to a side file;
these functions tell whether a column names each row once, and which rows
share a key, without holding the column in memory. Whether any key repeats is
told from 64-bit hashes sorted a partition at a time; which rows share one
(a refused publish's report) is listed by DuckDB, which spills to disk.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq

#: Memory DuckDB may use to list the rows that share a key before it spills to ``temp_directory``.
KEY_CHECK_MEMORY = "128MB"
#: Key hashes sorted at once (8 bytes each): a larger file is checked a partition at a time.
PART_ROWS = 4_000_000
#: Rows read from the file at a time.
BATCH_ROWS = 262_144
#: Repeated hashes looked up in one pass over the file when telling keys from collisions.
CONFIRM_HASHES = 4_096
_SEED = 20_260_701


def _connect(temp_directory: Path) -> duckdb.DuckDBPyConnection:
    temp_directory.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        config={
            "memory_limit": KEY_CHECK_MEMORY,
            "temp_directory": str(temp_directory),
            "threads": 2,
            "preserve_insertion_order": False,
        }
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def unique_columns(path: Path, columns: list[str], temp_directory: Path) -> list[str]:
    """Those of ``columns`` (no nulls, checked before) whose values are all distinct."""
    return [c for c in columns if not _has_repeats(path, [c], temp_directory)]


def _has_repeats(path: Path, key: list[str], temp_directory: Path) -> bool:
    """Whether two rows share their ``key``: 64-bit hashes, sorted a partition at a time.

    The hashes are split by their top bits into partitions of at most ``PART_ROWS``
    (written to ``temp_directory`` when there is more than one), so memory does not
    grow with the file; a hash seen twice is then checked against the values.
    """
    rows = pq.ParquetFile(path).metadata.num_rows
    bits = max(0, math.ceil(math.log2(max(rows, 1) / PART_ROWS)))
    if bits == 0:
        hashes = np.concatenate([np.empty(0, np.uint64), *_hashes(path, key)])
        return _confirmed(path, key, _repeated(hashes))
    temp_directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=temp_directory) as tmp:
        parts = [Path(tmp) / f"{n}.u64" for n in range(1 << bits)]
        bounds = np.arange(1, 1 << bits, dtype=np.uint64) << np.uint64(64 - bits)
        with contextlib.ExitStack() as stack:
            outs = [stack.enter_context(p.open("wb")) for p in parts]
            for hashes in _hashes(path, key):
                hashes.sort()
                cuts = [0, *np.searchsorted(hashes, bounds).tolist(), len(hashes)]
                for out, begin, stop in zip(outs, cuts, cuts[1:], strict=False):
                    hashes[begin:stop].tofile(out)
        for part in parts:
            if _confirmed(path, key, _repeated(np.fromfile(part, dtype=np.uint64))):
                return True
            part.unlink()
    return False


def _batches(path: Path, key: list[str]) -> Iterator[pl.DataFrame]:
    # Without pre-buffering: with it, pyarrow keeps every row group's bytes it has read.
    reader = pq.ParquetFile(path, pre_buffer=False)
    for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=key):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame


def _row_hashes(frame: pl.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's key (nulls hash alike, as ``is_duplicated`` compares them)."""
    return frame.hash_rows(seed=_SEED).to_numpy(writable=True)


def _hashes(path: Path, key: list[str]) -> Iterator[np.ndarray]:
    """The key's hash on each row of ``path``, a batch at a time."""
    for frame in _batches(path, key):
        yield _row_hashes(frame)


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """The hashes that occur more than once in ``hashes`` (sorted in place)."""
    hashes.sort()
    same = hashes[1:] == hashes[:-1]
    return np.unique(hashes[1:][same])


def _confirmed(path: Path, key: list[str], repeated: np.ndarray) -> bool:
    """Whether any of the ``repeated`` hashes is two rows with the same key, not a collision.

    Two distinct keys share a 64-bit hash about once in 10^11 pairs, so the first batch
    of hashes almost always settles it; they are checked a batch at a time all the same.
    """
    for start in range(0, len(repeated), CONFIRM_HASHES):
        wanted = repeated[start : start + CONFIRM_HASHES]
        seen: pl.DataFrame | None = None
        for frame in _batches(path, key):
            hit = np.isin(_row_hashes(frame), wanted)
            if not hit.any():
                continue
            # Held: only distinct keys that share a wanted hash (collisions), never the file.
            seen = (
                frame.filter(pl.Series(hit))
                if seen is None
                else pl.concat([seen, frame.filter(pl.Series(hit))])
            )
            if seen.is_duplicated().any():
                return True
    return False


def duplicate_rows(
    path: Path, key: list[str], row_column: str, limit: int, temp_directory: Path
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows share their key with another row, and the first ``limit`` of them."""
    if not _has_repeats(path, key, temp_directory):
        return 0, []
    keys = ", ".join(_ident(k) for k in key)
    # NULL keys are compared as values (polars' is_duplicated does the same).
    joined = " AND ".join(f"s.{_ident(k)} IS NOT DISTINCT FROM d.{_ident(k)}" for k in key)
    with _connect(temp_directory) as con:
        con.execute(
            f"CREATE TEMP TABLE dupes AS SELECT {keys}, count(*) AS n FROM read_parquet(?) "
            f"GROUP BY ALL HAVING count(*) > 1",
            [str(path)],
        )
        total = con.execute("SELECT coalesce(sum(n), 0) FROM dupes").fetchone()
        count = int(total[0]) if total else 0
        if not count:
            return 0, []
        cursor = con.execute(
            f"SELECT {', '.join('s.' + _ident(k) for k in key)}, s.{_ident(row_column)} "
            f"FROM read_parquet(?) s SEMI JOIN dupes d ON {joined} "
            f"ORDER BY s.{_ident(row_column)} LIMIT {int(limit)}",
            [str(path)],
        )
        names = [d[0] for d in cursor.description or []]
        return count, [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
