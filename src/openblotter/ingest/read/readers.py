"""Read a department's export (CSV or XLSX) into a table of strings.

Nothing is typed, trimmed or dropped here: every source column comes back as
text exactly as the file holds it (empty cells as null), with the row number a
person would find the row at, and a list of what had to be repaired to read
it. Typing and validation against a Table Schema come later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem, ValidationReport
from openblotter.ingest.read import encoding as enc
from openblotter.ingest.read.csv_reader import ProgressMeter, read_csv_file
from openblotter.ingest.read.table_shape import ROW_COLUMN
from openblotter.ingest.read.xlsx_guard import XlsxLimits
from openblotter.ingest.read.xlsx_reader import read_xlsx_file

__all__ = ["ROW_COLUMN", "RawTable", "read_table"]


@dataclass
class RawTable:
    """A file read into strings, before any typing or validation.

    ``frame`` holds every source column as ``pl.String`` (values not trimmed,
    empty cells null) and the ``Int64`` column ``__row``: the row number as a
    person would find it (CSV: the record number, where the header record is
    ``header_row``; XLSX: the sheet row). ``problems`` lists up to
    ``EXAMPLES_PER_CODE`` examples per code; ``problem_counts`` has the exact
    count per code (use :meth:`add_problems_to` to fill a report).
    """

    frame: pl.DataFrame
    source_name: str
    format: Literal["csv", "xlsx"]
    encoding: str | None
    delimiter: str | None
    header_row: int
    second_header: list[str] | None
    sheet: str | None
    problems: list[Problem]
    source_checksum: str
    problem_counts: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The source column names, in file order (without ``__row``)."""
        return [c for c in self.frame.columns if c != ROW_COLUMN]

    def add_problems_to(self, report: ValidationReport) -> None:
        """Count every reading problem in ``report``, exactly, with the examples kept."""
        for code, count in self.problem_counts.items():
            examples = [p for p in self.problems if p.code == code]
            severity = examples[0].severity if examples else "warning"
            report.add_counted(code, severity, count, examples)


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    scratch: Path | None = None,
    xlsx_limits: XlsxLimits | None = None,
) -> RawTable:
    """Read a CSV or XLSX file into a :class:`RawTable` of strings.

    The format is told from the file's bytes, not its name. ``sheet`` picks an
    XLSX sheet by name (default: the first sheet with any value).
    ``progress(done_bytes, total_bytes)`` is called a few times on large files.
    ``scratch`` is the folder for a temporary transcoded copy (the portal's staging area).
    Raises ``InvalidInput`` (what, where, what to do) for a file that cannot
    be read: missing, empty, not a table, no header, an unknown sheet, a
    workbook over ``xlsx_limits`` (default: Excel's own limits).
    """
    path = Path(path)
    head = _head(path)
    kind = enc.sniff_kind(path, head)
    total = path.stat().st_size
    meter = ProgressMeter(progress, total)
    if kind == "xlsx":
        table = _read_xlsx(path, sheet, meter, xlsx_limits)
    else:
        if sheet is not None:
            raise InvalidInput(
                f"{path.name} is a CSV file, which has no sheets; leave the sheet out.",
                detail={"file": path.name, "sheet": sheet},
            )
        table = _read_csv(path, head, meter, scratch)
    meter.finish()
    return table


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(enc.HEAD_BYTES)
    except FileNotFoundError as exc:
        raise InvalidInput(
            f"{path.name} does not exist ({path}). Check the path and try again.",
            detail={"file": str(path)},
        ) from exc
    except IsADirectoryError as exc:
        raise InvalidInput(
            f"{path} is a folder, not a file. Give the path of the CSV or XLSX file.",
            detail={"file": str(path)},
        ) from exc


def _read_csv(path: Path, head: bytes, meter: ProgressMeter, scratch: Path | None) -> RawTable:
    table = read_csv_file(path, head, meter, scratch)
    return RawTable(
        frame=table.frame,
        source_name=path.name,
        format="csv",
        encoding=table.encoding,
        delimiter=table.delimiter,
        header_row=table.header_row,
        second_header=table.second_header,
        sheet=None,
        problems=table.log.examples,
        source_checksum=table.checksum,
        problem_counts=dict(table.log.counts),
    )


def _read_xlsx(
    path: Path, sheet: str | None, meter: ProgressMeter, limits: XlsxLimits | None
) -> RawTable:
    report = meter.pass_over(1.0)
    table = read_xlsx_file(path, sheet, lambda share: report(int(share * meter.total)), limits)
    return RawTable(
        frame=table.frame,
        source_name=path.name,
        format="xlsx",
        encoding=None,
        delimiter=None,
        header_row=table.header_row,
        second_header=table.second_header,
        sheet=table.sheet,
        problems=table.log.examples,
        source_checksum=enc.sha256_of(path),
        problem_counts=dict(table.log.counts),
    )
