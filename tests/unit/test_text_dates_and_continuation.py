"""The first date of a text, and rows that continue the record above them."""

from __future__ import annotations

from pathlib import Path

import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import apply_mapping, load_mapping
from openblotter.ingest.read.readers import read_table
from openblotter.ingest.text_dates import first_date

UOF = load_family("use_of_force").schema


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On 3/14/2015 at approximately 1343 hours; charged 9/11/2015", "2015-03-14"),
        ("On Saturday, June 13, 2015 at approximately 1410 hours", "2015-06-13"),
        ("seen on Aug. 5th 2015 near", "2015-08-05"),
        ("logged 2016-01-02T10:00", "2016-01-02"),
        ("badge 2/30/2015 is no date, but 3/1/15 is", "2015-03-01"),
        ("Investigation Pending", None),
        ("", None),
        (None, None),
    ],
)
def test_first_date_in_text(text: str | None, expected: str | None) -> None:
    assert first_date(text) == expected


def _files(tmp_path: Path, csv: str, extra: str = "") -> tuple[Path, Path]:
    data = tmp_path / "ois.csv"
    data.write_text(csv, encoding="utf-8")
    mapping = tmp_path / "ois.toml"
    mapping.write_text(
        'family = "use_of_force"\n[columns]\nrecord_id = "Case"\nincident_id = "Case"\n'
        'incident_date = { date_in_text = "Text" }\nforce_number = "Case"\n'
        'subject_race = "Race"\nsubject_age = "Age"\n'
        '[[people]]\nrole = "subjects"\nfields = ["subject_race", "subject_age"]\n'
        'separator = ","\n' + extra,
        encoding="utf-8",
    )
    return data, mapping


CONTINUED = (
    '[[continuation]]\ncolumn = "Mark"\nvalues = ["Continued"]\nroles = ["subjects"]\n'
    'reason = "a second person"\n'
)


def test_a_continued_row_is_one_more_person_of_the_record_above(tmp_path: Path) -> None:
    data, mapping = _files(
        tmp_path,
        "Case,Mark,Text,Race,Age\n1,,On 1/2/2019 x,B,30\n,Continued,See above,W,\n"
        "2,,no date,A,40\n",
        CONTINUED,
    )
    table = apply_mapping(read_table(data), load_mapping(mapping), UOF)
    assert table.frame.select("record_id", "incident_date", "subjects_involved").rows() == [
        ("1", "2019-01-02", "2"),
        ("2", None, "1"),
    ]
    [subjects] = table.people
    assert subjects.frame.select("record_id", "subject_race", "subject_age").rows() == [
        ("1", "B", "30"),
        ("1", "W", None),
        ("2", "A", "40"),
    ]
    codes = [(p.code, p.row, p.column) for p in table.problems]
    assert ("continuation_attached", 3, "Mark") in codes
    assert ("continuation_cell_ignored", 3, "Text") in codes
    assert ("no_date_in_text", 4, "Text") in codes


def test_a_continuation_with_nothing_above_stops_with_its_row(tmp_path: Path) -> None:
    data, mapping = _files(
        tmp_path, "Case,Mark,Text,Race,Age\n,Continued,x,W,\n1,,On 1/2/2019,B,30\n", CONTINUED
    )
    with pytest.raises(InvalidInput, match="Row 2 is marked 'Continued'"):
        apply_mapping(read_table(data), load_mapping(mapping), UOF)


def test_a_continuation_needs_a_people_role(tmp_path: Path) -> None:
    data, mapping = _files(tmp_path, "Case\n1\n", CONTINUED.replace("subjects", "officers"))
    with pytest.raises(InvalidInput, match="'officers' is not a \\[\\[people\\]\\] role"):
        load_mapping(mapping)
