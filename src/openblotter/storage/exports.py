"""Streamed downloads of a query's rows: CSV, JSON lines, Parquet and XLSX.

Every matching row is written, with no cap, from Arrow record batches that
DuckDB streams, so memory stays flat however large the release. Each function
checks the query when called (errors surface before a response starts) and
returns an iterator of bytes to send as the body.

CSV cells that a spreadsheet would run as a formula (text starting with
``= + - @``, tab or carriage return) get a leading single quote; XLSX cells are
written as text, never as formulas.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from openblotter.domain.errors import TooLarge
from openblotter.domain.formats import EXPORT_FORMATS, XLSX_MAX_ROWS
from openblotter.domain.query.model import TEXT_TYPES, QuerySpec
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.storage.engine import ExportColumn, QueryEngine
from openblotter.storage.sql import quote
from openblotter.storage.xlsx_stream import PIECE_BYTES, DrainingFile, xlsx_bytes

#: A piece of a download's body: bytes, or a view of Arrow's memory (not copied).
Chunk = bytes | memoryview

BATCH_ROWS = 16_384
#: An XLSX batch's XML is some 20 times its Arrow size: smaller batches keep memory flat.
XLSX_BATCH_ROWS = 4_096


def started(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """The same bytes, with the first chunk already made (so its errors surface now)."""
    first = next(chunks, None)
    return chunks if first is None else itertools.chain([first], chunks)


def stream_csv(
    engine: QueryEngine, path: Path, schema: TableSchema, spec: QuerySpec
) -> Iterator[bytes]:
    """CSV with a header row, UTF-8; dates and times as ISO text; formulas made inert."""
    batches = engine.batches(path, schema, spec, select=_csv_cells, batch_rows=BATCH_ROWS)
    return _csv_bytes(batches, _header(schema, spec))


def _csv_bytes(batches: Iterator[pa.RecordBatch], header: list[str]) -> Iterator[bytes]:
    sink = DrainingFile()
    writer: pa_csv.CSVWriter | None = None
    for batch in batches:
        if writer is None:
            # The header is ours: column names (a --schema file names them) made inert too.
            yield _csv_line(batch.schema.names)
            no_header = pa_csv.WriteOptions(include_header=False)
            writer = pa_csv.CSVWriter(sink, batch.schema, write_options=no_header)
        writer.write_batch(batch)
        yield from sink.drain()
    if writer is None:  # nothing matched: still a header
        yield _csv_line(header)
    else:
        writer.close()
        yield from sink.drain()


def _csv_line(names: list[str]) -> bytes:
    inert = ["'" + name if name[:1] in _FORMULA_STARTS else name for name in names]
    quoted = ['"' + name.replace('"', '""') + '"' for name in inert]
    return (",".join(quoted) + "\n").encode()


def stream_ndjson(
    engine: QueryEngine, path: Path, schema: TableSchema, spec: QuerySpec
) -> Iterator[Chunk]:
    """One JSON object per line; dates and times as ISO strings, NaN as null."""
    batches = engine.batches(path, schema, spec, select=_json_lines, batch_rows=BATCH_ROWS)
    return _ndjson_bytes(batches)


def _ndjson_bytes(batches: Iterator[pa.RecordBatch]) -> Iterator[Chunk]:
    for batch in batches:
        if batch.num_rows:
            yield from _line_pieces(batch.column(0))


def _line_pieces(lines: pa.Array) -> Iterator[Chunk]:
    """The lines' bytes back to back (each already ends in a newline), in pieces of whole
    lines of about PIECE_BYTES: views of Arrow's buffer, not copies, and no Python loop."""
    if not (pa.types.is_string(lines.type) and lines.null_count == 0):
        yield "".join(line or "" for line in lines.to_pylist()).encode()
        return
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    first, last = int(bounds[0]), int(bounds[-1])
    # The first line end at or past each multiple of PIECE_BYTES: no line is cut in two.
    targets = np.arange(first + PIECE_BYTES, last, PIECE_BYTES)
    cuts = [first, *np.unique(bounds[np.searchsorted(bounds, targets)]).tolist(), last]
    view = memoryview(data)
    for start, end in itertools.pairwise(cuts):
        if end > start:
            yield view[start:end]


def stream_parquet(
    engine: QueryEngine, path: Path, schema: TableSchema, spec: QuerySpec
) -> Iterator[bytes]:
    """A Parquet file of the matching rows (zstd), one row group per batch."""
    batches = engine.batches(path, schema, spec, batch_rows=BATCH_ROWS)
    return _parquet_bytes(batches)


