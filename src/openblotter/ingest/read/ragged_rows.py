"""Rows whose field count differs from the header: made header-wide, put back, reported.

- Short rows (a line cut off, like Rhode Island's last record) are padded
  with nulls.
- Long rows keep the header's number of fields; the extra values are named
  in the problem, so nothing disappears unreported.
- A delimiter at the end of every line (empty extra fields) loses nothing and
  is noted once.
- A quote that never closes swallows the rest of the file into one row; that
  is an error, with its row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import polars as pl

from openblotter.domain.report import EXAMPLES_PER_CODE, Problem
from openblotter.ingest.read.table_shape import ROW_COLUMN, ProblemLog, shorten


@dataclass
class BadRecord:
    """A record the parser set aside: its record number and its raw text."""

    number: int
    text: str


def fit_to_header(
    frame: pl.DataFrame,
    bad: list[BadRecord],
    names: list[str],
    header_row: int,
    delimiter: str,
    log: ProblemLog,
) -> pl.DataFrame:
    """Drop the header and title records, and make every row header-wide."""
    above = int(frame[ROW_COLUMN].search_sorted(header_row, side="right"))
    frame = frame.slice(above)
    frame = _fit_columns(frame, names, log)
    fixed = _recover(
        [b for b in bad if b.number > header_row], frame.columns, names, delimiter, log
    )
    return _insert_rows(frame, fixed) if fixed is not None else frame


def _fit_columns(frame: pl.DataFrame, names: list[str], log: ProblemLog) -> pl.DataFrame:
    width = len(names)
    source = [c for c in frame.columns if c != ROW_COLUMN]
    if len(source) > width:
        extra = source[width:]
        filled = frame.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in extra))
        examples = []
        for row in filled.head(EXAMPLES_PER_CODE).iter_rows(named=True):
            values = [row[c] for c in extra if row[c] is not None]
            fields = width + max(i for i, c in enumerate(extra) if row[c] is not None) + 1
            examples.append(_long_problem(row[ROW_COLUMN], fields, width, values))
        log.add_counted("long_row", filled.height, examples)
        first_row = frame[ROW_COLUMN].head(1).to_list()
        _trailing(log, frame.height - filled.height, len(extra), first_row[0] if first_row else 0)
        return frame.select([*source[:width], ROW_COLUMN])
    if len(source) < width and frame.height:
        missing = [f"c{i}" for i in range(len(source), width)]
        rows = frame[ROW_COLUMN].head(EXAMPLES_PER_CODE).to_list()
        log.add_counted(
            "short_row",
            frame.height,
            [_short_problem(r, len(source), names) for r in rows],
        )
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return frame.select([*[f"c{i}" for i in range(width)], ROW_COLUMN])


def _short_problem(row: int, fields: int, names: list[str]) -> Problem:
    missing = names[fields:]
    return Problem(
        code="short_row",
        severity="warning",
        row=row,
        column=missing[0],
        message=(
            f"Row {row} has {fields} of {len(names)} fields (the line may be cut short); "
            f"{shorten(', '.join(missing), 120)} {'is' if len(missing) == 1 else 'are'} left empty."
        ),
    )


def _long_problem(row: int, fields: int, width: int, values: list[str]) -> Problem:
    shown = shorten(" | ".join(values), 200)
    return Problem(
        code="long_row",
        severity="warning",
        row=row,
        value=shown,
        message=(
            f"Row {row} has {fields} fields but the header names {width}; the first {width} "
            f"are kept and the extra values are left out: {shown!r}. "
            "A delimiter inside an unquoted value usually causes this."
        ),
    )


def _trailing(log: ProblemLog, count: int, extra: int, first_row: int) -> None:
    if count <= 0:
        return
    log.add(
        Problem(
            code="trailing_empty_fields",
            severity="info",
            row=first_row,
            message=(
                f"{count} row(s) end with {extra} empty field(s) beyond the header "
                "(a delimiter at the end of the line); nothing was lost."
            ),
        )
    )


def _recover(
    bad: list[BadRecord], columns: list[str], names: list[str], delimiter: str, log: ProblemLog
) -> pl.DataFrame | None:
    """Parse the odd-width records again, pad or cut them to the header, and report them."""
    if not bad:
        return None
    width = len(names)
    rows: list[list[str | None]] = []
    trailing = 0
    for record in bad:
        fields = next(csv.reader(io.StringIO(record.text, newline=""), delimiter=delimiter), [])
        cells: list[str | None] = [f if f != "" else None for f in fields]
        extra = [f for f in fields[width:] if f != ""]
        if _unclosed_quote(record.text):
            log.add(_unclosed_problem(record.number, record.text))
        elif len(fields) < width:
            log.add(_short_problem(record.number, len(fields), names))
        elif extra:
            log.add(_long_problem(record.number, len(fields), width, extra))
        elif len(fields) > width:
            trailing += 1
        rows.append([*cells[:width], *[None] * (width - len(cells))])
    _trailing(log, trailing, 1, bad[0].number)
    data: dict[str, list[object]] = {c: [r[i] for r in rows] for i, c in enumerate(columns[:width])}
    data[ROW_COLUMN] = [b.number for b in bad]
    schema = {**dict.fromkeys(columns[:width], pl.String), ROW_COLUMN: pl.Int64}
    return pl.DataFrame(data, schema=schema)


def _unclosed_quote(text: str) -> bool:
    """A record that runs over several lines with an odd number of quotes never closed one."""
    return "\n" in text and text.count('"') % 2 == 1


def _unclosed_problem(row: int, text: str) -> Problem:
    lines = text.count("\n") + 1
    return Problem(
        code="unclosed_quote",
        severity="error",
        row=row,
        value=shorten(text, 120),
        message=(
            f"Row {row} opens a quoted value that never closes, so the {lines} lines from row "
            f"{row} to the end of the file were read as one row: {shorten(text, 80)!r}. "
            'Add the missing double quote (") and upload the file again.'
        ),
    )


def _insert_rows(frame: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Put recovered rows back where their row numbers say, without copying the table."""
    if rows.height > 1000:
        return pl.concat([frame, rows], rechunk=False).sort(ROW_COLUMN)
    positions = frame[ROW_COLUMN].search_sorted(rows[ROW_COLUMN]).to_list()
    pieces: list[pl.DataFrame] = []
    start = 0
    for index, position in enumerate(positions):
        pieces.append(frame.slice(start, position - start))
        pieces.append(rows.slice(index, 1))
        start = position
    pieces.append(frame.slice(start))
    return pl.concat(pieces, rechunk=False)
