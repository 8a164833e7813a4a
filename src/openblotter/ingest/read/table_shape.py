"""Where a table starts and what its columns are called, for CSV and XLSX alike.

- The header is the first row that names several columns; rows above it
  (report titles, blank rows) are skipped and reported.
- Header names are trimmed; blank names become ``column_N``; repeated names
  (compared ignoring case, as SQL engines do) get ``_2``, ``_3``.
- A second header row right under the header (source-system field names, as
  in Dallas's export) is recognised when every cell is a short field-name-like
  token and, in the columns whose values are numbers or dates, it holds none.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from openblotter.domain.report import EXAMPLES_PER_CODE, Problem

ROW_COLUMN = "__row"
#: How many rows from the top are searched for the header.
HEADER_SEARCH_ROWS = 30
#: How many data rows under a candidate second header are compared with it.
SECOND_HEADER_SAMPLE = 500

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]{0,63}")
_NUMBER = re.compile(r"[-+]?[$]?(\d[\d,]*)?\.?\d+%?")
_DATE_OR_TIME = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T].*)?"  # 9/3/16, 2016-09-03 04:14
    r"|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?"  # 4:14:00 AM, 21:08:00.0000000
)


@dataclass
class ProblemLog:
    """Problems found while reading: an exact count per code and the first examples."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.counts[problem.code] += 1
        if self.counts[problem.code] <= EXAMPLES_PER_CODE:
            self.examples.append(problem)

    def add_counted(self, code: str, count: int, examples: Sequence[Problem]) -> None:
        """Record ``count`` occurrences found in bulk; keep the first examples."""
        if count <= 0:
            return
        room = EXAMPLES_PER_CODE - self.counts[code]
        self.counts[code] += count
        self.examples.extend(list(examples)[: max(room, 0)])


def non_blank(cells: Sequence[str | None]) -> int:
    """How many cells hold something other than whitespace."""
    return sum(1 for cell in cells if cell is not None and cell.strip())


def find_header(rows: Sequence[Sequence[str | None]]) -> int | None:
    """The 0-based index of the header among the top rows, or None if all are blank.

    The header is the first row naming at least two columns and at least half
    as many as the widest of the top rows; a table of one column has its
    header on the first non-blank row.
    """
    widths = [non_blank(row) for row in rows[:HEADER_SEARCH_ROWS]]
    if not widths or max(widths) == 0:
        return None
    widest = max(widths)
    needed = 1 if widest == 1 else max(2, math.ceil(widest / 2))
    return next(index for index, width in enumerate(widths) if width >= needed)


def report_title_rows(
    above: Sequence[Sequence[str | None]], header_row: int, log: ProblemLog
) -> None:
    """Report the rows ``above`` the header (on 1-based ``header_row``) as skipped titles.

    Blank rows alone above the header are not worth a problem.
    """
    titles = [" ".join(c.strip() for c in row if c and c.strip()) for row in above]
    shown = "; ".join(repr(t) for t in titles if t)
    if not shown:  # only blank rows above: nothing was skipped
        return
    log.add(
        Problem(
            code="title_rows_skipped",
            severity="info",
            row=header_row,
            message=(
                f"{_rows_above(header_row)} above the header (row {header_row}) "
                f"{'was' if header_row == 2 else 'were'} skipped as titles: {shorten(shown, 200)}."
            ),
        )
    )


def _rows_above(header_row: int) -> str:
    return "Row 1" if header_row == 2 else f"Rows 1-{header_row - 1}"


def clean_header(raw: Sequence[str | None], log: ProblemLog, header_row: int) -> list[str]:
    """Column names: trimmed, BOM and line breaks removed, blanks named, repeats numbered."""
    names: list[str] = []
    taken = {ROW_COLUMN}
    for position, value in enumerate(raw, start=1):
        name = _LINE_BREAKS.sub(" ", (value or "").replace("\ufeff", "")).strip()
        if not name:
            name = _unique(f"column_{position}", taken)
            _renamed(log, header_row, name, f"Column {position} has no name; it is named {name!r}.")
        elif name.casefold() in taken:
            new = _unique(name, taken)
            _renamed(
                log,
                header_row,
                new,
                f"Column {position} repeats the name {name!r} (names are compared ignoring "
                f"case); it is named {new!r}.",
            )
            name = new
        taken.add(name.casefold())
        names.append(name)
    return names