def _parquet_bytes(batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    sink = DrainingFile()
    writer: pq.ParquetWriter | None = None
    for batch in batches:
        if writer is None:
            writer = pq.ParquetWriter(sink, batch.schema, compression="zstd")
        writer.write_batch(batch)
        yield from sink.drain()
    if writer is not None:
        writer.close()
        yield from sink.drain()


def write_xlsx(
    engine: QueryEngine, path: Path, schema: TableSchema, spec: QuerySpec
) -> Iterator[bytes]:
    """An XLSX workbook (one sheet, header row), streamed as it is made (no temporary file).

    Raises TooLarge before writing anything when more rows match than a sheet holds.
    """
    matched = engine.count(path, schema, spec)
    if matched > XLSX_MAX_ROWS:
        raise TooLarge(
            f"{matched:,} rows match, more than an Excel sheet holds ({XLSX_MAX_ROWS + 1:,} rows "
            f"with the header row, so {XLSX_MAX_ROWS:,} rows of data); nothing was cut. "
            "Download CSV, JSON lines or Parquet, or filter to fewer rows.",
            detail={
                "parameter": "format",
                "allowed": [f.name for f in EXPORT_FORMATS if f.holds(matched)],
                "rows": matched,
                "sheet_rows": XLSX_MAX_ROWS + 1,
            },
        )
    batches = engine.batches(path, schema, spec, batch_rows=XLSX_BATCH_ROWS)
    return xlsx_bytes(batches, _header(schema, spec))


def _header(schema: TableSchema, spec: QuerySpec) -> list[str]:
    return list(spec.fields or [f.name for f in schema.published_fields()])


# --- cells as text, rendered by DuckDB in parallel ------------------------------------------

# A spreadsheet runs a cell starting with = + - @ tab or CR as a formula (OWASP CSV
# injection). The test is an OR chain on ascii() (the first code point), not an IN list:
# DuckDB runs IN lists of 5+ constants as a join, which loses the file's row order.
_FORMULA_STARTS = "=+-@\t\r"
_FORMULA_CODES = [ord(c) for c in _FORMULA_STARTS]


def _csv_cells(columns: list[ExportColumn]) -> str:
    """Text made inert for spreadsheets; dates and times as ``str()`` writes them."""
    cells = []
    for column in columns:
        cell = _temporal_text(column.sql, column.field, " ")
        if column.field.type in TEXT_TYPES:
            # Every formula character sorts before 'A': DuckDB drops the test from the plan
            # when the file's statistics show a column has no value below 'A'.
            codes = " OR ".join(f"ascii({column.sql}) = {code}" for code in _FORMULA_CODES)
            starts = f"{column.sql} < 'A' AND ({codes})"
            cell = f"CASE WHEN {starts} THEN '''' || {column.sql} ELSE {column.sql} END"
        cells.append(f"{cell} AS {quote(column.name)}")
    return ", ".join(cells)


def _json_lines(columns: list[ExportColumn]) -> str:
    """One JSON object per row, ending in a newline; NaN and infinity as null."""
    members = []
    for column in columns:
        value = _temporal_text(column.sql, column.field, "T")
        if column.field.type == "number":
            value = f"CASE WHEN isfinite({column.sql}::DOUBLE) THEN {column.sql} END"
        members.append(f"{_sql_string(column.name)}: {value}")
    return f"to_json({{{', '.join(members)}}}) || chr(10) AS line"


def _temporal_text(sql: str, field: SchemaField, separator: str) -> str:
    """Dates and times as Python writes them (``isoformat``): microseconds only when not zero."""
    if field.type == "date":
        return f"CAST({sql} AS VARCHAR)"
    if field.type == "datetime":
        whole = f"CAST({sql} AS VARCHAR)"  # 2024-05-01 13:45:00
        if separator != " ":
            whole = f"replace({whole}, ' ', '{separator}')"
        exact = f"strftime({sql}, '%Y-%m-%d{separator}%H:%M:%S.%f')"
    elif field.type == "time":
        whole = f"CAST({sql} AS VARCHAR)"
        exact = f"strftime(DATE '2000-01-01' + {sql}, '%H:%M:%S.%f')"
    else:
        return sql
    # DuckDB's own text drops trailing zeros of a fraction (.00025); Python writes six digits.
    return f"CASE WHEN microsecond({sql}) % 1000000 = 0 THEN {whole} ELSE {exact} END"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


Writer = Callable[[QueryEngine, Path, TableSchema, QuerySpec], Iterator[Chunk]]
#: The writer of each format of ``domain.formats.EXPORT_FORMATS``, by name (a test checks
#: every format has one).
EXPORTS: dict[str, Writer] = {
    "csv": stream_csv,
    "ndjson": stream_ndjson,
    "parquet": stream_parquet,
    "xlsx": write_xlsx,
}
