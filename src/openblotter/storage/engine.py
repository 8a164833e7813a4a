"""The query engine: a QuerySpec run by DuckDB over one release.

Queries read the release's serving copy, a DuckDB table of its rows
(:mod:`openblotter.storage.serving`), once it is attached, and its Parquet file
until then; downloads always stream the Parquet file.

The SQL comes from :mod:`openblotter.storage.sql` (checked, quoted names and
fixed keywords; every value bound); this module runs it. One DuckDB connection
serves the process; each call takes its own cursor, so threads can share the
engine. Release files never change once written, so small results are cached
by file (path, size, modification time) and query.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from openblotter.domain.errors import NotFound
from openblotter.domain.query.cursor import encode_cursor
from openblotter.domain.query.model import (
    FACET_VALUE_LIMIT,
    Aggregate,
    GroupKey,
    QuerySpec,
    expression_filters,
)
from openblotter.domain.query.parse import check_spec, group_key
from openblotter.domain.query.values import json_value
from openblotter.domain.releases import ROW_ID
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.storage.budget import Gate
from openblotter.storage.limits import Limits
from openblotter.storage.serving import ServingCopies
from openblotter.storage.sql import Statement, group_label, quote

T = TypeVar("T")

#: Most seconds a download waits for a free export slot (and at most the time limit) before a 503.
EXPORT_WAIT = 20.0
#: Facet columns counted by one query (each adds a hash table to the query's memory).
FACETS_PER_QUERY = 8
#: Memory of the single-threaded DuckDB that reads unsorted row pages (see QueryEngine).
PAGES_MEMORY_LIMIT = "256MB"
# DuckDB runs an IN list of 5+ constants as a hash join, which loses the file's row order.
_IN_LIST_JOIN = 5


@dataclass(frozen=True)
class ExportColumn:
    """A column of an export: its name, its SQL (a checked, quoted name), its schema field."""

    name: str
    sql: str
    field: SchemaField


#: Builds an export's SELECT list from its columns (SQL from fixed templates only).
SelectList = Callable[[list[ExportColumn]], str]


@dataclass(frozen=True)
class RowsPage:
    """A page of rows (JSON-ready values), the next page's token, the exact total if asked."""

    rows: list[dict[str, Any]]
    next: str | None
    total: int | None
    #: Each row's ``_row_id`` (its number in the release file, from 1), in page order.
    row_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class AggregateResult:
    """Groups with their aggregates; ``truncated`` when more groups exist than were returned."""

    groups: list[dict[str, Any]]
    total_groups: int
    truncated: bool


class _ResultCache:
    """A small LRU of query results keyed by file identity and query.

    Bounded by cells and by memory, whichever is reached first. A result is the rows DuckDB
    fetched, Python tuples of Python values: about 65 bytes a cell on the benchmark's rows,
    far more with free text. Its size is estimated from up to :data:`SIZE_SAMPLE` of its rows
    (every cell of every row would cost a tenth of a request), and no result takes more than
    a quarter of the cache."""

    def __init__(self, max_cells: int, max_bytes: int) -> None:
        self.max_cells = max_cells
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Any, tuple[Any, int, int]] = OrderedDict()
        self._cells = 0
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> tuple[int, int]:
        """The cells and the estimated bytes the cache holds."""
        return self._cells, self._bytes

    def get_or_compute(
        self, key: Any, cells: Callable[[Any], int], compute: Callable[[], Any]
    ) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        value = compute()
        if not (self.max_cells and self.max_bytes):
            return value
        count = cells(value)
        size = _estimated_bytes(value)
        if count <= self.max_cells // 4 and size <= self.max_bytes // 4:
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = (value, count, size)
                    self._cells += count
                    self._bytes += size
                while self._cells > self.max_cells or self._bytes > self.max_bytes:
                    _, (_, dropped, freed) = self._entries.popitem(last=False)
                    self._cells -= dropped
                    self._bytes -= freed
        return value


#: Rows of a result whose sizes are summed to estimate the whole result's (evenly spaced).
SIZE_SAMPLE = 8


