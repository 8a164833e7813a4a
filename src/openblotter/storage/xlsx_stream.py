"""An XLSX workbook streamed as it is made: no temporary file, no work after the client leaves.

A workbook is a zip of XML parts; the zip is written to a sink that hands its
bytes out after every batch (a zip written forward only, with data descriptors),
and the one sheet's XML is made a batch at a time by Arrow compute functions:
each column becomes its cells' XML, and each row the join of them. Cells are
inline strings (never formulas), numbers, booleans, or dates and times as
Excel serial numbers with a date format. Cells carry no reference, so an empty
one is written as ``<c/>`` to keep its place.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<Relationships xmlns="{_PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<Relationships xmlns="{_PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
#: Cell styles: 1 date, 2 date and time, 3 time of day.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="166" formatCode="hh:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
#: Characters XML 1.0 does not allow (Excel refuses the file with them).
_NOT_XML = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
#: Days from Excel's day 0 (1899-12-30) to 1970-01-01.
_EPOCH_DAYS = 25569
_EMPTY = "<c/>"


#: The most bytes of a download handed over at once. A batch's output is megabytes; as
#: one ``bytes`` it is an allocation that glibc serves from the heap once its mmap
#: threshold has grown, and keeps, in every thread that streams a download.
PIECE_BYTES = 256 * 1024


class DrainingFile:
    """A forward-only, write-only file: a writer (zipfile, pyarrow) writes to it, and the
    streaming generator hands over what was written since the last drain."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def drain(self) -> Iterator[bytes]:
        """What was written since the last drain, in pieces of about PIECE_BYTES (a part
        written larger than that is one piece); nothing when nothing was written."""
        parts, self._parts = self._parts, []
        group: list[bytes] = []
        size = 0
        for part in parts:
            group.append(part)
            size += len(part)
            if size >= PIECE_BYTES:
                yield b"".join(group)
                group, size = [], 0
        if group:
            yield b"".join(group)


def xlsx_bytes(batches: Iterator[pa.RecordBatch], header: list[str]) -> Iterator[bytes]:
    """The workbook's bytes: a header row, then every batch's rows, as they are made.

    The first batch is read before any byte is made, so a query that cannot run fails
    before the response starts.
    """
    batches = iter(batches)
    first = next(batches, None)
    sink = DrainingFile()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_START.encode())
            sheet.write(_header_row(header))
            yield from sink.drain()
            for batch in itertools.chain([] if first is None else [first], batches):
                if batch.num_rows:
                    sheet.write(_rows(batch))
                    yield from sink.drain()
            sheet.write(_SHEET_END.encode())
    yield from sink.drain()


def _header_row(names: list[str]) -> bytes:
    cells = pc.binary_join_element_wise(*[_text_cells(pa.array([n])) for n in names], "")
    return ("<row>" + (cells[0].as_py() if names else "") + "</row>").encode()


def _rows(batch: pa.RecordBatch) -> bytes:
    cells = [pc.fill_null(_cells(column), _EMPTY) for column in batch.columns]
    rows = pc.binary_join_element_wise("<row>", *cells, "</row>", "")
    return concatenated(rows)


def concatenated(texts: pa.Array) -> bytes:
    """The texts' bytes back to back, straight from the array's buffer (no Python loop)."""
    texts = pc.fill_null(texts, "")
    if not pa.types.is_string(texts.type):
        return "".join(texts.to_pylist()).encode()
    _, offsets, data = texts.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(texts) + 1, offset=texts.offset * 4)
    first, last = int(bounds[0]), int(bounds[-1])
    return bytes(data.slice(first, last - first).to_pybytes())


def _cells(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_boolean(kind):
        values = pc.if_else(column, "1", "0")
        return _wrap(values, '<c t="b"><v>', "</v></c>")
    if pa.types.is_integer(kind):
        return _wrap(pc.cast(column, pa.string()), "<c><v>", "</v></c>")
    if pa.types.is_floating(kind):
        finite = pc.is_finite(column)
        text = pc.if_else(finite, pc.cast(column, pa.string()), pa.scalar(None, pa.string()))
        cells = _wrap(text, "<c><v>", "</v></c>")
        # NaN and infinity as Excel's #NUM! error, as a spreadsheet would show them.
        return pc.if_else(
            pc.and_(pc.is_valid(column), pc.invert(finite)), '<c t="e"><v>#NUM!</v></c>', cells
        )
    serial = _serial(column)
    if serial is not None:
        number, style = serial
        return _wrap(pc.cast(number, pa.string()), f'<c s="{style}"><v>', "</v></c>")
    return _text_cells(pc.cast(column, pa.string()))


def _serial(column: pa.Array) -> tuple[pa.Array, int] | None:
    """Dates and times as Excel serial numbers (days since 1899-12-30) and their style."""
    kind = column.type
    if pa.types.is_date(kind):
        days = pc.cast(pc.cast(column, pa.date32()), pa.int32())
        return pc.add(days, _EPOCH_DAYS), 1
    if pa.types.is_timestamp(kind):
        micros = pc.cast(pc.cast(column, pa.timestamp("us"), safe=False), pa.int64())
        return pc.add(pc.divide(pc.cast(micros, pa.float64()), 86_400e6), _EPOCH_DAYS), 2
    if pa.types.is_time(kind):
        micros = pc.cast(pc.cast(column, pa.time64("us"), safe=False), pa.int64())
        return pc.divide(pc.cast(micros, pa.float64()), 86_400e6), 3
    return None


def _text_cells(text: pa.Array) -> pa.Array:
    clean = pc.replace_substring_regex(text, _NOT_XML, "")
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        clean = pc.replace_substring(clean, raw, escaped)
    return _wrap(clean, '<c t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>")


def _wrap(values: Any, before: str, after: str) -> pa.Array:
    joined = pc.binary_join_element_wise(before, values, after, "")
    return pc.fill_null(joined, _EMPTY)
