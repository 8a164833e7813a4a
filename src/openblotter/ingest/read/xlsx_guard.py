"""Refuse hostile workbooks before calamine allocates anything for them.

An .xlsx file is a zip of XML parts. A few kilobytes can claim a sheet of
16,384 x 1,048,576 cells (one far cell, or a ``<dimension>``), unpack to
gigabytes (a zip bomb), hold a single gigabyte-long cell, or declare XML
entities that expand without end. calamine believes all of that and allocates
first. This module reads every part once, streaming, in bounded memory, and
checks it against :class:`XlsxLimits`:

- each part is inflated here from its raw bytes, so its real size is counted,
  not the size its header claims; the total is capped;
- no part may declare a DTD or entities (Excel never writes them);
- a sheet's cells must fit in the row, column and cell limits, taken from the
  ``<dimension>``, every cell reference and the cells of every row;
- no text run (a cell's value or a shared string) may pass the cell length.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openblotter.domain.errors import InvalidInput

_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
# Patterns start with a literal (fast in ``re``); other whitespace is made a space first.
_CELL_COLUMN = re.compile(rb' r="([A-Z]{1,4})\d')
_CELL_ROW = re.compile(rb' r="[A-Z]{1,4}0*([1-9]\d*)"')
_ROW_NUMBER = re.compile(rb' r="0*([1-9]\d*)"')
_SPACES = bytes.maketrans(b"\t\n\r", b"   ")
_CELL_TAG = (b"<c ", b"<c>", b"<c/>")
#: Bytes an XML text holds per character at most (``&#x10FFFF;`` is 10; UTF-8 is 4).
_XML_BYTES_PER_CHAR = 10


@dataclass(frozen=True)
class XlsxLimits:
    """What a workbook may hold; the defaults are Excel's own sheet limits."""

    max_uncompressed_bytes: int = 2 * 1024**3
    max_cells: int = 50_000_000
    max_rows: int = 1_048_576
    max_columns: int = 16_384
    max_cell_chars: int = 32_767
    max_parts: int = 10_000


def check_workbook(path: Path, limits: XlsxLimits) -> None:
    """Raise ``InvalidInput`` (what is wrong, which limit, what to do) for a hostile workbook."""
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            members = archive.infolist()
            if len(members) > limits.max_parts:
                _refuse(path, f"it holds {len(members):,} parts", "parts", limits.max_parts)
            unpacked = 0
            for member in members:
                if member.is_dir():
                    continue
                scan = _PartScan(path, member.filename, limits)
                for chunk in _inflate(raw, member):
                    unpacked += len(chunk)
                    if unpacked > limits.max_uncompressed_bytes:
                        _refuse(
                            path,
                            "its parts unpack to more bytes than the limit",
                            "uncompressed bytes",
                            limits.max_uncompressed_bytes,
                        )
                    scan.feed(chunk)
                scan.finish()
    except (zipfile.BadZipFile, zlib.error, struct.error, EOFError) as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as an Excel workbook ({exc}). Open it in Excel, "
            "save it as .xlsx again, and upload the new file.",
            detail={"file": path.name},
        ) from exc


