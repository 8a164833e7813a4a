"""Write an export table as CSV or as an Excel workbook, the same bytes on every run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

#: Workbooks carry a creation time; a fixed one keeps the demo's files byte-identical.
WORKBOOK_CREATED = dt.datetime(2026, 10, 1, 8, 0, 0)


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """UTF-8, comma-separated, a header row, blank for missing values."""
    frame.write_csv(path, null_value="", line_terminator="\r\n")
    return path


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> Path:
    """One sheet: a header row, then dates as Excel dates, numbers as numbers, text as text."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    workbook.set_properties(
        {
            "created": WORKBOOK_CREATED,
            "author": "OpenBlotter demo",
            "title": f"{sheet} (synthetic demo data)",
        }
    )
    sheet_ = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "m/d/yyyy"})
    for col, name in enumerate(frame.columns):
        sheet_.write_string(0, col, name)
    writers = []
    for dtype in frame.dtypes:
        if dtype == pl.Date:
            writers.append(lambda r, c, v: sheet_.write_datetime(r, c, v, date_format))
        elif dtype.is_numeric():
            writers.append(sheet_.write_number)
        else:
            writers.append(sheet_.write_string)
    for row_number, row in enumerate(frame.iter_rows(), start=1):
        for col, value in enumerate(row):
            if value is not None:
                writers[col](row_number, col, value)
    workbook.close()
    return path
