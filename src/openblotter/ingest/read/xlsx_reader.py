"""Excel workbooks (.xlsx) into a table of strings, through calamine.

Cells are rendered the way a person reads them in Excel and the way the same
table exported as CSV would read: dates as ISO ``2017-01-01`` (with
``T13:45:00`` when the cell has a time of day), whole numbers without ``.0``,
other numbers to Excel's 15 significant digits, booleans as ``TRUE``/``FALSE``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import python_calamine as calamine

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.read.table_shape import (
    HEADER_SEARCH_ROWS,
    ROW_COLUMN,
    ProblemLog,
    clean_header,
    find_header,
    finish_frame,
    report_title_rows,
)
from openblotter.ingest.read.xlsx_guard import XlsxLimits, check_workbook

Cell = str | float | int | bool | dt.datetime | dt.date | dt.time | dt.timedelta
#: Rows rendered into one chunk of the table (and between progress reports).
BATCH_ROWS = 50_000


@dataclass
class XlsxTable:
    """One sheet read into strings."""

    frame: pl.DataFrame
    sheet: str
    header_row: int
    second_header: list[str] | None
    log: ProblemLog


def render(value: Cell) -> str | None:
    """A cell as text, or None when it is empty."""
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration(value)
    return str(value)


def _number(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    # Excel keeps 15 significant digits; more would show binary noise (0.30000000000000004).
    return format(Decimal(format(value, ".15g")).normalize(), "f")


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def read_xlsx_file(
    path: Path,
    sheet: str | None,
    progress: Callable[[float], None],
    limits: XlsxLimits | None = None,
) -> XlsxTable:
    """Read one sheet (by default the first with any value) into strings (see module doc).

    ``progress`` gets the share of the sheet's rows rendered so far (0 to 1). The
    workbook is checked against ``limits`` first (:mod:`xlsx_guard`): a bomb is
    refused before calamine allocates anything.
    """
    check_workbook(path, limits or XlsxLimits())
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
        return _read_sheet(_pick_sheet(workbook, sheet, path.name), path.name, progress)
    except calamine.CalamineError as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as an Excel workbook ({exc}). Open it in Excel, "
            "save it as .xlsx again (without a password), and upload the new file.",
            detail={"file": path.name},
        ) from exc


def _read_sheet(
    sheet: calamine.CalamineSheet, file: str, progress: Callable[[float], None]
) -> XlsxTable:
    rows = sheet.iter_rows()
    # Calamine starts at the sheet's first row even when the used range starts lower.
    top = [[render(cell) for cell in cells] for cells in itertools.islice(rows, HEADER_SEARCH_ROWS)]
    header_index = find_header(top)
    if header_index is None:
        raise InvalidInput(
            f"{file}: sheet {sheet.name!r} has no header row (its first "
            f"{HEADER_SEARCH_ROWS} rows are blank).",
            detail={"file": file, "sheet": sheet.name},
        )
    log = ProblemLog()
    header_row = header_index + 1
    report_title_rows(top[:header_index], header_row, log)
    names = clean_header(top[header_index], log, header_row)
    frame = _frames(top[header_index + 1 :], rows, len(names), header_row + 1, sheet, progress)
    frame, second = finish_frame(frame, names, header_row, log)
    return XlsxTable(frame, sheet.name, header_row, second, log)


def _frames(
    first: list[list[str | None]],
    rest: Iterator[list[Cell]],
    width: int,
    first_row: int,
    sheet: calamine.CalamineSheet,
    progress: Callable[[float], None],
) -> pl.DataFrame:
    """The rows under the header, built into string columns a batch at a time."""
    expected = max(sheet.total_height or 0, 1)
    parts = [_frame(first, width, first_row)]
    next_row = first_row + len(first)
    while batch := list(itertools.islice(rest, BATCH_ROWS)):
        parts.append(_frame(batch, width, next_row))
        next_row += len(batch)
        progress(min((next_row - 1) / expected, 1.0))
    return pl.concat(parts, rechunk=False)


def _frame(rows: Sequence[Sequence[Cell | None]], width: int, first_row: int) -> pl.DataFrame:
    """Rows as string columns ``c0..``, plus their sheet row numbers.

    Every row is as wide as the sheet's used range and so is the header (a
    blank header name becomes ``column_N``), so no cell is left out.
    """
    columns = list(itertools.zip_longest(*rows))
    series = [
        pl.Series(
            f"c{i}",
            _render_column(columns[i]) if i < len(columns) else [None] * len(rows),
            dtype=pl.String,
        )
        for i in range(width)
    ]
    numbers = pl.int_range(first_row, first_row + len(rows), dtype=pl.Int64, eager=True)
    return pl.DataFrame([*series, numbers.alias(ROW_COLUMN)])


def _render_column(cells: Sequence[Cell | None]) -> list[str | None]:
    # Text and whole numbers are most cells; they skip the general render().
    return [
        (cell or None)
        if type(cell) is str
        else str(int(cell))
        if type(cell) is float and cell.is_integer() and abs(cell) < 1e15
        else None
        if cell is None
        else render(cell)
        for cell in cells
    ]


def _pick_sheet(
    workbook: calamine.CalamineWorkbook, sheet: str | None, file: str
) -> calamine.CalamineSheet:
    names: list[str] = list(workbook.sheet_names)
    if sheet is not None:
        folded = [n for n in names if n.casefold() == sheet.strip().casefold()]
        if sheet in names or len(folded) == 1:
            return workbook.get_sheet_by_name(sheet if sheet in names else folded[0])
        raise InvalidInput(
            f"{file} has no sheet named {sheet!r}. Its sheets are: "
            f"{', '.join(repr(n) for n in names)}. Pick one of them.",
            detail={"file": file, "sheet": sheet, "sheets": names},
        )
    for name in names:
        candidate = workbook.get_sheet_by_name(name)
        if candidate.height > 0:
            return candidate
    raise InvalidInput(
        f"{file} has no sheet with any value in it (sheets: {', '.join(repr(n) for n in names)}).",
        detail={"file": file, "sheets": names},
    )
