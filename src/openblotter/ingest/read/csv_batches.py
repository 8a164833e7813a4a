"""A large UTF-8 CSV read in chunks of rows, each as ``read_table`` would give it.

The same Arrow parser, options, record numbering and repairs as
``csv_reader`` (odd-width records padded or cut and put back in place, blank
rows dropped and reported, a second header row lifted out of the first chunk),
but the file is never held whole: a publish of any size reads it chunk by
chunk, twice if it must (see ``services/publish_stream.py``).

A file this reader does not take (not UTF-8, most rows of another width than
the header, a record longer than a block) raises :class:`NotStreamable`
before or while reading; the caller reads it whole instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from openblotter.ingest.read import encoding as enc
from openblotter.ingest.read.csv_reader import (
    MeteredFile,
    NotUtf8,
    RecordNumbering,
    RowCollector,
    RowLongerThanBlock,
    header_cells,
    open_text_csv,
    parse_failed,
    sniff_layout,
)
from openblotter.ingest.read.ragged_rows import BadRecord, fit_to_header
from openblotter.ingest.read.table_shape import (
    ROW_COLUMN,
    ProblemLog,
    clean_header,
    drop_blank_rows,
    finish_frame,
    report_title_rows,
)

#: Rows of one chunk: large enough that per-chunk work is cheap, small enough to stay bounded.
CHUNK_ROWS = 100_000
#: Bytes Arrow parses at a time (its reader holds a few blocks: smaller keeps memory down).
#: A record longer than this makes the file read whole instead.
STREAM_BLOCK_BYTES = 1 << 20


class NotStreamable(Exception):
    """The file needs the whole-file reader (an encoding, a width or a record it cannot take)."""


@dataclass
class CsvStream:
    """What is known of a CSV before its rows are read; ``chunks()`` reads them."""

    path: Path
    encoding: str
    delimiter: str
    header_row: int
    names: list[str]
    width: int
    log: ProblemLog
    #: Title rows above the header and header repairs: reported once per pass.
    header_log: ProblemLog = field(default_factory=ProblemLog)
    second_header: list[str] | None = None
    checksum: str = ""
    rows: int = 0

    def chunks(
        self, progress: Callable[[int], None] | None = None, rows: int | None = None
    ) -> Iterator[pl.DataFrame]:
        """The data rows as ``read_table``'s frame would hold them, ``rows`` at a time.

        Problems of reading go to ``self.log`` (reset on every pass); ``checksum`` and
        ``rows`` are set once the last chunk is given. ``rows``: default ``CHUNK_ROWS``.
        """
        rows = rows or CHUNK_ROWS
        self.log = ProblemLog(Counter(self.header_log.counts), list(self.header_log.examples))
        self.rows = 0
        collector = RowCollector()
        numbering = RecordNumbering(collector)
        names = [f"c{i}" for i in range(self.width)]
        with self.path.open("rb") as handle:
            source = MeteredFile(handle, progress or _ignore)
            reader = open_text_csv(source, names, self.delimiter, collector, STREAM_BLOCK_BYTES)
            pending: list[pl.DataFrame] = []
            count, used_bad, first = 0, 0, True
            try:
                for batch in reader:
                    part = pl.DataFrame(pl.from_arrow(batch))
                    pending.append(part.with_columns(numbering.next(part.height)))
                    count += part.height
                    if count < rows:
                        continue
                    bad, used_bad = _bad_before(collector.bad, used_bad, numbering.start)
                    yield self._finish(pending, bad, first)
                    pending, count, first = [], 0, False
            except pa.ArrowInvalid as exc:
                try:
                    parse_failed(exc, collector, self.path, numbering.start - 1, STREAM_BLOCK_BYTES)
                except (RowLongerThanBlock, NotUtf8) as other:
                    raise NotStreamable(str(other)) from other
                raise NotStreamable from exc
            finally:
                pa.default_memory_pool().release_unused()
            bad = collector.bad[used_bad:]
            if pending or bad or first:
                pending = pending or [_empty(names)]
                yield self._finish(pending, bad, first)
        self.checksum = source.digest.hexdigest()

    def _finish(self, parts: list[pl.DataFrame], bad: list[BadRecord], first: bool) -> pl.DataFrame:
        frame = pl.concat(parts, rechunk=False)
        frame = fit_to_header(frame, bad, self.names, self.header_row, self.delimiter, self.log)
        if first:
            frame, self.second_header = finish_frame(frame, self.names, self.header_row, self.log)
        else:
            source = frame.columns[: len(self.names)]
            frame = drop_blank_rows(frame, source, self.log)
            frame = frame.rename(dict(zip(source, self.names, strict=True)))
            frame = frame.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
        self.rows += frame.height
        return frame


def open_csv_stream(path: Path) -> CsvStream:
    """The layout of a UTF-8 CSV (delimiter, header, widths); raises ``NotStreamable`` otherwise."""
    with path.open("rb") as handle:
        head = handle.read(enc.HEAD_BYTES)
    declared = enc.bom_encoding(head)
    if declared and declared.transcode:
        raise NotStreamable(f"{path.name} is {declared.label}, not UTF-8")
    text = enc.decode_head(head, None)
    if text is None:
        raise NotStreamable(f"{path.name} does not start as UTF-8")
    complete = path.stat().st_size <= enc.HEAD_BYTES
    layout = sniff_layout(text, complete, path.name)
    log = ProblemLog()
    header_row = layout.header_index + 1
    report_title_rows(layout.records[: layout.header_index], header_row, log)
    names = clean_header(header_cells(layout), log, header_row)
    return CsvStream(
        path=path,
        encoding=(declared or enc.UTF8).label,
        delimiter=layout.delimiter,
        header_row=header_row,
        names=names,
        width=max(layout.data_width, 1),
        log=ProblemLog(),
        header_log=log,
    )


def _bad_before(bad: list[BadRecord], used: int, start: int) -> tuple[list[BadRecord], int]:
    """The odd-width records not yet put back that come before record ``start``."""
    end = used
    while end < len(bad) and bad[end].number < start:
        end += 1
    return bad[used:end], end


def _ignore(done: int) -> None:
    pass


def _empty(names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(names, pl.String), ROW_COLUMN: pl.Int64})