def _estimated_bytes(rows: list[tuple[Any, ...]]) -> int:
    """The memory of fetched rows (the list, its tuples and their values), from a sample."""
    if not rows:
        return sys.getsizeof(rows)
    sample = rows[:: max(1, len(rows) // SIZE_SAMPLE)][:SIZE_SAMPLE]
    sampled = sum(map(sys.getsizeof, sample))
    sampled += sum(map(sys.getsizeof, chain.from_iterable(sample)))
    return sys.getsizeof(rows) + sampled * len(rows) // len(sample)


class QueryEngine:
    """Runs QuerySpecs over release Parquet files with one shared DuckDB connection."""

    def __init__(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        cache_cells: int = 2_000_000,
        cache_bytes: int = 32 * 2**20,
        timeout: float = 30.0,
        concurrency: int = 0,
        export_concurrency: int = 4,
        export_memory_limit: str | None = None,
        export_threads: int | None = None,
        serving_directory: Path | None = None,
    ) -> None:
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = temp_directory
        self._connection = duckdb.connect(config=config)
        # Unsorted row pages stop after a few rows; run by DuckDB's pool they scan a row group
        # per thread and burn twice the CPU. They run single-threaded in a second, small
        # DuckDB, each on its request's own thread, so concurrent pages use every core.
        self._pages = duckdb.connect(
            config={**config, "threads": 1, "memory_limit": PAGES_MEMORY_LIMIT}
        )
        cores = int(self._connection.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]
        self.limits = Limits(
            timeout=timeout,
            queries=Gate(concurrency or 2 * cores),
            exports=Gate(export_concurrency),
        )
        # Release files never change: keep their footers instead of re-reading them per query.
        for connection in (self._connection, self._pages):
            connection.execute("SET parquet_metadata_cache = true")
        # Downloads run in a DuckDB of their own with a small memory limit (a sort spills to
        # temp_directory), so a full export of any size fits the server's export budget.
        self._exports = _export_connection(export_memory_limit, export_threads, temp_directory)
        # Queries read a DuckDB copy of each release file once it is built (storage/serving.py);
        # downloads stream the Parquet (their own connection, its memory limit).
        self.serving = (
            ServingCopies(serving_directory, [self._connection, self._pages], temp_directory)
            if serving_directory is not None
            else None
        )
        self._cache = _ResultCache(cache_cells, cache_bytes)
        self._ordered: dict[tuple[str, int, int], bool] = {}
        self._types: dict[tuple[str, int, int], dict[str, str]] = {}

    def close(self) -> None:
        """Close the DuckDB connections."""
        if self.serving is not None:
            self.serving.close()
        self._pages.close()
        self._connection.close()
        if self._exports is not None:
            self._exports.close()

    # --- queries ---------------------------------------------------------------------

    def rows(self, path: Path, schema: TableSchema, spec: QuerySpec) -> RowsPage:
        """A page of matching rows in ``spec.sort`` then ``_row_id`` order, after ``spec.after``."""
        statement = self._statement(path, schema, spec)
        fields = list(spec.fields or statement.fields)
        sort_names = [k.column for k in spec.sort]
        selected = fields + [n for n in sort_names if n not in fields]
        sql = (
            f"SELECT {', '.join(statement.column(n) for n in selected)}, {ROW_ID} "
            f"FROM {statement.source} {statement.where(spec, keyset=True)} "
            f"{self._order(path, statement, spec)} LIMIT {int(spec.size) + 1}{_offset(spec.offset)}"
        )
        run = self._fetch if spec.sort else self._fetch_page
        fetched = self._cached(path, sql, statement.params, run, len(selected) + 1)
        page = fetched[: spec.size]
        token = None
        if len(fetched) > spec.size:
            last = page[-1]
            values = [last[selected.index(n)] for n in sort_names]
            token = encode_cursor(spec.sort, values, last[-1])
        rows = _as_json(page, fields)
        total = self.count(path, schema, spec) if spec.count else None
        return RowsPage(rows, token, total, tuple(int(row[-1]) for row in page))

    def count(self, path: Path, schema: TableSchema, spec: QuerySpec) -> int:
        """The exact number of rows matching the filters and search (the cursor is ignored)."""
        statement = self._statement(path, schema, spec)
        sql = f"SELECT count(*) FROM {statement.source} {statement.where(spec)}"
        return int(self._cached(path, sql, statement.params, self._fetch, 1)[0][0])

    def facets(
        self, path: Path, schema: TableSchema, spec: QuerySpec, columns: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Value counts per facet under the filters, in one pass (GROUPING SETS).

        Returns ``{"facets": {name: {"values": [{"value", "count"}], "distinct",
        "truncated_values", "truncated"}}, "total": N}``; values by count, then value;
        nulls counted as ``None``; at most FACET_VALUE_LIMIT listed per facet.
        """
        check_spec(spec, schema)
        keys = (
            list(spec.facets)
            if columns is None
            else [group_key(schema, c, "_facet") for c in columns]
        )
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {"facets": {}, "total": self.count(path, schema, spec)}
        result: dict[str, Any] = {"facets": {}, "total": 0}
        # A few columns per query: GROUPING SETS keeps a hash table per column, and 30 at
        # once need more memory than a busy server gives one query (issue 17).
        for start in range(0, len(keys), FACETS_PER_QUERY):
            batch = keys[start : start + FACETS_PER_QUERY]
            part = self._facet_part(path, self._statement(path, schema, spec), spec, batch)
            result["facets"].update(part["facets"])
            result["total"] = part["total"]
        return result

    def _facet_part(
        self, path: Path, statement: Statement, spec: QuerySpec, keys: list[GroupKey]
    ) -> dict[str, Any]:
        names = [f"f{i}" for i in range(len(keys))]
        matched = ", ".join(
            f"{statement.group_expression(k)} AS {n}" for k, n in zip(keys, names, strict=True)
        )
        sets = ", ".join(f"({n})" for n in names)
        by_value = ", ".join(f"{n} ASC NULLS LAST" for n in names)
        labels = ", ".join(group_label(k, n) for k, n in zip(keys, names, strict=True))
        sql = (
            f"WITH matched AS (SELECT {matched} FROM {statement.source} {statement.where(spec)}), "
            f"grouped AS (SELECT GROUPING({', '.join(names)}) AS gid, {', '.join(names)}, "
            f"count(*) AS n FROM matched GROUP BY GROUPING SETS ({sets}, ())), "
            f"ranked AS (SELECT *, count(*) OVER (PARTITION BY gid) AS distinct_values, "
            f"row_number() OVER (PARTITION BY gid ORDER BY n DESC, {by_value}) AS position "
            f"FROM grouped) "
            f"SELECT gid, {labels}, n, distinct_values FROM ranked "
            f"WHERE position <= {statement.bind(FACET_VALUE_LIMIT)} ORDER BY gid, position"
        )
        fetched = self._cached(path, sql, statement.params, self._fetch, len(keys) + 3)
        return _facet_result(keys, fetched)

    def aggregate(self, path: Path, schema: TableSchema, spec: QuerySpec) -> AggregateResult:
        """``spec.group`` groups with ``spec.aggregates``, by ``spec.sort`` then the groups."""
        statement = self._statement(path, schema, spec)
        aggregates = list(spec.aggregates) or [Aggregate("count")]
        inner = [f"{statement.group_expression(k)} AS g{i}" for i, k in enumerate(spec.group)]
        inner += [f"{statement.aggregate_expression(a)} AS a{j}" for j, a in enumerate(aggregates)]
        group_by = (
            "GROUP BY " + ", ".join(f"g{i}" for i in range(len(spec.group))) if spec.group else ""
        )
        outer = [f"{group_label(k, f'g{i}')} AS {quote(k.name)}" for i, k in enumerate(spec.group)]
        outer += [f"a{j} AS {quote(a.name)}" for j, a in enumerate(aggregates)]
        positions = {k.name: f"g{i}" for i, k in enumerate(spec.group)}
        positions.update({a.name: f"a{j}" for j, a in enumerate(aggregates)})
        order = [
            f"{positions[k.column]} {'DESC' if k.descending else 'ASC'} NULLS LAST"
            for k in spec.sort
        ]
        order += [f"g{i} ASC NULLS LAST" for i in range(len(spec.group))]
        where = statement.where(spec)  # bound before the outer query's having
        having = self._having(statement, spec, aggregates)
        sql = (
            f"WITH grouped AS (SELECT {', '.join(inner)} FROM {statement.source} "
            f"{where} {group_by}) "
            f"SELECT {', '.join(outer)}, count(*) OVER () AS total_groups FROM grouped {having} "
            f"{'ORDER BY ' + ', '.join(order) if order else ''} LIMIT {int(spec.group_limit)}"
            f"{_offset(spec.offset)}"
        )
        fetched = self._cached(path, sql, statement.params, self._fetch, len(outer) + 1)
        names = [k.name for k in spec.group] + [a.name for a in aggregates]
        groups = _as_json(fetched, names)
        total = int(fetched[0][-1]) if fetched else 0
        return AggregateResult(groups, total, total > spec.offset + len(groups))

    @staticmethod
    def _having(statement: Statement, spec: QuerySpec, aggregates: list[Aggregate]) -> str:
        """WHERE over the grouped outputs, each named by its output name."""
        if spec.having is None:
            return ""
        outputs = {k.name: group_label(k, f"g{i}") for i, k in enumerate(spec.group)}
        outputs.update({a.name: f"a{j}" for j, a in enumerate(aggregates)})
        return "WHERE " + statement.expression(spec.having, lambda item: outputs[item.column])

    # --- exports ---------------------------------------------------------------------

    def batches(
        self,
        path: Path,
        schema: TableSchema,
        spec: QuerySpec,
        *,
        select: SelectList | None = None,
        batch_rows: int = 16_384,
        download: bool = True,
        with_row_id: bool = False,
    ) -> Iterator[pa.RecordBatch]:
        """Every matching row (no cap) as Arrow record batches, streamed with constant memory.

        ``spec.fields``, ``spec.sort``, ``spec.offset`` and ``spec.limit`` apply; ``_size``
        and ``_next`` do not.
        ``select`` turns the checked, quoted columns into the SELECT list (exports use it
        to render cells as text); by default the columns as stored. Without a sort, rows
        come in file (``_row_id``) order without sorting. Checks run now; rows are read
        as the iterator is consumed. A ``download`` takes an export slot (waiting up to
        EXPORT_WAIT seconds, then Busy); otherwise (an analysis reading its table) a query slot.
        ``with_row_id`` adds the ``_row_id`` column last (a door's stable row identity).
        """
        own_connection = download and self._exports is not None
        statement = self._statement(path, schema, spec, serving=not own_connection)
        columns = [
            ExportColumn(name, statement.column(name), statement.fields[name])
            for name in spec.fields or statement.fields
        ]
        listed = (select or _as_stored)(columns) + (f", {ROW_ID}" if with_row_id else "")
        order = self._order(path, statement, spec)
        sql = f"SELECT {listed} FROM {statement.source} {statement.where(spec)} {order}"
        window = (spec.offset, spec.limit)
        return self._stream(sql, statement.params, batch_rows, download, window)

    def _stream(
        self,
        sql: str,
        params: list[Any],
        batch_rows: int,
        download: bool,
        window: tuple[int, int | None] = (0, None),
    ) -> Iterator[pa.RecordBatch]:
        """Batches pulled one at a time, each under the time limit.

        The query and its first batch (where a sort does its work) run in a query slot,
        again alone when memory ran out; a download holds an export slot throughout.
        When memory runs out after rows were sent (other queries took it), the query runs
        again alone from the next row: its order is total (``_row_id`` last, or file order),
        so ``OFFSET`` continues exactly where the stream stopped.
        """
        limits = self.limits
        slot = limits.exports.slot(wait=min(limits.timeout, EXPORT_WAIT)) if download else None
        if slot is not None:
            slot.__enter__()
        cursor: Any = None

        connection = self._exports if download and self._exports is not None else self._connection
        first, most = window

        def start(offset: int) -> tuple[Any, pa.RecordBatchReader, pa.RecordBatch | None]:
            opened = connection.cursor()
            query = sql if most is None else f"{sql} LIMIT {int(most - offset)}"
            query += _offset(first + offset)
            try:
                reader = limits.run(
                    opened, lambda: opened.sql(query, params=params).to_arrow_reader(batch_rows)
                )
                return opened, reader, limits.run(opened, lambda: _next_batch(reader))
            except BaseException:
                opened.close()
                raise

        own = connection is self._exports

        def alone(offset: int) -> tuple[Any, pa.RecordBatchReader, pa.RecordBatch | None]:
            """Again with the memory to itself: on the download connection, once no other
            download runs (this one's slot given back, then taken alone); else alone among
            the queries."""
            nonlocal slot
            if not own:
                return limits.again_alone(partial(start, offset))
            if slot is not None:
                slot.__exit__(None, None, None)
                slot = None
            slot = limits.exports.alone(wait=limits.timeout)
            slot.__enter__()
            return start(offset)

        sent = 0
        resumed = False
        try:
            if own:
                try:
                    cursor, reader, batch = start(0)
                except duckdb.OutOfMemoryException:
                    resumed = True
                    cursor, reader, batch = alone(0)
            else:
                cursor, reader, batch = limits.fetch(lambda: start(0))
            while batch is not None:
                yield batch
                sent += batch.num_rows
                try:
                    batch = limits.run(cursor, partial(_next_batch, reader))
                except duckdb.OutOfMemoryException:
                    if resumed:
                        raise
                    resumed = True
                    cursor.close()
                    cursor = None
                    cursor, reader, batch = alone(sent)
        except duckdb.OutOfMemoryException as error:
            raise limits.stream_failed(download) from error
        finally:
            if cursor is not None:
                cursor.close()
            if slot is not None:
                slot.__exit__(None, None, None)

    def with_cursor(self, work: Callable[[Any], T]) -> T:
        """``work(cursor)`` on a cursor of the shared connection (its memory limit and spill
        directory), in a query slot (again alone when memory ran out), under the time limit
        and the request's cancellation: for work of several statements, such as a diff."""

        def run() -> T:
            cursor = self._connection.cursor()
            try:
                return self.limits.run(cursor, lambda: work(cursor))
            finally:
                cursor.close()

        return self.limits.fetch(run)

    # --- helpers ---------------------------------------------------------------------

    def _statement(
        self, path: Path, schema: TableSchema, spec: QuerySpec, *, serving: bool = True
    ) -> Statement:
        """The statement of ``spec`` over the file, or over its serving copy when attached
        (``serving``: the query runs on a connection the copies are attached to)."""
        check_spec(spec, schema)
        stored = self._stored_types(path)
        table = None
        if serving and self.serving is not None:
            table = self.serving.table(Path(path), _identity(path))
        return Statement(Path(path), schema, stored, table=table)

    def prepare(self, paths: Sequence[Path]) -> None:
        """Build (in the background) the serving copies of these release files; a file
        missing from the data directory is left out (its queries say so when asked)."""
        if self.serving is None:
            return
        present = []
        for path in paths:
            try:
                present.append((Path(path), _identity(path)))
            except NotFound:
                continue
        self.serving.prepare(present)

    def _stored_types(self, path: Path) -> dict[str, str]:
        """The file's DuckDB column types (checked once per file)."""
        identity = _identity(path)
        if identity not in self._types:
            described = self._fetch("DESCRIBE SELECT * FROM read_parquet($1)", [str(path)])
            self._types[identity] = {str(row[0]): str(row[1]) for row in described}
        return self._types[identity]

    def _fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Rows of a query, run in a slot of the gate (alone when it ran out of memory)."""
        return self.limits.fetch(partial(self._run, self._connection, sql, params))

    def _fetch_page(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """An unsorted page, single-threaded in the pages DuckDB; by the main one when it does
        not fit in that one's memory."""
        with self.limits.queries.slot(wait=self.limits.timeout):
            try:
                return self._run(self._pages, sql, params)
            except duckdb.OutOfMemoryException:
                pass
        return self._fetch(sql, params)

    def _run(
        self, connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any]
    ) -> list[tuple[Any, ...]]:
        """One query on its own cursor, under the time limit and the request's cancellation."""
        cursor = connection.cursor()
        try:
            return self.limits.run(cursor, lambda: cursor.execute(sql, params).fetchall())
        finally:
            cursor.close()

    def _cached(
        self,
        path: Path,
        sql: str,
        params: list[Any],
        run: Callable[[str, list[Any]], list[tuple[Any, ...]]],
        width: int,
    ) -> list[tuple[Any, ...]]:
        key = (_identity(path), sql, tuple(params))
        result: list[tuple[Any, ...]] = self._cache.get_or_compute(
            key, lambda rows: len(rows) * width, lambda: run(sql, params)
        )
        return result

    def _order(self, path: Path, statement: Statement, spec: QuerySpec) -> str:
        """ORDER BY, left out for file order: DuckDB keeps a scan's order and stops early.

        Not when a filter lists 5+ values: DuckDB runs those as a join, which may reorder.
        """
        listed = (*spec.filters, *expression_filters(spec.where))
        long_lists = any(len(f.values) >= _IN_LIST_JOIN for f in listed if f.part is None)
        if not spec.sort and not long_lists and self._in_row_id_order(path):
            return ""
        return statement.order_by(spec)

    def _in_row_id_order(self, path: Path) -> bool:
        """Whether the file's rows are stored in ``_row_id`` order (checked once per file)."""
        identity = _identity(path)
        if identity not in self._ordered:
            sql = (
                "SELECT count(*) FROM read_parquet($1, file_row_number = true) "
                f"WHERE {ROW_ID} IS DISTINCT FROM file_row_number + 1"
            )
            self._ordered[identity] = self._fetch(sql, [str(path)])[0][0] == 0
        return self._ordered[identity]


def _offset(rows: int) -> str:
    """An OFFSET clause (an integer the model checked, never text from a request)."""
    return f" OFFSET {int(rows)}" if rows else ""


def _next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    """The reader's next batch; DuckDB's errors while streaming come back as DuckDB's.

    Arrow re-raises an error of the producing query as its own exception carrying
    DuckDB's message (an ``OSError``, or another Arrow error by the error code), and
    an allocation that fails in Arrow is a ``MemoryError``; out of memory and
    interruption must reach :class:`Limits` as such (a retry alone, a 503, a 504).
    """
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except (OSError, MemoryError, pa.ArrowException) as error:
        message = str(error)
        if "INTERRUPT Error" in message:
            raise duckdb.InterruptException(message) from error
        if "Out of Memory Error" in message or isinstance(error, MemoryError):
            raise duckdb.OutOfMemoryException(message) from error
        raise


def _identity(path: Path) -> tuple[str, int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise missing_release_file() from None
    return str(path), stat.st_size, stat.st_mtime_ns


def missing_release_file() -> NotFound:
    """What a query of a release whose file is gone from the data directory is told."""
    return NotFound(
        "The release file is missing from the data directory; ask the portal's operator.",
        detail={"parameter": "_release", "allowed": "a published release"},
    )


def _as_json(fetched: list[tuple[Any, ...]], names: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-ready values (dates and times as ISO strings)."""
    if not fetched:
        return []
    # A DuckDB column holds one type: a column whose first value is a date or time holds
    # only those (or nulls), so each of its cells is formatted without asking again.
    temporal = [i for i in range(len(names)) if isinstance(_first(fetched, i), date | time)]
    if not temporal:
        return [dict(zip(names, row, strict=False)) for row in fetched]
    # Column by column: one pass per date or time column, not a copy of every row.
    columns: list[Any] = list(zip(*fetched, strict=True))
    for i in temporal:
        columns[i] = [None if value is None else value.isoformat() for value in columns[i]]
    return [dict(zip(names, row, strict=False)) for row in zip(*columns, strict=True)]


def _first(fetched: list[tuple[Any, ...]], index: int) -> Any:
    return next((row[index] for row in fetched if row[index] is not None), None)


def _facet_result(keys: list[GroupKey], fetched: list[tuple[Any, ...]]) -> dict[str, Any]:
    width = len(keys)
    everything = (1 << width) - 1
    facets: dict[str, Any] = {}
    total = 0
    for i, key in enumerate(keys):
        gid = everything ^ (1 << (width - 1 - i))
        rows = [row for row in fetched if row[0] == gid]
        distinct = int(rows[0][-1]) if rows else 0
        facets[key.name] = {
            "values": [{"value": json_value(row[1 + i]), "count": int(row[-2])} for row in rows],
            "distinct": distinct,
            "truncated_values": distinct - len(rows),
            "truncated": distinct > len(rows),
        }
    for row in fetched:
        if row[0] == everything:
            total = int(row[-2])
    return {"facets": facets, "total": total}


def _as_stored(columns: list[ExportColumn]) -> str:
    return ", ".join(f"{c.sql} AS {quote(c.name)}" for c in columns)


def _export_connection(
    memory_limit: str | None, threads: int | None, temp_directory: str | None
) -> duckdb.DuckDBPyConnection | None:
    """The DuckDB that streams downloads, or None to stream them from the query connection."""
    if not memory_limit:
        return None
    config: dict[str, Any] = {"memory_limit": memory_limit}
    if threads:
        config["threads"] = threads
    if temp_directory:
        config["temp_directory"] = temp_directory
    connection = duckdb.connect(config=config)
    connection.execute("SET parquet_metadata_cache = true")
    return connection
