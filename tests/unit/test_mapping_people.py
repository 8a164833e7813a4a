"""People packed in cells ([[people]]), rows to skip ([[skip]]) and yes/no flag columns."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import apply_mapping, load_mapping, mapping_from_dict
from openblotter.ingest.read.readers import RawTable, read_table

UOF = load_family("use_of_force").schema


def _csv(folder: Path, text: str) -> RawTable:
    path = folder / "f.csv"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return read_table(path)


def _mapping(folder: Path, text: str):
    path = folder / "m.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path)


PEOPLE = """
    family = "use_of_force"
    [columns]
    record_id = "Case"
    incident_id = "Case"
    incident_date = "Date"
    force_detail = "Force"
    officer_race = "Officer Race"
    officer_sex = "Officer Sex"
    officer_age = "Officer Age"
    subject_race = "Subject Race"
    subject_sex = "Subject Sex"
    [[people]]
    role = "officers"
    fields = ["officer_race", "officer_sex", "officer_age"]
    separator = "|"
    [[people]]
    role = "subjects"
    fields = ["subject_race", "subject_sex"]
    separator = "|"
    [[explode]]
    fields = ["force_detail"]
    separator = "|"
    number = "force_number"
"""

# The layout of the issue's use-of-force export: every field a " | " list.
ISSUE_FILE = """
    Case,Date,Force,Officer Race,Officer Sex,Officer Age,Subject Race,Subject Sex
    U1,2019-01-02,Firearm (Exhibited) | Hands,White | Black,Male | Female,32 | ,White,Male
    U2,2019-01-03,Hands,,Male,41,Black | White,Female | Male
    U3,2019-01-04,Taser,White | White | Black,Male | Male,25 | 30 | 35,,
