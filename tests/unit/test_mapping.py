"""Mapping files: each rule on small files written here, read the way a publish reads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import (
    apply_mapping,
    bundled_mapping,
    bundled_mappings,
    load_mapping,
    related_paths,
)
from openblotter.ingest.read.readers import RawTable, read_table

UOF = load_family("use_of_force").schema
CONTACTS = load_family("contacts").schema
COMPLAINTS = load_family("complaints").schema


def _csv(folder: Path, name: str, text: str) -> RawTable:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return read_table(path)


def _mapping(folder: Path, text: str, name: str = "m.toml"):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path)


def _rows(table, *fields: str) -> list[tuple]:
    return table.frame.select(*fields).rows()


def test_renames_with_alternative_names_across_a_layout_change(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = ["ID", "Record Number"]
        incident_id = "Case"
        subject_race = ["Race", "CitRace"]
        [constants]
        force_number = "1"
        agency = "Test PD"
    """,
    )
    old = _csv(tmp_path, "2016.csv", "ID,Case,CitRace,Extra\n1,A,B,x\n")
    new = _csv(tmp_path, "2017.csv", "record number,Case,Race\n2,B,W\n")
    for raw, expected in ((old, ("1", "A", "B")), (new, ("2", "B", "W"))):
        table = apply_mapping(raw, mapping, UOF)
        assert _rows(table, "record_id", "incident_id", "subject_race") == [expected]
        assert table.frame["agency"].to_list() == ["Test PD"]
        assert table.frame.schema == {
            **{c: pl.String for c in table.frame.columns[:-1]},
            "__row": pl.Int64,
        }
    assert apply_mapping(old, mapping, UOF).dropped_source_columns == ["Extra"]