def _inflate(handle: BinaryIO, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes, inflated here from its raw data (its declared sizes are not trusted)."""
    handle.seek(member.header_offset)
    header = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if header[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {member.filename}")
    name_length, extra_length = header[-2], header[-1]
    handle.seek(name_length + extra_length, 1)
    left = member.compress_size
    if member.compress_type == zipfile.ZIP_STORED:
        inflater = None
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        raise zipfile.BadZipFile(f"part {member.filename} uses an unsupported compression")
    while left > 0:
        data = handle.read(min(_CHUNK, left))
        if not data:
            raise EOFError(f"part {member.filename} is cut short")
        left -= len(data)
        if inflater is None:
            yield data
            continue
        # At most one chunk out per step, whatever the ratio: memory stays bounded.
        yield inflater.decompress(data, _CHUNK)
        while inflater.unconsumed_tail:
            yield inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    if inflater is not None:
        yield inflater.flush()


class _PartScan:
    """Checks one XML part as its bytes stream by (a worksheet's shape, DTDs, text runs)."""

    def __init__(self, path: Path, name: str, limits: XlsxLimits) -> None:
        self.path, self.name, self.limits = path, name, limits
        self.sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        self.strings = name == "xl/sharedStrings.xml"
        self.row_tags = 0
        self.string_count = 0
        self.tail = b""
        self.run = 0  # bytes of text since the last '<'
        self.max_run = limits.max_cell_chars * _XML_BYTES_PER_CHAR
        self.rows = 0
        self.columns = 0
        self.cells = 0
        self.row_cells = 0

    def feed(self, chunk: bytes) -> None:
        self._check_run(chunk)
        # Tags may straddle chunks: scan the last partial tag again with the next chunk.
        cut = chunk.rfind(b"<")
        text = self.tail + (chunk if cut < 0 else chunk[:cut])
        self.tail = b"" if cut < 0 else chunk[cut:]
        if len(self.tail) > _CHUNK:  # a tag longer than a chunk: keep scanning, not growing
            text, self.tail = text + self.tail, b""
        self._scan(text)

    def finish(self) -> None:
        self._scan(self.tail)
        self.tail = b""
        self._end_row()

    def _check_run(self, chunk: bytes) -> None:
        first = chunk.find(b"<")
        if first < 0:
            self.run += len(chunk)
        else:
            self.run += first
            self._check_text(self.run)
            self._check_text(_longest_run(chunk, self.max_run // 2))
            self.run = len(chunk) - chunk.rfind(b"<") - 1
        self._check_text(self.run)

    def _check_text(self, length: int) -> None:
        if length > self.max_run:
            _refuse(
                self.path,
                f"part {self.name} holds a text longer than a cell may be",
                "characters in a cell",
                self.limits.max_cell_chars,
            )

    def _scan(self, text: bytes) -> None:
        if _DTD.search(text):
            raise InvalidInput(
                f"{self.path.name} declares XML entities or a DTD in {self.name}, which Excel "
                "never writes and which can expand without end; it is refused. Open the file in "
                "Excel, save it as .xlsx again, and upload the new file.",
                detail={"file": self.path.name, "part": self.name},
            )
        if self.strings:
            self.string_count += text.count(b"<si>") + text.count(b"<si ")
            if self.string_count > self.limits.max_cells:
                self._too_big("shared strings", self.limits.max_cells)
        if self.sheet:
            self._scan_sheet(text)

    def _scan_sheet(self, text: bytes) -> None:
        text = text.translate(_SPACES)
        for match in _DIMENSION.finditer(text):
            last_column = match.group(3) or match.group(1)
            self._fit(
                _column_number(last_column),
                int(match.group(4) or match.group(2)),
                "its <dimension>",
            )
        # Few distinct column letters; row numbers compared as integers in C (map, max).
        columns = set(_CELL_COLUMN.findall(text))
        if columns:
            self._fit(max(map(_column_number, columns)), 1, "a cell reference")
        for numbers in (_ROW_NUMBER.findall(text), _CELL_ROW.findall(text)):
            if numbers:
                self._fit(1, _largest(numbers), "a row or cell reference")
        # Rows and cells without a reference are placed one after another: count them too.
        self.cells += _cells(text)
        if self.cells > self.limits.max_cells:
            self._too_big("cells", self.limits.max_cells)
        pieces = text.split(b"<row")
        self.row_tags += len(pieces) - 1
        self._fit(1, self.row_tags, "its rows")
        self.row_cells += _cells(pieces[0])
        if len(pieces) > 1:
            self._end_row()
            # Only a row of 4 bytes per cell (``<c/>``) or more can hold too many cells.
            long_enough = 4 * self.limits.max_columns
            for piece in pieces[1:-1]:
                if len(piece) >= long_enough:
                    self.row_cells = _cells(piece)
                    self._end_row()
            self.row_cells = _cells(pieces[-1])
        self._fit(self.row_cells, 1, "the cells of one row")

    def _end_row(self) -> None:
        self._fit(self.row_cells, 1, "the cells of one row")
        self.row_cells = 0

    def _fit(self, column: int, row: int, where: str) -> None:
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)
        if self.rows > self.limits.max_rows:
            self._too_big("rows", self.limits.max_rows, where)
        if self.columns > self.limits.max_columns:
            self._too_big("columns", self.limits.max_columns, where)
        if self.rows * self.columns > self.limits.max_cells:
            self._too_big("cells", self.limits.max_cells, where)

    def _too_big(self, what: str, limit: int, where: str = "its cells") -> None:
        sheet = self.name.rsplit("/", 1)[-1]
        _refuse(self.path, f"sheet {sheet} spans too many {what} ({where})", what, limit)


def _longest_run(chunk: bytes, half: int) -> int:
    """The longest run without ``<`` that is at least ``2 * half`` long, or 0 if there is none.

    A run that long covers a whole aligned window of ``half`` bytes, so only windows without
    ``<`` are measured: a few C-speed searches per chunk instead of one per tag.
    """
    longest = 0
    for start in range(0, len(chunk) - half + 1, half):
        if b"<" not in chunk[start : start + half]:
            before = chunk.rfind(b"<", 0, start) + 1
            after = chunk.find(b"<", start)
            longest = max(longest, (len(chunk) if after < 0 else after) - before)
    return longest


def _largest(numbers: list[bytes]) -> int:
    """The largest of decimal numbers: the greatest text among the longest (all in C)."""
    digits = max(map(len, numbers))
    if digits == min(map(len, numbers)):
        return int(max(numbers))
    return max(int(n) for n in numbers if len(n) == digits)


def _cells(text: bytes) -> int:
    return sum(text.count(tag) for tag in _CELL_TAG)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _refuse(path: Path, what: str, limit_name: str, limit: int) -> None:
    raise InvalidInput(
        f"{path.name} is refused before reading: {what}, and this portal reads at most "
        f"{limit:,} {limit_name} from a workbook. A workbook this large, or one that claims to "
        "be, cannot be read safely; export the data as CSV, or split it into smaller workbooks.",
        detail={"file": path.name, "limit": limit_name, "allowed": limit},
    )
