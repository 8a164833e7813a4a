"""The floor: the same questions asked of DuckDB in the harness process, over the very Parquet
file that OpenBlotter published, with no HTTP, no JSON and no query model in between.

What OpenBlotter adds above this floor is its per-request overhead; what Datasette takes
above it is the cost of its engine and its server together. Every timed query carries the
same fresh no-op predicate as the HTTP requests, so no answer comes from a cache.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peers import FACETS, FILTER, FRESH_COLUMN, GROUP_BY, PAGE_SIZE, fresh_value
from scenarios import FRESH

ROW_ID = "_row_id"


def release_file(data_dir: Path) -> Path | None:
    """The largest Parquet file under OpenBlotter's data directory: the published release."""
    files = sorted(data_dir.rglob("*.parquet"), key=lambda p: p.stat().st_size)
    return files[-1] if files else None


class DuckDBFloor:
    """Times each scenario's SQL on an in-process DuckDB connection (fetching every value)."""

    key = "duckdb"
    label = "DuckDB in-process (floor)"

    def __init__(self, parquet: Path, copy: Path | None = None) -> None:
        import duckdb  # only in the benchmark's environment

        self.connection = duckdb.connect()
        # A view cannot take a bound parameter; the paths are our own files, quoted as SQL text.
        quoted = str(parquet).replace("'", "''")
        # What the server reads: its serving copy of the release (storage/serving.py) when
        # there is one, else the Parquet file.
        if copy is not None:
            copied = str(copy).replace("'", "''")
            self.connection.execute(f"attach '{copied}' as serving (read_only)")
            self.connection.execute("create view contacts as select * from serving.release")
        else:
            self.connection.execute(
                f"create view contacts as select * from read_parquet('{quoted}')"
            )
        self.source = "its serving copy" if copy is not None else "its Parquet file"
        # Downloads stream the Parquet file, so the export's floor reads it too.
        self.parquet = f"read_parquet('{quoted}')"
        # The server leaves ORDER BY out of an unsorted page when the file is in _row_id
        # order (a scan stops after its rows); the floor does the same when it is.
        (misplaced,) = self.connection.execute(
            f"select count(*) from read_parquet('{quoted}', file_row_number = true) "
            f"where {ROW_ID} is distinct from file_row_number + 1"
        ).fetchone()
        self.in_order = misplaced == 0
        self.deep_row_id: int | None = None

    def _fetch(self, sql: str, params: list[Any]) -> int:
        return len(self.connection.execute(sql, params).fetchall())

    def _queries(self, scenario: str) -> Callable[[str], None]:
        noop = f"{FRESH_COLUMN} != ?"
        order = ("" if self.in_order else f"order by {ROW_ID} ") + f"limit {PAGE_SIZE}"
        where = " and ".join(f"{column} = ?" for column in FILTER)

        def filtered(fresh: str) -> None:
            params = [*FILTER.values(), fresh]
            self._fetch(f"select * from contacts where {where} and {noop} {order}", params)
            self._fetch(f"select count(*) from contacts where {where} and {noop}", params)

        def facets(fresh: str) -> None:
            for column in FACETS:
                self._fetch(
                    f"select {column}, count(*) as n from contacts where {noop} "
                    f"group by {column} order by n desc",
                    [fresh],
                )

        def group(fresh: str) -> None:
            columns = ", ".join(GROUP_BY)
            self._fetch(
                f"select {columns}, count(*) from contacts where {noop} "
                f"group by {columns} order by {columns}",
                [fresh],
            )

        def first(fresh: str) -> None:
            self._fetch(f"select * from contacts where {noop} {order}", [fresh])

        def deep(fresh: str) -> None:
            self._fetch(
                f"select * from contacts where {noop} and {ROW_ID} > ? {order}",
                [fresh, self.deep_row_id],
            )

        def csv(fresh: str) -> None:
            # COPY takes no bound parameters; the fresh value is our own "Z<number>".
            self.connection.execute(
                f"copy (select * from {self.parquet} where {FRESH_COLUMN} != '{fresh}') "
                "to '/dev/null' (format csv, header)"
            )

        return {
            "filter": filtered,
            "facets": facets,
            "group": group,
            "first": first,
            "deep": deep,
            "csv": csv,
        }[scenario]

    def prepare_deep(self, row: int) -> None:
        """The ``_row_id`` of the row before the deep page (looked up once, untimed)."""
        (self.deep_row_id,) = self.connection.execute(
            f"select {ROW_ID} from contacts order by {ROW_ID} limit 1 offset ?", [row - 1]
        ).fetchone()

    def time(self, scenario: str, warmup: int, reps: int) -> list[float]:
        """Seconds of each timed repetition (warm-ups excluded), a fresh predicate each."""
        query = self._queries(scenario)
        seconds: list[float] = []
        for rep in range(warmup + reps):
            fresh = fresh_value(FRESH())
            start = time.perf_counter()
            query(fresh)
            if rep >= warmup:
                seconds.append(time.perf_counter() - start)
        return seconds

    def median(self, scenario: str, warmup: int, reps: int) -> float:
        return statistics.median(self.time(scenario, warmup, reps))


def serving_copy(data_dir: Path) -> Path | None:
    """The largest serving copy under OpenBlotter's data directory (the release's)."""
    copies = sorted((data_dir / ".serving").glob("*.duckdb"), key=lambda p: p.stat().st_size)
    return copies[-1] if copies else None