def test_combined_columns_explode_together_with_a_number(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path,
        "f.csv",
        """
        Case,Force1,Force2,Force3,Effective
        A,Taser,Held Down,,"Yes, No"
        B,Verbal,,,Yes
        C,,,,
        D,OC Spray,Baton,Kick,Limited
    """,
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = "Case"
        force_detail = { combine = ["Force1", "Force2", "Force3"] }
        force_effective = "Effective"
        [[explode]]
        fields = ["force_detail", "force_effective"]
        separator = ","
        number = "force_number"
    """,
    )
    table = apply_mapping(raw, mapping, UOF)
    fields = ("record_id", "force_number", "force_detail", "force_effective", "__row")
    assert _rows(table, *fields) == [
        ("A", "1", "Taser", "Yes", 2),
        ("A", "2", "Held Down", "No", 2),
        ("B", "1", "Verbal", "Yes", 3),
        ("C", "1", None, None, 4),
        # a single item is repeated on every row of its source row
        ("D", "1", "OC Spray", "Limited", 5),
        ("D", "2", "Baton", "Limited", 5),
        ("D", "3", "Kick", "Limited", 5),
    ]
    assert table.problems == []


def test_uneven_lists_are_padded_and_reported(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path, "f.csv", 'Case,Force,Effective\nA,"Taser; Baton; Kick","Yes; No"\nB,Taser,Yes\n'
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        force_detail = "Force"
        force_effective = "Effective"
        [[explode]]
        fields = ["force_detail", "force_effective"]
        separator = ";"
    """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert _rows(table, "force_detail", "force_effective") == [
        ("Taser", "Yes"),
        ("Baton", "No"),
        ("Kick", None),
        ("Taser", "Yes"),
    ]
    [problem] = table.problems
    assert (problem.code, problem.row, problem.severity) == ("explode_mismatch", 2, "warning")


def test_two_groups_explode_into_every_combination(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "h.csv", "Case,Sex,Bias\n1,Male | Male,Anti-Gay; Anti-Transgender\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "contacts"
        [columns]
        record_id = "Case"
        subject_sex = "Sex"
        bias_motivation = "Bias"
        [[explode]]
        fields = ["subject_sex"]
        separator = "|"
        [[explode]]
        fields = ["bias_motivation"]
        separator = ";"
    """,
    )
    table = apply_mapping(raw, mapping, CONTACTS)
    assert _rows(table, "subject_sex", "bias_motivation") == [
        ("Male", "Anti-Gay"),
        ("Male", "Anti-Transgender"),
        ("Male", "Anti-Gay"),
        ("Male", "Anti-Transgender"),
    ]
    assert set(table.frame["__row"]) == {2}


def test_value_maps_copies_and_constants(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path, "f.csv", "Case,Force,Race\nA,  bd - grabbed ,American Ind\nB,Taser,Klingon\n"
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        force_detail = "Force"
        force_type = { copy = "force_detail" }
        subject_race = "Race"
        [values.force_type]
        "BD - Grabbed" = "Physical control hold or technique"
        [values.subject_race]
        "American Ind" = "American Indian or Alaska Native"
    """,
    )
    table = apply_mapping(raw, mapping, UOF)
    assert _rows(table, "force_detail", "force_type", "subject_race") == [
        ("bd - grabbed", "Physical control hold or technique", "American Indian or Alaska Native"),
        # unmapped values pass through unchanged for validation to report
        ("Taser", "Taser", "Klingon"),
    ]


def test_date_and_time_formats(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path,
        "t.csv",
        """
        Case,Date,Time,Clock,Stamp
        A,1/7/2010 0:00,4:14:00 PM,800,06/07/2014 12:09:00 AM
        B,3/22/16,16:14:00,0,06/07/2014 11:09:00 PM
        C,someday,21:08:00.0000000,2000,
    """,
    )
    mapping = _mapping(
        tmp_path,
        """
        family = "contacts"
        [columns]
        record_id = "Case"
        incident_date = "Date"
        incident_time = "Time"
        case_number = "Clock"
        contact_id = "Stamp"
        [formats]
        incident_date = ["%m/%d/%Y %H:%M", "%m/%d/%y"]
        incident_time = ["%I:%M:%S %p", "%H:%M:%S%.f"]
    """,
    )
    table = apply_mapping(raw, mapping, CONTACTS)
    assert _rows(table, "incident_date", "incident_time") == [
        ("2010-01-07", "16:14:00"),
        ("2016-03-22", "16:14:00"),
        ("someday", "21:08:00"),
    ]
    clock = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_time = "Clock"
        incident_date = "Stamp"
        [formats]
        incident_time = ["hhmm"]
        incident_date = ["%m/%d/%Y %I:%M:%S %p"]
    """,
        name="clock.toml",
    )
    table = apply_mapping(raw, clock, UOF)
    assert _rows(table, "incident_time", "incident_date") == [
        ("08:00:00", "2014-06-07"),
        ("00:00:00", "2014-06-07"),
        ("20:00:00", None),
    ]


def test_keys_from_parts_row_numbers_where_and_trim(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "d.csv", "Case,Code,County\n 201,1316-0 ,Cleveland\n202,5309-0,Tulsa\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "contacts"
        [where]
        County = ["Cleveland"]
        [columns]
        contact_id = { concat = ["Case", "Code"], separator = "-" }
        record_id = { row_number = true, prefix = "X-" }
        offense_code = { combine = ["Code", "Case"], separator = " / " }
    """,
    )
    table = apply_mapping(raw, mapping, CONTACTS)
    assert _rows(table, "contact_id", "record_id", "offense_code") == [
        ("201-1316-0", "X-2", "1316-0 / 201")
    ]
    assert [p.code for p in table.problems] == ["rows_selected"]
    assert table.dropped_source_columns == ["County"]


