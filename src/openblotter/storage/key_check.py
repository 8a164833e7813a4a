"""Keys checked over a Parquet file of any size, in bounded memory (DuckDB spills to disk).

A chunked publish writes its key columns and row numbers to a side file;
these functions tell whether a column names each row once, and which rows
share a key, without holding the column in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

#: Memory DuckDB may use for a key check before it spills to ``temp_directory``.
KEY_CHECK_MEMORY = "128MB"


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
    found = []
    with _connect(temp_directory) as con:
        for column in columns:
            sql = (
                f"SELECT count(*) FROM (SELECT {_ident(column)} FROM read_parquet(?) "
                f"GROUP BY 1 HAVING count(*) > 1 LIMIT 1)"
            )
            row = con.execute(sql, [str(path)]).fetchone()
            if row is not None and row[0] == 0:
                found.append(column)
    return found


def duplicate_rows(
    path: Path, key: list[str], row_column: str, limit: int, temp_directory: Path
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows share their key with another row, and the first ``limit`` of them."""
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
