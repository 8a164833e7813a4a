"""CSV files into a table of strings, row numbers kept, nothing dropped unreported.

Arrow's CSV reader does the parsing (quoted fields with delimiters, doubled
quotes and line breaks, CRLF, a quote inside an unquoted field taken as a
character). It reads the whole file serially, so no guess made from the first
rows decides how a later row is read. Rows whose field count differs from the
header come back through a handler with their record number; they are padded
or cut to the header, put back in place and reported.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.ingest.read import encoding as enc
from openblotter.ingest.read.ragged_rows import BadRecord, fit_to_header
from openblotter.ingest.read.table_shape import (
    ROW_COLUMN,
    ProblemLog,
    clean_header,
    find_header,
    finish_frame,
    report_title_rows,
)

DELIMITERS = (",", ";", "\t", "|")
#: Records of the file's head used to find the delimiter and the header.
SNIFF_RECORDS = 200
BLOCK_BYTES = 2 << 20
#: The largest block a record may need (rows longer than a block are read again in bigger ones).
MAX_BLOCK_BYTES = 128 << 20
#: A record of the wrong width this long is a quoted field that never closes, not a row.
RUNAWAY_RECORD_CHARS = 128 * 1024
#: Rows of the wrong width handled one by one before the width is re-guessed.
BAD_RECORD_LIMIT = 20_000


@dataclass
class CsvTable:
    """A CSV read into strings, with what was learnt about the file."""

    frame: pl.DataFrame
    encoding: str
    delimiter: str
    header_row: int
    second_header: list[str] | None
    checksum: str
    log: ProblemLog


@dataclass
class _Layout:
    delimiter: str
    header_index: int
    header: list[str]
    data_width: int
    records: list[list[str]]


@dataclass
class RowCollector:
    """Arrow's invalid-row handler: keep each odd-width record for later."""

    bad: list[BadRecord] = field(default_factory=list)
    widths: Counter[int] = field(default_factory=Counter)
    undecodable: bool = False
    #: The line where a record of the wrong width runs on too long to be a row (a lost quote).
    runaway: int | None = None

    def __call__(self, row: pacsv.InvalidRow) -> str:
        try:
            text = row.text
        except UnicodeDecodeError:
            self.undecodable = True
            return "error"
        self.widths[row.actual_columns] += 1
        if len(text) > RUNAWAY_RECORD_CHARS:
            self.runaway = row.number or 0
            return "error"
        if len(self.bad) >= BAD_RECORD_LIMIT:
            return "error"
        self.bad.append(BadRecord(row.number, text))
        return "skip"


class NotUtf8(Exception):
    """The file turned out not to be valid UTF-8 past its head."""