def _unique(name: str, taken: set[str]) -> str:
    if name.casefold() not in taken:
        return name
    suffix = 2
    while f"{name}_{suffix}".casefold() in taken:
        suffix += 1
    return f"{name}_{suffix}"


def _renamed(log: ProblemLog, row: int, column: str, message: str) -> None:
    log.add(
        Problem(code="header_renamed", severity="warning", row=row, column=column, message=message)
    )


def _typed(value: str) -> bool:
    text = value.strip()
    return bool(_NUMBER.fullmatch(text) or _DATE_OR_TIME.fullmatch(text))


def is_second_header(candidate: Sequence[str | None], below: pl.DataFrame) -> bool:
    """Whether ``candidate`` (the row under the header) names fields rather than holding data.

    ``below`` holds the next rows, same columns, as strings. The candidate must
    fill most cells with distinct field-name-like tokens that never occur in
    their column below, and hold such a token (never a number or date) in at
    least half of the typed columns: those whose filled cells below are 95%
    numbers, dates or times. Without a typed column it never fires.
    """
    cells = [c.strip() if c is not None else "" for c in candidate]
    filled = [c for c in cells if c]
    if len(filled) < 2 or len(filled) * 2 < len(cells):
        return False
    if len(set(filled)) != len(filled) or not all(_FIELD_NAME.fullmatch(c) for c in filled):
        return False
    typed_columns = named_typed = 0
    for cell, column in zip(cells, below.columns, strict=False):
        values = [v.strip() for v in below[column].drop_nulls().to_list() if v.strip()]
        if cell and cell in values:
            return False
        if len(values) < 5 or sum(_typed(v) for v in values) < 0.95 * len(values):
            continue
        typed_columns += 1
        if cell and _typed(cell):
            return False
        named_typed += bool(cell)
    return typed_columns > 0 and named_typed * 2 >= typed_columns


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def row_list(rows: Sequence[int], limit: int = 10) -> str:
    """Row numbers for a message: ``5, 9, 12`` or ``5, 9, 12 and 40 more``."""
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown if len(rows) <= limit else f"{shown} and {len(rows) - limit} more"


def finish_frame(
    frame: pl.DataFrame, names: list[str], header_row: int, log: ProblemLog
) -> tuple[pl.DataFrame, list[str] | None]:
    """Drop blank rows (reported), lift out a second header, give the columns their names.

    ``frame`` holds the data rows under the header: source columns in order,
    then ``__row``. Returns the named frame and the second header, if any.
    """
    source = frame.columns[: len(names)]
    frame = drop_blank_rows(frame, source, log)
    second: list[str] | None = None
    if frame.height > 1:
        first = frame.row(0)[: len(names)]
        if is_second_header(first, frame.slice(1, SECOND_HEADER_SAMPLE).select(source)):
            second = [c if c is not None else "" for c in first]
            row = frame[ROW_COLUMN][0]
            frame = frame.slice(1)
            log.add(
                Problem(
                    code="second_header_row",
                    severity="info",
                    row=row,
                    message=(
                        f"Row {row} repeats the header with other field names "
                        f"({shorten(', '.join(c for c in second if c), 120)}); "
                        "it is kept as the source field names, not as data."
                    ),
                )
            )
    frame = frame.rename(dict(zip(source, names, strict=True)))
    return frame.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64)), second


def drop_blank_rows(frame: pl.DataFrame, source: list[str], log: ProblemLog) -> pl.DataFrame:
    if not source:
        return frame
    blank = pl.all_horizontal(pl.col(c).is_null() for c in source)
    rows = frame.filter(blank)[ROW_COLUMN]
    if rows.len() == 0:
        return frame
    numbers = rows.head(EXAMPLES_PER_CODE).to_list()
    log.add_counted(
        "blank_rows_skipped",
        rows.len(),
        [
            Problem(
                code="blank_rows_skipped",
                severity="info",
                row=number,
                message=f"Row {number} is blank and was skipped.",
            )
            for number in numbers
        ],
    )
    return frame.filter(~blank)