"""


def test_the_issue_layout_publishes_people_as_people(tmp_path: Path) -> None:
    table = apply_mapping(_csv(tmp_path, ISSUE_FILE), _mapping(tmp_path, PEOPLE), UOF)
    officers, subjects = table.people
    assert (officers.family, subjects.family) == ("use_of_force_officers", "use_of_force_subjects")
    assert officers.frame.select(
        "record_id", "officer_number", "officer_race", "officer_sex", "officer_age"
    ).rows() == [
        ("U1", "1", "White", "Male", "32"),
        # the blank position stays blank: the first officer's age is not given to the second
        ("U1", "2", "Black", "Female", None),
        # a blank cell says nothing: blank, not Unknown, and not reported
        ("U2", "1", None, "Male", "41"),
        # two sexes for three officers cannot be lined up: blank for all three, reported
        ("U3", "1", "White", None, "25"),
        ("U3", "2", "White", None, "30"),
        ("U3", "3", "Black", None, "35"),
    ]
    assert subjects.frame.select("record_id", "subject_number", "subject_race").rows() == [
        ("U1", "1", "White"),
        ("U2", "1", "Black"),
        ("U2", "2", "White"),
    ]
    # the incident table: one row per type of force, the people counted, never paired
    assert table.frame.select(
        "record_id", "force_number", "force_detail", "officers_involved", "subjects_involved"
    ).rows() == [
        ("U1", "1", "Firearm (Exhibited)", "2", "1"),
        ("U1", "2", "Hands", "2", "1"),
        ("U2", "1", "Hands", "1", "2"),
        ("U3", "1", "Taser", "3", "0"),
    ]
    assert "officer_race" not in table.frame.columns
    assert "officer_race" not in table.schema.field_names
    assert "subject_age" not in subjects.schema.field_names  # the file has no subject age
    problems = [(p.code, p.row, p.column, p.value) for p in table.problems]
    assert ("people_list_length", 4, "officer_sex", "Male | Male") in problems
    assert ("people_blank_position", 2, "officer_age", "32 |") in problems
    [length] = [p for p in table.problems if p.code == "people_list_length"]
    assert "2 value(s) for 3 officers" in length.message
    assert "not paired by position" in length.message


def test_a_count_column_and_lists_cut_at_the_end(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path,
        """
        Case,Date,N,Race,Sex
        A,2019-01-01,3,W;B,M;F;M
        B,2019-01-01,0,U,U
        C,2019-01-01,two,W;W,M;M
        D,2019-01-01,2,W;B;,M;F
        """,
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        officer_race = "Race"
        officer_sex = "Sex"
        [[people]]
        role = "officers"
        fields = ["officer_race", "officer_sex"]
        separator = ";"
        count = "N"
        cut_at_end = true
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    [officers] = table.people
    assert officers.frame.select("record_id", "officer_race", "officer_sex").rows() == [
        ("A", "W", "M"),
        ("A", "B", "F"),
        ("A", None, "M"),  # the race list was cut: the third officer's race is blank
        ("C", "W", "M"),
        ("C", "W", "M"),
        # three positions for two officers: not cut (longer), so blank for both
        ("D", None, "M"),
        ("D", None, "F"),
    ]
    assert table.frame["officers_involved"].to_list() == ["3", "0", "2", "2"]
    codes = {(p.code, p.row, p.column) for p in table.problems}
    assert codes >= {
        ("people_list_length", 2, "officer_race"),
        ("people_list_length", 3, "officer_race"),  # the file says 0 officers but lists U
        ("people_count_differs", 3, "N"),
        ("people_count_differs", 4, "N"),  # "two" is not a number: the lists decide
        ("people_list_length", 5, "officer_race"),
    }


def test_several_separators_and_separators_at_the_ends(tmp_path: Path) -> None:
    raw = _csv(tmp_path, 'Case,Date,Race,Sex\nA,2019-01-01,"W, B; A",M|F|M\nB,2019-01-01,;,;\n')
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        subject_race = "Race"
        subject_sex = "Sex"
        [[people]]
        role = "subjects"
        fields = ["subject_race", "subject_sex"]
        separator = [",", ";", "|"]
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    [subjects] = table.people
    assert subjects.frame.select("subject_race", "subject_sex").rows() == [
        ("W", "M"),
        ("B", "F"),
        ("A", "M"),
    ]
    # a cell of separators only holds nobody
    assert table.frame["subjects_involved"].to_list() == ["3", "0"]


def test_a_packed_value_left_in_a_coded_field_is_reported(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "Case,Date,Race\nA,2019-01-01,White | Black\nB,2019-01-01,White\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        force_number = "Case"
        subject_race = "Race"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    [packed] = [p for p in table.problems if p.code == "packed_value"]
    assert (packed.row, packed.column, packed.value) == (2, "subject_race", "White | Black")
    # an error (the publish stops) that says what to write in the mapping
    assert packed.severity == "error"
    assert "[[people]]" in packed.message and "[[explode]]" in packed.message
    # and never a value: the cell is blank in what the mapping hands on
    assert table.frame["subject_race"].to_list() == [None, "White"]


def test_declared_lists_and_exploded_combined_lists_leave_no_packed_value(
    tmp_path: Path,
) -> None:
    raw = _csv(
        tmp_path,
        "Case,Date,Why,Cat1,Cat2\nA,2019-01-01,Probable Cause| Warrant |,X;Y,Z\nB,2019-01-01,,W,\n",
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        reason_for_force = "Why"
        force_detail = { combine = ["Cat1", "Cat2"] }
        [lists]
        reason_for_force = "|"
        [[explode]]
        fields = ["force_detail"]
        separator = ";"
        number = "force_number"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert not [p for p in table.problems if p.code == "packed_value"]
    rows = table.frame.select("record_id", "force_number", "force_detail", "reason_for_force")
    assert rows.rows() == [
        ("A", "1", "X", "Probable Cause, Warrant"),
        ("A", "2", "Y", "Probable Cause, Warrant"),
        ("A", "3", "Z", "Probable Cause, Warrant"),
        ("B", "1", "W", None),
    ]


def test_skip_rows_and_yes_no_flags(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path,
        """
        Case,Date,Taser,K9
        A,2019-01-01,Yes,No
        Case,,Taser,K9
        2019 - Q3,,,
        B,2019-01-01, yes ,Y
        C,2019-01-01,No,
        """,
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        force_detail = { flags = ["Taser", "K9"] }
        [[skip]]
        column = "Case"
        values = ["Case"]
        reason = "repeated header"
        [[skip]]
        column = "Case"
        matches = '\\d{4} - Q[1-4]'
        [[explode]]
        fields = ["force_detail"]
        number = "force_number"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert table.frame.select("record_id", "force_number", "force_detail").rows() == [
        ("A", "1", "Taser"),
        ("B", "1", "Taser"),
        ("B", "2", "K9"),
        ("C", "1", None),
    ]
    skipped = [(p.row, p.value, p.message) for p in table.problems if p.code == "rows_skipped"]
    assert [(row, value) for row, value, _ in skipped] == [(3, "Case"), (4, "2019 - Q3")]
    assert "repeated header" in skipped[0][2]


@pytest.mark.parametrize(
    ("people", "message"),
    [
        ({"role": "witnesses", "fields": ["officer_race"], "separator": ";"}, "witnesses"),
        ({"role": "officers", "fields": ["subject_race"], "separator": ";"}, "subject_race"),
        ({"role": "officers", "fields": ["officer_sex"], "separator": ";"}, "fill officer_sex"),
        ({"role": "officers", "fields": ["officer_race"]}, "'separator'"),
    ],
)
def test_people_entries_are_checked(people: dict, message: str) -> None:
    data = {
        "family": "use_of_force",
        "columns": {"officer_race": "R", "subject_race": "S"},
        "people": [people],
    }
    with pytest.raises(InvalidInput) as caught:
        mapping_from_dict(data)
    assert message in caught.value.message


# -- property: whatever the separators and blanks, each person's values stay together ----


@dataclass
class _Raw:
    frame: pl.DataFrame
    source_name: str = "generated.csv"


_VALUE = st.one_of(st.none(), st.text(alphabet="ABCDWMF0123456789 ", min_size=1, max_size=6))
_PERSON = st.tuples(_VALUE, _VALUE, _VALUE)
#: Separators an export may mix, even inside one cell (with or without spaces around).
_SEPARATORS = [";", "|", ",", "/"]
_SEPARATOR = st.sampled_from([";", "|", " | ", ",", ", ", "/", " /"])


def _cell(values: list[str | None], separators: list[str], pad: str) -> str:
    text = ""
    for position, value in enumerate(values):
        if position:
            text += separators[position % len(separators)]
        text += value or ""
    return pad + text + pad


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    incidents=st.lists(st.lists(_PERSON, max_size=5), min_size=1, max_size=8),
    separators=st.lists(_SEPARATOR, min_size=1, max_size=3),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_every_persons_values_stay_together(
    incidents: list[list[tuple[str | None, str | None, str | None]]],
    separators: list[str],
    pad: str,
) -> None:
    """Random people, random blanks, separators mixed within a cell: the n-th person's race,
    sex and unit come out together on the n-th row, and nobody is lost or added."""
    mapping = mapping_from_dict(
        {
            "family": "use_of_force",
            "columns": {
                "record_id": "Case",
                "incident_id": "Case",
                "incident_date": "Date",
                "officer_race": "Race",
                "officer_sex": "Sex",
                "officer_unit": "Unit",
            },
            "people": [
                {
                    "role": "officers",
                    "fields": ["officer_race", "officer_sex", "officer_unit"],
                    "separator": _SEPARATORS,
                    "count": "N",
                }
            ],
            "sentinel_dates": [],
        }
    )
    columns: dict[str, list] = {k: [] for k in ("Case", "Date", "N", "Race", "Sex", "Unit")}
    for i, people in enumerate(incidents):
        columns["Case"].append(f"C{i}")
        columns["Date"].append("2020-01-01")
        columns["N"].append(str(len(people)))
        for position, name in enumerate(("Race", "Sex", "Unit")):
            values = [p[position] for p in people]
            columns[name].append(_cell(values, separators, pad))
    frame = pl.DataFrame(columns).with_columns(
        pl.Series("__row", range(2, len(incidents) + 2), dtype=pl.Int64)
    )
    table = apply_mapping(_Raw(frame), mapping, UOF)
    [officers] = table.people
    got = officers.frame.select(
        "record_id", "officer_number", "officer_race", "officer_sex", "officer_unit"
    ).rows()

    def clean(value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    expected = [
        (f"C{i}", str(n), clean(race), clean(sex), clean(unit))
        for i, people in enumerate(incidents)
        for n, (race, sex, unit) in enumerate(people, start=1)
    ]
    assert got == expected
    assert not [p for p in table.problems if p.code == "people_list_length"]


_CELL = st.one_of(st.none(), st.text(alphabet="WB;| ,", max_size=12))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["0", "1", "2", "5", "x", "-1", "99999"])),
            _CELL,
            _CELL,
        ),
        min_size=1,
        max_size=10,
    ),
    cut=st.booleans(),
)
def test_any_cells_and_counts_give_a_table_and_a_report_never_a_crash(
    rows: list[tuple[str | None, str | None, str | None]], cut: bool
) -> None:
    mapping = mapping_from_dict(
        {
            "family": "use_of_force",
            "columns": {"record_id": "Case", "officer_race": "Race", "officer_sex": "Sex"},
            "people": [
                {
                    "role": "officers",
                    "fields": ["officer_race", "officer_sex"],
                    "separator": [";", "|", ","],
                    "count": "N",
                    "cut_at_end": cut,
                }
            ],
        }
    )
    frame = pl.DataFrame(
        {
            "Case": [f"C{i}" for i in range(len(rows))],
            "N": [r[0] for r in rows],
            "Race": [r[1] for r in rows],
            "Sex": [r[2] for r in rows],
        },
        schema={c: pl.String for c in ("Case", "N", "Race", "Sex")},
    ).with_columns(pl.Series("__row", range(2, len(rows) + 2), dtype=pl.Int64))
    table = apply_mapping(_Raw(frame), mapping, UOF)
    [officers] = table.people
    involved = [int(n) for n in table.frame["officers_involved"]]
    assert officers.frame.height == sum(involved)
    assert all(n >= 0 for n in involved)
    for (count, _, _), n in zip(rows, involved, strict=True):
        if count is not None and count.lstrip("-").isdigit() and int(count) <= 1000:
            assert n == max(int(count), 0)
    # each incident's officers are numbered 1..n in order, nobody duplicated
    numbers = officers.frame.group_by("record_id", maintain_order=True).agg("officer_number")
    for numbered in numbers["officer_number"]:
        assert numbered.to_list() == [str(i) for i in range(1, len(numbered) + 1)]


def test_explode_groups_with_a_blank_field_no_longer_crash(tmp_path: Path) -> None:
    """The issue's ShapeError (exit 70): a field of an explode group blank while another is
    not, and officers and subjects as two groups. Explode still pairs by position where a
    mapping asks it to; [[people]] is the way not to."""
    raw = _csv(
        tmp_path,
        """
        Case,Date,Officer Race,Officer Age,Subject Race
        A,2019-01-01,White | Black,32 | ,White
        B,2019-01-01,White | Black,,Black | White
        """,
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        officer_race = "Officer Race"
        officer_age = "Officer Age"
        subject_race = "Subject Race"
        [[explode]]
        fields = ["officer_race", "officer_age"]
        separator = "|"
        number = "force_number"
        [[explode]]
        fields = ["subject_race"]
        separator = "|"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert table.frame.select(
        "record_id", "officer_race", "officer_age", "subject_race"
    ).rows() == [
        ("A", "White", "32", "White"),
        ("A", "Black", None, "White"),  # the blank position is not filled with 32
        ("B", "White", None, "Black"),
        ("B", "White", None, "White"),
        ("B", "Black", None, "Black"),
        ("B", "Black", None, "White"),
    ]


def test_a_copy_of_a_persons_field_stays_with_that_person(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "Case,Date,Age\nA,2019-01-01,34 | 17\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        subject_age = "Age"
        subject_age_group = { copy = "subject_age" }
        [[people]]
        role = "subjects"
        fields = ["subject_age"]
        separator = "|"
        [values.subject_age_group]
        "34" = "25-34"
        "17" = "Under 18"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    [subjects] = table.people
    assert subjects.frame.select("subject_age", "subject_age_group").rows() == [
        ("34", "25-34"),
        ("17", "Under 18"),
    ]
    assert "subject_age_group" not in table.schema.field_names


def test_a_field_in_both_people_and_explode_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        mapping_from_dict(
            {
                "family": "use_of_force",
                "columns": {"officer_race": "R"},
                "people": [{"role": "officers", "fields": ["officer_race"], "separator": ";"}],
                "explode": [{"fields": ["officer_race"], "separator": ";"}],
            }
        )
    assert "both [[people]] and [[explode]]" in caught.value.message


def test_a_file_without_packed_people_does_not_get_empty_people_counts(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "Case,Date,Race\nA,2019-01-01,W\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        incident_date = "Date"
        force_number = "Case"
        subject_race = "Race"
        """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert "officers_involved" not in table.schema.field_names
    assert "subjects_involved" not in table.schema.field_names
    assert "subject_race" in table.schema.field_names  # one person per row: stays