class MeteredFile:
    """A binary file that hashes what is read and reports progress."""

    def __init__(self, handle: BinaryIO, report: Callable[[int], None]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.done = 0
        self.report = report
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.done += len(data)
        self.report(self.done)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.done

    def close(self) -> None:
        self.closed = True


class ProgressMeter:
    """Maps the passes over a file onto one rising ``progress(done, total)`` in bytes."""

    def __init__(self, callback: enc.Progress | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.reported = 0
        self.step = max(total // 20, 1)

    def pass_over(self, share: float) -> Callable[[int], None]:
        """A reporter for one pass that moves the bar over ``share`` of what is left."""
        base = self.reported
        span = (self.total - base) * share

        def report(done: int) -> None:
            value = min(int(base + span * done / max(self.total, 1)), self.total)
            if self.callback is not None and value - self.reported >= self.step:
                self.reported = value
                self.callback(value, self.total)

        return report

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(self.total, self.total)


def read_csv_file(
    path: Path, head: bytes, meter: ProgressMeter, scratch: Path | None = None
) -> CsvTable:
    """Read a CSV of any common delimiter and encoding into strings (see module doc).

    ``scratch`` is where a transcoded copy is written (and removed, also on failure).
    """
    declared = enc.bom_encoding(head)
    text = None if declared and declared.transcode else enc.decode_head(head, None)
    if text is not None:
        try:
            return _read_utf8(path, path, text, declared or enc.UTF8, meter, None)
        except NotUtf8:
            pass
    first_pass = meter.pass_over(0.3)
    encoding = enc.choose_encoding(path, head, lambda done, _total: first_pass(done))
    with tempfile.TemporaryDirectory(prefix=_scratch_prefix(), dir=scratch) as tmp:
        utf8 = Path(tmp) / "transcoded.csv"
        tally, checksum = _transcode(path, utf8, encoding, meter)
        with utf8.open("rb") as handle:
            utf8_head = handle.read(enc.HEAD_BYTES)
        utf8_text = enc.decode_head(utf8_head, enc.UTF8) or ""
        table = _read_utf8(path, utf8, utf8_text, encoding, meter, checksum)
    _report_strays(table.log, encoding, tally)
    return table


def _scratch_prefix() -> str:
    # The PID lets a later start tell a killed publish's copy from a running one's.
    return f"{os.getpid()}-"


def _transcode(
    path: Path, target: Path, encoding: enc.Encoding, meter: ProgressMeter
) -> tuple[enc.StrayTally, str]:
    report = meter.pass_over(0.4)
    return enc.transcode_to_utf8(path, target, encoding, lambda done, _total: report(done))


def _read_utf8(
    source: Path,
    utf8: Path,
    head_text: str,
    encoding: enc.Encoding,
    meter: ProgressMeter,
    checksum: str | None,
) -> CsvTable:
    complete = utf8.stat().st_size <= enc.HEAD_BYTES
    layout = sniff_layout(head_text, complete, source.name)
    log = ProblemLog()
    header_row = layout.header_index + 1
    report_title_rows(layout.records[: layout.header_index], header_row, log)
    names = clean_header(header_cells(layout), log, header_row)
    frame, bad, digest = _parse_all(utf8, layout, meter)
    frame = fit_to_header(frame, bad, names, header_row, layout.delimiter, log)
    frame, second = finish_frame(frame, names, header_row, log)
    return CsvTable(
        frame=frame,
        encoding=encoding.label,
        delimiter=layout.delimiter,
        header_row=header_row,
        second_header=second,
        checksum=checksum or digest,
        log=log,
    )


def header_cells(layout: _Layout) -> list[str]:
    """The header, widened with blank names when the rows under it hold values further right.

    Empty fields beyond the header (a delimiter at the end of each line) do not widen it.
    """
    width = len(layout.header)
    if layout.data_width <= width:
        return layout.header
    below = layout.records[layout.header_index + 1 :]
    if any(cell.strip() for record in below for cell in record[width:]):
        return [*layout.header, *[""] * (layout.data_width - width)]
    return layout.header


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The first records of ``text``; a record cut off at the end of the sample is left out."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    records: list[list[str]] = []
    with contextlib.suppress(csv.Error):
        records.extend(itertools.islice(reader, SNIFF_RECORDS))
    return records


def sniff_layout(text: str, complete: bool, name: str) -> _Layout:
    """Find the delimiter and the header from the file's head.

    The delimiter is the one that splits the header and the rows under it into
    the most consistent number of fields (then the most fields, then the
    fewest title rows above the header). Quoting is always
    ``"`` with doubled quotes, so nothing is inferred about it.
    """
    if not complete and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    best: tuple[tuple[bool, float, int, int], _Layout] | None = None
    for delimiter in DELIMITERS:
        records = _records(text, delimiter)
        index = find_header(records)
        if index is None:
            continue
        below = [len(r) for r in records[index + 1 :] if any(c.strip() for c in r)]
        widths = [len(records[index]), *below]
        width, count = Counter(widths).most_common(1)[0]
        score = (width >= 2, count / len(widths), width, -index)
        if best is None or score > best[0]:
            layout = _Layout(delimiter, index, records[index], width, records)
            best = (score, layout)
    if best is None:
        raise InvalidInput(
            f"{name} has no header row: its first rows are blank. "
            "Upload a CSV whose first non-blank row names the columns.",
            detail={"file": name},
        )
    return best[1]


def _parse_all(
    path: Path, layout: _Layout, meter: ProgressMeter
) -> tuple[pl.DataFrame, list[BadRecord], str]:
    """Parse every record; re-guess the width once if most rows are odd-width."""
    width = max(layout.data_width, 1)
    block = BLOCK_BYTES
    attempt = 0
    while attempt < 3:
        collector = RowCollector()
        try:
            result = _parse(path, layout.delimiter, width, collector, meter, block)
        except RowLongerThanBlock:
            block *= 8  # a long row (a very long cell), not a width problem: read it whole
            continue
        attempt += 1
        if result is not None:
            frame, digest = result
            return frame, collector.bad, digest
        width = collector.widths.most_common(1)[0][0]
    raise InvalidInput(
        f"{path.name}: rows have too many different numbers of fields to read as one table. "
        "Check that the file is a single CSV table with one header row.",
        detail={"file": path.name},
    )


class RowLongerThanBlock(Exception):
    """A record does not fit in the block Arrow reads at a time: read again in bigger ones."""


def _parse(
    path: Path,
    delimiter: str,
    width: int,
    collector: RowCollector,
    meter: ProgressMeter,
    block: int = BLOCK_BYTES,
) -> tuple[pl.DataFrame, str] | None:
    """Every record of the file as ``c0..`` string columns plus its record number."""
    names = [f"c{i}" for i in range(width)]
    numbering = RecordNumbering(collector)
    with path.open("rb") as handle:
        source = MeteredFile(handle, meter.pass_over(1.0))
        parts = [pl.DataFrame(schema={**dict.fromkeys(names, pl.String), ROW_COLUMN: pl.Int64})]
        try:
            reader = open_text_csv(source, names, delimiter, collector, block)
            for batch in reader:
                # Numbering each batch keeps the table in chunks: no copy of the whole file.
                part = pl.DataFrame(pl.from_arrow(batch))
                parts.append(part.with_columns(numbering.next(part.height)))
        except pa.ArrowInvalid as exc:
            parse_failed(exc, collector, path, numbering.start - 1, block)
            return None
        finally:
            pa.default_memory_pool().release_unused()
    return pl.concat(parts, rechunk=False), source.digest.hexdigest()


def open_text_csv(
    source: MeteredFile, names: list[str], delimiter: str, collector: RowCollector, block: int
) -> pacsv.CSVStreamingReader:
    """Arrow's streaming CSV reader over ``source``: every cell text, empty cells null."""
    return pacsv.open_csv(
        pa.PythonFile(source, mode="r"),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=block),
        parse_options=parse_options(delimiter, collector),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def parse_options(delimiter: str, collector: RowCollector) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=collector,
    )


class RecordNumbering:
    """Record numbers of the rows Arrow returns: every number but the odd-width records'."""

    def __init__(self, collector: RowCollector) -> None:
        self.collector = collector
        self.start = 1
        self.seen_bad = 0

    def next(self, count: int) -> pl.Series:
        # Arrow has parsed at least this batch when it hands it over, so every
        # odd-width record among these numbers is already in the collector.
        bad = np.array([b.number for b in self.collector.bad[self.seen_bad :]], dtype=np.int64)
        span = np.arange(self.start, self.start + count + len(bad), dtype=np.int64)
        numbers = np.setdiff1d(span, bad, assume_unique=True)[:count]
        if count:
            self.start = int(numbers[-1]) + 1
        while (
            self.seen_bad < len(self.collector.bad)
            and self.collector.bad[self.seen_bad].number < self.start
        ):
            self.seen_bad += 1
        return pl.Series(ROW_COLUMN, numbers, dtype=pl.Int64)


def parse_failed(
    exc: pa.ArrowInvalid, collector: RowCollector, path: Path, rows: int, block: int
) -> None:
    """Raise the right error for a failed parse; return only when the width should be re-guessed."""
    message = str(exc)
    if collector.undecodable or "invalid UTF8" in message:
        raise NotUtf8 from exc
    if collector.runaway is not None:
        where = f"line {collector.runaway}" if collector.runaway else f"after row {rows + 1}"
        raise InvalidInput(
            f"{path.name}: a quoted field opened at {where} does not close: the record runs "
            'on over the following lines with the wrong number of fields. A double quote (") '
            "is probably missing; fix that row and upload again.",
            detail={"file": path.name, "line": collector.runaway or None},
        ) from exc
    if len(collector.bad) >= BAD_RECORD_LIMIT:
        return None
    if "straddl" in message:
        if block < MAX_BLOCK_BYTES:
            raise RowLongerThanBlock from exc
        raise InvalidInput(
            f"{path.name}: somewhere after row {rows + 1}, a record runs on for more than "
            f"{block >> 20} MB: a quoted field that does not close (a missing double quote) "
            "or a cell far longer than a table holds. Fix that row and upload again.",
            detail={"file": path.name, "row": rows + 1, "limit_bytes": block},
        ) from exc
    raise InvalidInput(
        f"{path.name} cannot be read as CSV: {message}. Check the file in a spreadsheet "
        "program and export it again as CSV.",
        detail={"file": path.name},
    ) from exc


def _report_strays(log: ProblemLog, encoding: enc.Encoding, tally: enc.StrayTally) -> None:
    if encoding.codec == "cp1252":
        log.add(
            Problem(
                code="encoding_not_utf8",
                severity="info",
                message=(
                    "The file is not UTF-8; it was read as Windows-1252 (cp1252), the encoding "
                    "Excel uses for CSV on Windows. Check accented letters and quotes."
                ),
            )
        )
    if tally.invalid_bytes == 0:
        return
    examples = [
        Problem(
            code="invalid_bytes",
            severity="warning",
            row=line,
            value=value,
            message=(
                f"Line {line} holds bytes that are not valid {encoding.codec} ({value}); "
                "they were replaced by \ufffd."
            ),
        )
        for line, value in zip(tally.lines, tally.values, strict=True)
    ]
    log.add_counted("invalid_bytes", tally.runs, examples)
