"""Hostile workbooks are refused before calamine allocates for them (issue 17).

Each bomb is read in a fresh subprocess that reports its peak memory: every
refusal must come with a clear message and under 500 MB of RSS. Before the
guard, the dimension bomb aborted the process (a 512 GiB allocation), the
row bomb passed 5 GB and the long cell 6 GB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.read.readers import read_table
from openblotter.ingest.read.xlsx_guard import XlsxLimits, check_workbook

SHEET = "xl/worksheets/sheet1.xml"
MAX_RSS_MB = 500

_READ = """
import json, sys
from openblotter.domain.errors import InvalidInput
from openblotter.ingest.read.readers import read_table
try:
    read_table(sys.argv[1])
    outcome = {"refused": False}
except InvalidInput as error:
    outcome = {"refused": True, "message": error.message, "detail": error.detail}
# VmHWM, not ru_maxrss: ru_maxrss is inherited from the (large) parent across fork and exec.
status = open("/proc/self/status").read()
outcome["rss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(outcome))
"""


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["case_number", "offense"])
    sheet.append(["2024-0001", "Theft"])
    book.save(path)
    return path


def _replace_part(path: Path, name: str, write: object) -> Path:
    """Copy the workbook with part ``name`` written by ``write(handle)`` instead."""
    source = path.with_suffix(".orig.xlsx")
    path.rename(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if item.filename == name:
                with new.open(name, "w", force_zip64=True) as handle:
                    write(handle)  # type: ignore[operator]
            else:
                new.writestr(item, old.read(item))
    source.unlink()
    return path


def _sheet_xml(rows: str, dimension: str = "A1:B2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


_HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>case_number</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>offense</t></is></c></row>'
)


def dimension_bomb(path: Path) -> Path:
    """A few KB: a used range of every cell Excel allows, with one far cell."""
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    body = _sheet_xml(_HEADER + far, "A1:XFD1048576")
    return _replace_part(_workbook(path), SHEET, lambda h: h.write(body))


def row_bomb(path: Path, rows: int = 3_000_000) -> Path:
    """Millions of small rows without references, a few MB compressed."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>' * 1000

    def write(handle: object) -> None:
        head, tail = _sheet_xml("@").split(b"@")
        handle.write(head)  # type: ignore[attr-defined]
        for _ in range(rows // 1000):
            handle.write(row)  # type: ignore[attr-defined]
        handle.write(tail)  # type: ignore[attr-defined]

    return _replace_part(_workbook(path), SHEET, write)


def long_cell(path: Path, size: int = 1 << 30) -> Path:
    """One cell of ``size`` bytes of text: about 1 MB compressed."""
    block = b"A" * (1 << 20)

    def write(handle: object) -> None:
        head, tail = _sheet_xml(_HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>@').split(b"@")
        handle.write(head)  # type: ignore[attr-defined]
        for _ in range(size // len(block)):
            handle.write(block)  # type: ignore[attr-defined]
        handle.write(b"</t></is></c></row>" + tail.split(b"@")[-1])  # type: ignore[attr-defined]

    return _replace_part(_workbook(path), SHEET, write)


def entity_bomb(path: Path) -> Path:
    """Billion laughs in the sheet."""
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )
    body = _sheet_xml(_HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>&j;</t></is></c></row>')
    body = body.replace(b"<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet".encode(), 1)
    return _replace_part(_workbook(path), SHEET, lambda h: h.write(body))


def lying_sizes(path: Path) -> Path:
    """A part whose headers claim 4 bytes while it unpacks to 64 MB."""
    path = _workbook(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b"<a/>" * (16 << 20))
    raw = bytearray(path.read_bytes())
    name = b"xl/padding.xml"
    local = raw.index(b"PK\x03\x04" + raw[4:4], 0)  # first local header
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = local
        while (at := raw.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(name)] == name:
                raw[at + size_at : at + size_at + 4] = (4).to_bytes(4, "little")
                break
            at += 4
    path.write_bytes(bytes(raw))
    return path


def _read_in_subprocess(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _READ, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("make", "limit"),
    [
        (dimension_bomb, "cells"),
        (row_bomb, "rows"),
        (long_cell, "characters in a cell"),
    ],
)
def test_bombs_are_refused_in_bounded_memory(tmp_path: Path, make: object, limit: str) -> None:
    path = make(tmp_path / "export.xlsx")  # type: ignore[operator]
    assert path.stat().st_size < 8 << 20
    outcome = _read_in_subprocess(path)
    assert outcome["refused"], outcome
    assert outcome["detail"]["limit"] == limit  # type: ignore[index]
    assert "export.xlsx is refused" in str(outcome["message"])
    assert "CSV" in str(outcome["message"])
    assert float(outcome["rss_mb"]) < MAX_RSS_MB  # type: ignore[arg-type]


def test_the_dimension_bomb_is_tiny(tmp_path: Path) -> None:
    assert dimension_bomb(tmp_path / "export.xlsx").stat().st_size < 8_000


def test_entities_are_refused(tmp_path: Path) -> None:
    path = entity_bomb(tmp_path / "export.xlsx")
    with pytest.raises(InvalidInput, match="declares XML entities") as refused:
        read_table(path)
    assert refused.value.detail["part"] == SHEET


def test_uncompressed_size_is_counted_not_believed(tmp_path: Path) -> None:
    path = lying_sizes(tmp_path / "export.xlsx")
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/padding.xml").file_size == 4
    with pytest.raises(InvalidInput) as refused:
        check_workbook(path, XlsxLimits(max_uncompressed_bytes=32 << 20))
    assert refused.value.detail["limit"] == "uncompressed bytes"


def test_limits_come_from_settings(tmp_path: Path) -> None:
    from tests.factories import make_portal

    portal = make_portal(tmp_path / "data", xlsx_max_cells=3)
    from openblotter.services.publishing import PublishRequest, publish

    path = _workbook(tmp_path / "export.xlsx")
    with pytest.raises(InvalidInput) as refused:
        publish(portal, PublishRequest(path=path, dataset_id="offenses", label="2024-Q1"))
    assert refused.value.detail == {"file": "export.xlsx", "limit": "cells", "allowed": 3}


def test_ordinary_workbooks_still_read(tmp_path: Path) -> None:
    table = read_table(_workbook(tmp_path / "export.xlsx"))
    assert table.frame.height == 1
    check_workbook(tmp_path / "export.xlsx", XlsxLimits(max_cells=4))
