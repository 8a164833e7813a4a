"""read_table on files written here: encodings, delimiters, quoting, ragged rows, headers, XLSX."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import ValidationReport
from openblotter.ingest.read.readers import RawTable, read_table
from openblotter.ingest.read.xlsx_reader import render


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def codes(table: RawTable) -> dict[str, int]:
    return table.problem_counts


def column(table: RawTable, name: str) -> list[str | None]:
    return table.frame[name].to_list()


# --- encodings -------------------------------------------------------------------------


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = write(tmp_path, "uof.csv", "ID,Subject_Race\n1,Black\n2,Asian\n".encode("utf-8-sig"))
    table = read_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["ID", "Subject_Race"]
    assert column(table, "ID") == ["1", "2"]


def test_cp1252_file_reads_accents_quotes_and_fractions(tmp_path: Path) -> None:
    text = "name,summary\nJosé,Officer’s report: ½ block north\nRenée,“Stop” – he said\n"
    table = read_table(write(tmp_path, "complaints.csv", text.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert column(table, "name") == ["José", "Renée"]
    assert column(table, "summary") == ["Officer’s report: ½ block north", "“Stop” – he said"]
    assert codes(table) == {"encoding_not_utf8": 1}


def test_cp1252_is_found_past_the_first_megabyte(tmp_path: Path) -> None:
    rows = "".join(f"{i},plain ascii text for row {i}\n" for i in range(60_000))
    data = ("id,note\n" + rows + "60000,café\n").encode("cp1252")
    assert len(data) > 2 << 20
    table = read_table(write(tmp_path, "late.csv", data))
    assert table.encoding == "cp1252"
    assert table.frame.height == 60_001
    assert table.frame.row(-1) == ("60000", "café", 60_002)


def test_utf8_with_stray_bytes_keeps_utf8_and_reports_each_stray(tmp_path: Path) -> None:
    good = "id,county\n" + "".join(f"{i},Doña Ana\n" for i in range(40_000))
    data = good.encode("utf-8") + b"40000,Caf\xe9 \x92quoted\x92\n"
    table = read_table(write(tmp_path, "strays.csv", data))
    assert table.encoding == "utf-8 (with 3 invalid bytes replaced)"
    assert column(table, "county")[0] == "Doña Ana"
    assert column(table, "county")[-1] == "Caf\ufffd \ufffdquoted\ufffd"
    assert codes(table)["invalid_bytes"] == 3
    stray = next(p for p in table.problems if p.code == "invalid_bytes")
    assert stray.row == 40_002 and stray.value == "e9"
    assert "40002" in stray.message


def test_mostly_cp1252_with_a_chance_utf8_sequence_is_cp1252(tmp_path: Path) -> None:
    text = "name\n" + "Pe\xf1a\n" * 50  # ñ as cp1252, 50 times
    data = text.encode("latin-1") + "Ã©\n".encode("cp1252")  # C3 A9: valid UTF-8 "é" by chance
    table = read_table(write(tmp_path, "names.csv", data))
    assert table.encoding == "cp1252"
    assert column(table, "name")[0] == "Peña"


def test_utf16_excel_unicode_text_is_read(tmp_path: Path) -> None:
    text = "case\tbias\r\n1\tAnti-Gay\r\n2\tAnti-Black\r\n"
    path = write(tmp_path, "export.txt", text.encode("utf-16"))
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert column(table, "bias") == ["Anti-Gay", "Anti-Black"]


# --- delimiters and quoting --------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_common_delimiter(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    text = (
        f'case{d}location{d}force\n1{d}"100 BLOCK W MAIN ST, NORMAN"{d}Taser\n2{d}"a{d}b"{d}Hands\n'
    )
    table = read_table(write(tmp_path, "t.csv", text.encode()))
    assert table.delimiter == delimiter
    assert table.columns == ["case", "location", "force"]
    assert column(table, "location") == ["100 BLOCK W MAIN ST, NORMAN", f"a{d}b"]


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "eu.csv", b"id;rate;note\n1;3,5;x\n2;4,25;y, z\n"))
    assert table.delimiter == ";"
    assert column(table, "rate") == ["3,5", "4,25"]


def test_quoted_delimiters_newlines_doubled_quotes_and_crlf(tmp_path: Path) -> None:
    data = (
        b"id,summary,finding\r\n"
        b'1,"He said ""stop"", then ran\r\nacross the lot",Sustained\r\n'
        b"2,plain,Unfounded\r\n"
    )
    table = read_table(write(tmp_path, "crlf.csv", data))
    assert column(table, "summary") == ['He said "stop", then ran\r\nacross the lot', "plain"]
    assert column(table, "finding") == ["Sustained", "Unfounded"]
    assert column(table, "__row") == [2, 3]


def test_first_quoted_field_deep_in_the_file_is_read(tmp_path: Path) -> None:
    lines = ["id,name,age"] + [f"{i},Person {i},{i % 80}" for i in range(2, 50_001)]
    lines[41_219 - 1] = '41219,"Smith, John\nJr.",41'  # spreadsheet row 41,219
    table = read_table(write(tmp_path, "deep.csv", ("\n".join(lines) + "\n").encode()))
    assert table.frame.height == 49_999
    row = table.frame.filter(pl.col("id") == "41219")
    assert row.row(0) == ("41219", "Smith, John\nJr.", "41", 41_219)
    assert table.frame.row(-1) == ("50000", "Person 50000", "0", 50_000)
    assert codes(table) == {}


def test_a_quote_inside_an_unquoted_value_is_a_character(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "h.csv", b"name,height\nAl,5'10\"\nBo,6'1\"\n"))
    assert column(table, "height") == ["5'10\"", "6'1\""]


def test_unclosed_quote_is_an_error_with_its_row(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "q.csv", b'a,b,c\n1,2,3\n4,"oops,6\n7,8,9\n'))
    problem = next(p for p in table.problems if p.code == "unclosed_quote")
    assert (problem.row, problem.severity) == (3, "error")
    assert table.frame.height == 2


# --- cells, rows and row numbers -----------------------------------------------------------


def test_values_are_not_trimmed_and_only_empty_cells_are_null(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "v.csv", b'a,b,c\n Yes ,NULL,\n"",-,  \n'))
    assert table.frame.drop("__row").rows() == [(" Yes ", "NULL", None), (None, "-", "  ")]
    assert table.frame.schema == {"a": pl.String, "b": pl.String, "c": pl.String, "__row": pl.Int64}


def test_truncated_last_line_is_padded_and_reported(tmp_path: Path) -> None:
    data = b"state,stop_date,district\r\nRI,2005-01-04,Zone X4\r\nRI,2008-08-07"
    table = read_table(write(tmp_path, "police.csv", data))
    assert table.frame.row(-1) == ("RI", "2008-08-07", None, 3)
    (problem,) = table.problems
    assert (problem.code, problem.row, problem.column) == ("short_row", 3, "district")
    assert "2 of 3 fields" in problem.message


def test_long_row_keeps_the_header_width_and_says_what_was_left_out(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "l.csv", b"a,b\n1,2\n3,4,5,6\n7,8\n"))
    assert table.frame.drop("__row").rows() == [("1", "2"), ("3", "4"), ("7", "8")]
    (problem,) = table.problems
    assert (problem.code, problem.row, problem.value) == ("long_row", 3, "5 | 6")
    assert "4 fields" in problem.message and "first 2 are kept" in problem.message


def test_a_delimiter_at_the_end_of_every_line_loses_nothing(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "t.csv", b"a,b\n1,2,\n3,4,\n"))
    assert table.columns == ["a", "b"]
    assert codes(table) == {"trailing_empty_fields": 1}


def test_rows_all_shorter_than_the_header_are_counted_exactly(tmp_path: Path) -> None:
    data = b"a,b,c\n" + b"1,2\n" * 120
    table = read_table(write(tmp_path, "s.csv", data))
    assert table.frame.height == 120
    assert column(table, "c") == [None] * 120
    assert codes(table) == {"short_row": 120}
    assert len(table.problems) == 50
    report = ValidationReport()
    table.add_problems_to(report)
    assert report.groups["short_row"].count == 120 and report.groups["short_row"].more == 70


def test_blank_rows_are_skipped_reported_and_row_numbers_kept(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "b.csv", b"a,b\n1,2\n\n,\n3,4\n"))
    assert table.frame.rows() == [("1", "2", 2), ("3", "4", 5)]
    assert codes(table) == {"blank_rows_skipped": 2}
    assert [p.row for p in table.problems] == [3, 4]


def test_rows_narrower_than_the_head_suggests_are_reread_at_their_width(tmp_path: Path) -> None:
    # The first 300 rows are header-wide, the next 30,000 one field short: more than
    # the reader handles one by one, so it reads the file again at the common width.
    data = b"a,b,c\n" + b"1,2,3\n" * 300 + b"4,5\n" * 30_000
    table = read_table(write(tmp_path, "o.csv", data))
    assert table.frame.height == 30_300
    assert table.frame.row(299) == ("1", "2", "3", 301)
    assert table.frame.row(300) == ("4", "5", None, 302)
    assert codes(table) == {"short_row": 30_000}


# --- header ------------------------------------------------------------------------------


def test_header_names_are_trimmed_named_and_made_unique(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "h.csv", b" Name ,,ID,id,Name,__row\n1,2,3,4,5,6\n"))
    assert table.columns == ["Name", "column_2", "ID", "id_2", "Name_2", "__row_2"]
    assert codes(table) == {"header_renamed": 4}
    assert all(p.row == 1 for p in table.problems)


def test_values_under_a_missing_header_name_are_kept(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "m.csv", b"case,race\n1,W,2016\n2,B,2017\n"))
    assert table.columns == ["case", "race", "column_3"]
    assert column(table, "column_3") == ["2016", "2017"]
    assert codes(table) == {"header_renamed": 1}


def test_title_rows_above_a_csv_header_are_skipped(tmp_path: Path) -> None:
    data = b"Use of Force Report,,\n\nNAME,AGE,SEX\nAl,30,M\nBo,,F\n"
    table = read_table(write(tmp_path, "t.csv", data))
    assert (table.header_row, table.columns) == (3, ["NAME", "AGE", "SEX"])
    assert column(table, "__row") == [4, 5]
    (problem,) = table.problems
    assert problem.code == "title_rows_skipped" and "Use of Force Report" in problem.message


def test_header_only_file_is_an_empty_table(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "h.csv", b"a,b,c\n"))
    assert table.columns == ["a", "b", "c"] and table.frame.height == 0


def test_single_column_file(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "one.csv", b"name\nAl\nBo\n"))
    assert table.columns == ["name"] and column(table, "name") == ["Al", "Bo"]


SECOND_HEADER = (
    "INCIDENT_DATE,INCIDENT_TIME,UOF_NUMBER,OFFICER_GENDER,LOCATION\n"
    "OCCURRED_D,OCCURRED_T,UOFNum,OffSex,Street Address\n"
) + "".join(f"9/{d}/16,4:14:00 AM,{37700 + d},Male,{d}11 N ERVAY ST\n" for d in range(1, 20))


def test_second_header_row_is_lifted_out(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "dallas.csv", SECOND_HEADER.encode()))
    assert table.second_header == ["OCCURRED_D", "OCCURRED_T", "UOFNum", "OffSex", "Street Address"]
    assert table.frame.height == 19
    assert table.frame.row(0) == ("9/1/16", "4:14:00 AM", "37701", "Male", "111 N ERVAY ST", 3)
    assert codes(table) == {"second_header_row": 1}


@pytest.mark.parametrize(
    "first_row",
    [
        "Atlantic,Absecon City PD,Unknown,White,Male",  # text in the numeric column: data
        "Bergen,Alpine PD,45,White,Male",
        "Camden,Audubon PD,,Black,Female",
    ],
)
def test_an_ordinary_first_row_is_not_a_second_header(tmp_path: Path, first_row: str) -> None:
    rows = [first_row] + [f"Atlantic,Absecon City PD,{30 + i},White,Male" for i in range(30)]
    text = "County,Agency,Age,Race,Gender\n" + "\n".join(rows) + "\n"
    table = read_table(write(tmp_path, "nj.csv", text.encode()))
    assert table.second_header is None
    assert table.frame.height == 31


# --- XLSX --------------------------------------------------------------------------------


def make_workbook(path: Path) -> Path:
    workbook = xlsxwriter.Workbook(path)
    workbook.add_worksheet("Notes")  # empty: the default skips it
    data = workbook.add_worksheet("Incidents")
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    clock = workbook.add_format({"num_format": "hh:mm:ss"})
    data.write(0, 0, "Table 78")
    data.write(1, 0, "TEXAS")
    data.write_row(3, 0, ["incident", "date", "stamp", "time", "victims", "rate", "flag", "note"])
    data.write_row(
        4,
        0,
        [
            "incident_no",
            "occ_date",
            "occ_stamp",
            "occ_time",
            "victim_count",
            "rate_pct",
            "is_flag",
            "note_txt",
        ],
    )
    for i in range(8):
        row = 5 + i
        data.write_string(row, 0, f"2017-24113{i}")
        data.write_datetime(row, 1, dt.datetime(2017, 1, 1 + i), date)
        data.write_datetime(row, 2, dt.datetime(2017, 1, 1 + i, 13, 45), stamp)
        data.write_datetime(row, 3, dt.datetime(1899, 12, 31, 13, 45, 10), clock)
        data.write_number(row, 4, float(i))
        data.write_number(row, 5, 0.1 + 0.2)
        data.write_boolean(row, 6, i % 2 == 0)
        data.write_string(row, 7, "White/Unknown " if i == 0 else "x")
    data.write_string(14, 0, "1 Footnote: figures as reported.")
    other = workbook.add_worksheet("Officers")  # used range starts at C3, not A1
    other.write_row(2, 2, ["badge", "rank"])
    other.write_row(3, 2, [1234, "Sergeant"])
    other.write_row(5, 2, [5678.0, "Officer"])
    workbook.close()
    return path


def test_xlsx_title_rows_types_second_header_and_row_numbers(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "hate_crimes.xlsx")
    table = read_table(path)
    assert (table.format, table.sheet, table.header_row) == ("xlsx", "Incidents", 4)
    assert (table.encoding, table.delimiter) == (None, None)
    assert table.second_header is not None and table.second_header[0] == "incident_no"
    first = table.frame.row(0, named=True)
    assert first == {
        "incident": "2017-241130",
        "date": "2017-01-01",
        "stamp": "2017-01-01T13:45:00",
        "time": "13:45:10",
        "victims": "0",
        "rate": "0.3",
        "flag": "TRUE",
        "note": "White/Unknown ",
        "__row": 6,
    }
    assert table.frame.row(-1)[0] == "1 Footnote: figures as reported."
    assert column(table, "__row")[-1] == 15
    assert codes(table) == {
        "title_rows_skipped": 1,
        "second_header_row": 1,
        "blank_rows_skipped": 1,
    }
    assert next(p.row for p in table.problems if p.code == "blank_rows_skipped") == 14
    assert table.source_checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_xlsx_sheet_is_picked_by_name_and_rows_keep_sheet_numbers(tmp_path: Path) -> None:
    table = read_table(make_workbook(tmp_path / "w.xlsx"), sheet="officers")
    assert (table.sheet, table.header_row, table.columns) == ("Officers", 3, ["badge", "rank"])
    assert table.frame.rows() == [("1234", "Sergeant", 4), ("5678", "Officer", 6)]
    assert table.problem_counts == {"blank_rows_skipped": 1}


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(make_workbook(tmp_path / "w.xlsx"), sheet="Arrests")
    message = caught.value.message
    assert "Arrests" in message and "'Notes', 'Incidents', 'Officers'" in message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2694.0, "2694"),
        (1e20, "100000000000000000000"),
        (-2.5e-07, "-0.00000025"),
        (0.1 + 0.2, "0.3"),
        (3, "3"),
        (False, "FALSE"),
        ("", None),
        (dt.date(2017, 1, 1), "2017-01-01"),
        (dt.datetime(2017, 1, 1), "2017-01-01"),
        (dt.datetime(2017, 1, 1, 13, 45), "2017-01-01T13:45:00"),
        (dt.time(7, 5), "07:05:00"),
        (dt.timedelta(hours=26, minutes=3), "26:03:00"),
    ],
)
def test_cells_render_as_a_person_reads_them(value: object, text: str | None) -> None:
    assert render(value) == text  # type: ignore[arg-type]


# --- files that cannot be read, checksum, progress ------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n \n", "no header row"),
        ("report.csv", b"%PDF-1.7\n...", "PDF"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        ("data.bin", b"\x00\x01\x02\x03binary\x00", "binary"),
    ],
)
def test_unreadable_files_say_what_is_wrong(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_table(write(tmp_path, name, data))
    assert says in caught.value.message and name in caught.value.message


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InvalidInput, match="zip archive"):
        read_table(path)


def test_missing_file_and_sheet_for_a_csv(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="no sheets"):
        read_table(write(tmp_path, "a.csv", b"a,b\n1,2\n"), sheet="Sheet1")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_checksum_is_of_the_source_bytes(tmp_path: Path, encoding: str) -> None:
    data = "name\nJosé\n".encode(encoding)
    table = read_table(write(tmp_path, "c.csv", data))
    assert table.source_checksum == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_progress_rises_a_few_times_to_the_total(tmp_path: Path, encoding: str) -> None:
    data = ("id,note\n" + "".join(f"{i},café row {i}\n" for i in range(400_000))).encode(encoding)
    path = write(tmp_path, "big.csv", data)
    calls: list[tuple[int, int]] = []
    read_table(path, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert 3 <= len(calls) <= 60
    assert done == sorted(done)
    assert calls[-1] == (len(data), len(data))
    assert {total for _, total in calls} == {len(data)}