def test_joins_give_every_allegation_for_every_complainant(tmp_path: Path) -> None:
    main = _csv(tmp_path, "complaints.csv", "id,received\nC1,1/7/13\nC2,1/8/13\nC3,1/9/13\n")
    allegations = _csv(
        tmp_path,
        "allegations.csv",
        "id,allegation,finding\n"
        "C1,Physical Abuse,Sustained Finding\nC1,Lack of Service,Pending\n"
        "C2,Verbal Abuse,Exonerated\nC9,Orphan,Pending\n",
    )
    people = _csv(tmp_path, "people.csv", "id,race\nC1,black\nC1,white\nC3,latino\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "complaints"
        [columns]
        complaint_id = "id"
        received_date = "received"
        [formats]
        received_date = ["%m/%d/%y"]
        [[join]]
        name = "allegations"
        files = ["allegations.csv"]
        on = ["complaint_id"]
        number = "allegation_number"
        [join.columns]
        complaint_id = "id"
        allegation = "allegation"
        finding = "finding"
        [[join]]
        name = "people"
        files = ["peo*.csv"]
        on = ["complaint_id"]
        number = "complainant_number"
        [join.columns]
        complaint_id = "id"
        subject_race = "race"
    """,
    )
    paths = related_paths(mapping, tmp_path / "complaints.csv")
    assert {k: p.name for k, p in paths.items()} == {
        "allegations": "allegations.csv",
        "people": "people.csv",
    }
    table = apply_mapping(
        main, mapping, COMPLAINTS, related={"allegations": allegations, "people": people}
    )
    assert _rows(
        table,
        "complaint_id",
        "allegation_number",
        "complainant_number",
        "allegation",
        "subject_race",
        "received_date",
    ) == [
        ("C1", "1", "1", "Physical Abuse", "black", "2013-01-07"),
        ("C1", "1", "2", "Physical Abuse", "white", "2013-01-07"),
        ("C1", "2", "1", "Lack of Service", "black", "2013-01-07"),
        ("C1", "2", "2", "Lack of Service", "white", "2013-01-07"),
        ("C2", "1", "0", "Verbal Abuse", None, "2013-01-08"),
        ("C3", "0", "1", None, "latino", "2013-01-09"),
    ]
    [unmatched] = table.problems
    assert (unmatched.code, unmatched.value) == ("related_rows_unmatched", "C9")
    with pytest.raises(InvalidInput, match="related file 'allegations'"):
        apply_mapping(main, mapping, COMPLAINTS)


def test_unpivot_turns_columns_into_rows(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "acs.csv", "Id,TotalPop,Men,White\n40027,274024,136970,72.8\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "community_demographics"
        [columns]
        geography_id = "Id"
        [constants]
        year = "2017"
        source = "ACS"
        [[unpivot]]
        column = "TotalPop"
        value_field = "population"
        [[unpivot]]
        column = "Men"
        value_field = "population"
        set = { sex = "Male" }
        [[unpivot]]
        column = "White"
        value_field = "percent"
        set = { race = "White" }
    """,
    )
    table = apply_mapping(raw, mapping, load_family("community_demographics").schema)
    assert _rows(table, "geography_id", "sex", "race", "population", "percent") == [
        ("40027", None, None, "274024", None),
        ("40027", "Male", None, "136970", None),
        ("40027", None, "White", None, "72.8"),
    ]
    assert table.dropped_source_columns == []


def test_without_a_mapping_the_columns_are_the_fields(tmp_path: Path) -> None:
    raw = _csv(
        tmp_path,
        "own.csv",
        "Record ID,incident_id,FORCE_NUMBER,subject_race,Notes\n1,A,1,B,hello\n",
    )
    table = apply_mapping(raw, None, UOF)
    assert table.frame.columns == [
        "record_id",
        "force_number",
        "incident_id",
        "subject_race",
        "__row",
    ]
    assert table.dropped_source_columns == ["Notes"]
    codes = sorted((p.code, p.column, p.severity) for p in table.problems)
    assert codes == [
        ("extra_column", "Notes", "warning"),
        ("missing_column", "incident_date", "error"),
    ]


def test_a_mapped_column_the_file_lacks_is_reported(tmp_path: Path) -> None:
    raw = _csv(tmp_path, "f.csv", "Case\nA\n")
    mapping = _mapping(
        tmp_path,
        """
        family = "use_of_force"
        [columns]
        record_id = "Case"
        incident_id = ["UOF_NUMBER", "UOFNum"]
        subject_race = "Race"
    """,
    )
    problems = {p.column: p for p in apply_mapping(raw, mapping, UOF).problems}
    assert problems["incident_id"].severity == "error"  # required
    assert problems["subject_race"].severity == "warning"
    assert "'UOF_NUMBER' or 'UOFNum'" in problems["incident_id"].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('family = "arrests"', "no dataset family called 'arrests'"),
        ('family = "contacts"\ncolour = "red"', "unknown key(s) colour"),
        ('family = "contacts"\n[columns]\nshoe_size = "X"', "shoe_size not field(s) of contacts"),
        ('family = "contacts"\n[columns]\nrecord_id = { pick = "X" }', "is not a column source"),
        (
            'family = "contacts"\n[columns]\nbias_category = { copy = "bias_motivation" }',
            "copies 'bias_motivation'",
        ),
        ('family = "contacts"\n[columns\n', "not valid TOML"),
        ('description = "no family"', "must say which family"),
        (
            'family = "contacts"\n[columns]\nagency = "A"\n[constants]\nagency = "B"',
            "agency is filled both in [columns] and in [constants]",
        ),
        ('family = "contacts"\n[explode]\nfields = ["offense"]', "write explode as [[explode]]"),
    ],
)
def test_bad_mapping_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_mapping(path)
    assert message in caught.value.message


def test_every_bundled_mapping_loads() -> None:
    mappings = bundled_mappings()
    assert len(mappings) >= 11
    for name in mappings:
        mapping = bundled_mapping(name)
        assert mapping.description and mapping.files and mapping.notes
    with pytest.raises(InvalidInput, match="dallas_use_of_force"):
        bundled_mapping("nowhere")
