"""What kind of file an upload is, and how its text is encoded.

A department's export is UTF-8 (with or without a byte-order mark), UTF-8 with
a few stray bytes pasted in from another program, or Windows-1252 (Excel's
"CSV" on Windows). The question is narrow, so it is answered exactly over the
whole file with Python's codecs rather than guessed from a sample: a file is
UTF-8 when it decodes as UTF-8; otherwise it is read the way that leaves the
fewest characters wrong (stray bytes replaced, or every byte as cp1252).
"""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from openblotter.domain.errors import InvalidInput

CHUNK_BYTES = 8 << 20
HEAD_BYTES = 1 << 20
#: How many stray-byte positions are kept for the report.
STRAY_EXAMPLES = 50
_HIGH_BYTES = bytes(range(0x80, 0x100))

Progress = Callable[[int, int], None]
FileKind = Literal["csv", "xlsx"]


def sniff_kind(path: Path, head: bytes) -> FileKind:
    """Tell a text table from a workbook by its first bytes; refuse anything else.

    Raises ``InvalidInput`` for an empty file, a PDF, an old ``.xls`` or ``.ods``
    workbook, or other binary data, saying what to upload instead.
    """
    name = path.name
    if not head:
        raise InvalidInput(
            f"{name} is empty (0 bytes). Export the table again and upload the new file.",
            detail={"file": name},
        )
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"%PDF"):
        what = "a PDF document"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an old-style Excel (.xls) workbook"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" not in head[:8192]:
        return "csv"
    else:
        what = "binary data, not text"
    raise InvalidInput(
        f"{name} is {what}. Upload the table as CSV (UTF-8) or as an Excel .xlsx workbook.",
        detail={"file": name},
    )


def _zip_kind(path: Path) -> FileKind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise InvalidInput(
            f"{path.name} looks like a zip archive or .xlsx workbook but cannot be opened ({exc}). "
            "It may be cut short: export it again.",
            detail={"file": path.name},
        ) from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    what = "an OpenDocument spreadsheet (.ods)" if "content.xml" in names else "a zip archive"
    raise InvalidInput(
        f"{path.name} is {what}, not a table. "
        "Upload the table as CSV (UTF-8) or as an Excel .xlsx workbook.",
        detail={"file": path.name},
    )


@dataclass
class StrayTally:
    """Bytes a decoder could not read: how many, and the lines of the first few."""

    invalid_bytes: int = 0
    runs: int = 0
    lines: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    lines_before_chunk: int = 0


_current_tally: ContextVar[StrayTally] = ContextVar("openblotter_stray_tally")


def _count_and_replace(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    tally = _current_tally.get()
    tally.invalid_bytes += error.end - error.start
    tally.runs += 1
    if len(tally.lines) < STRAY_EXAMPLES:
        data = error.object
        tally.lines.append(tally.lines_before_chunk + data.count(b"\n", 0, error.start) + 1)
        tally.values.append(data[error.start : error.end].hex(" "))
    return "\ufffd", error.end


_HANDLER = "openblotter-count-replace"
codecs.register_error(_HANDLER, _count_and_replace)


@dataclass(frozen=True)
class Encoding:
    """How a CSV's bytes become text. ``codec`` is what Python decodes with."""

    label: str
    codec: str
    transcode: bool
    invalid_bytes: int = 0


UTF8 = Encoding("utf-8", "utf-8", transcode=False)
UTF8_SIG = Encoding("utf-8-sig", "utf-8-sig", transcode=False)


def bom_encoding(head: bytes) -> Encoding | None:
    """The encoding a byte-order mark declares, if the file starts with one."""
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_SIG
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", "utf-16", transcode=True)
    return None


def iter_chunks(handle: BinaryIO, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes of an open file, ``size`` at a time."""
    while chunk := handle.read(size):
        yield chunk


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter_chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()


def choose_encoding(path: Path, head: bytes, progress: Progress | None = None) -> Encoding:
    """Read the whole file once and decide between UTF-8 (maybe with strays) and cp1252.

    UTF-8 with strays is chosen when the file holds at least as many valid
    multi-byte UTF-8 characters as invalid bytes (a cp1252 file almost never
    forms a valid UTF-8 sequence by chance); otherwise every byte is cp1252.
    """
    declared = bom_encoding(head)
    if declared is not None and declared.codec == "utf-16":
        return declared
    tally = StrayTally()
    token = _current_tally.set(tally)
    decoder = codecs.getincrementaldecoder("utf-8")(_HANDLER)
    total = path.stat().st_size
    chars = high_bytes = done = 0
    try:
        with path.open("rb") as handle:
            for chunk in iter_chunks(handle):
                chars += len(decoder.decode(chunk))
                high_bytes += len(chunk) - len(chunk.translate(None, _HIGH_BYTES))
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            chars += len(decoder.decode(b"", final=True))
    finally:
        _current_tally.reset(token)
    if tally.invalid_bytes == 0:
        return declared or UTF8
    ascii_chars = total - high_bytes
    # Every decoded character is ASCII, a valid multi-byte character, or one
    # replacement for a run of invalid bytes.
    multibyte_chars = chars - ascii_chars - tally.runs
    if multibyte_chars >= tally.invalid_bytes:
        label = f"utf-8 (with {tally.invalid_bytes} invalid bytes replaced)"
        codec = "utf-8-sig" if declared is not None else "utf-8"
        return Encoding(label, codec, transcode=True, invalid_bytes=tally.invalid_bytes)
    return Encoding("cp1252", "cp1252", transcode=True)


def transcode_to_utf8(
    source: Path, target: Path, encoding: Encoding, progress: Progress | None = None
) -> tuple[StrayTally, str]:
    """Write ``source`` decoded with ``encoding`` to ``target`` as UTF-8, streaming.

    Bytes the codec cannot read become U+FFFD; the returned tally counts them
    and keeps the line of the first few. Also returns the SHA-256 of ``source``.
    """
    digest = hashlib.sha256()
    tally = StrayTally()
    token = _current_tally.set(tally)
    decoder = codecs.getincrementaldecoder(encoding.codec)(_HANDLER)
    total = source.stat().st_size
    done = 0
    try:
        with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            for chunk in iter_chunks(src):
                digest.update(chunk)
                dst.write(decoder.decode(chunk))
                tally.lines_before_chunk += chunk.count(b"\n")
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            dst.write(decoder.decode(b"", final=True))
    finally:
        _current_tally.reset(token)
    return tally, digest.hexdigest()


def decode_head(head: bytes, encoding: Encoding | None) -> str | None:
    """The text of a file's first bytes, or None when they are not valid in ``encoding``.

    With ``encoding`` None the head is tried as strict UTF-8. A multi-byte
    character cut at the end of the sample is dropped, not counted as invalid.
    """
    codec = encoding.codec if encoding is not None else "utf-8"
    errors = "replace" if encoding is not None else "strict"
    decoder = codecs.getincrementaldecoder(codec)(errors)
    try:
        return str(decoder.decode(head, final=False))
    except UnicodeDecodeError:
        return None
