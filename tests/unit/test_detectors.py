"""Column detectors: header names and the shape of every value propose a treatment."""

import polars as pl

from openblotter.domain.report import Problem, ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.detectors import apply_proposals, propose_treatments
from openblotter.ingest.infer import infer_schema
from openblotter.ingest.read.readers import read_table
from openblotter.ingest.report_privacy import WITHHELD, public_report
from tests.conftest import REAL_DATA


def _proposals(frame: pl.DataFrame):
    schema, _, cleaned = infer_schema(frame)
    return schema, {p.field: p for p in propose_treatments(schema, cleaned)}


def test_the_real_louisville_layout():
    raw = read_table(REAL_DATA / "louisville" / "2015list.csv")
    schema, proposals = _proposals(raw.frame)
    assert proposals["name_s"].finding == "person names"  # header "NameS"
    assert proposals["name_o"].privacy.treatment == "drop"  # "Ofc. Lisa Nagle"
    assert proposals["address_of_incident"].privacy.method == "hundred_block"
    assert proposals["narrative"].withhold and proposals["pop_box"].withhold
    assert not proposals["race_s"].protects and not proposals["division"].protects
    applied = apply_proposals(schema, list(proposals.values()))
    public = {f.name for f in applied.public_schema().fields}
    assert "name_s" not in public and "narrative" not in public and "race_s" in public


def test_values_give_a_column_away_whatever_its_header():
    frame = pl.DataFrame(
        {
            "col_a": ["Maria Gonzalez", "Kevin Ng", "Thanh Nguyen", "NG, KEVIN"],
            "col_b": ["405-555-0187", "(405) 555-0142", "918.555.0163", "405-555-0101"],
            "col_c": ["a@example.org", "b@example.net", "c@example.com", "d@example.com"],
            "col_d": ["512-44-9081", "623-18-7745", "401-22-6718", "578-21-3344"],
            "col_e": ["4417 Wrenfield Ave", "1208 Osage Hollow Rd", "2209 E Lindsey St", "9 Elm"],
            "col_f": ["1500 BLOCK N KRAMERIA ST", "4200 BLOCK E ILIFF AVE", "12XX MAIN", "X"],
            "col_g": [
                "(35.2145, -97.4412)",
                "(35.1021, -97.2210)",
                "(35.2203, -97.3311)",
                "(35.3345, -97.5120)",
            ],
        }
    )
    _, proposals = _proposals(frame)
    assert [
        proposals[c].finding for c in ("col_a", "col_b", "col_c", "col_d", "col_e", "col_g")
    ] == [
        "person names",
        "phone numbers",
        "e-mail addresses",
        "social security numbers",
        "street addresses",
        "exact coordinates",
    ]
    assert not proposals["col_f"].protects  # already hundred blocks


def test_birth_dates_become_ages_at_the_event_and_ids_are_hashed():
    frame = pl.DataFrame(
        {
            "incident_date": ["2026-08-01", "2026-08-02"],
            "subject_dob": ["1987-03-14", "1999-11-02"],
            "officer_badge": ["4411", "5120"],
            "division_name": ["North", "South"],
        }
    )
    _, proposals = _proposals(frame)
    dob = proposals["subject_dob"].privacy
    assert (dob.method, dob.reference_field, dob.published_as) == ("age", "incident_date", "age")
    assert proposals["officer_badge"].privacy.treatment == "hash"
    assert not proposals["division_name"].protects
    assert "1987" not in str([p.to_dict() for p in proposals.values()])  # counts, never values


def test_stored_report_withholds_values_of_protected_columns():
    schema = TableSchema.from_descriptor(
        {
            "fields": [
                {"name": "beat"},
                {"name": "dob", "type": "date", "privacy": {"treatment": "drop"}},
            ]
        }
    )
    report = ValidationReport(source="f.csv")
    report.add(
        Problem("type_error", "'1991-02-30' is not a date.", "warning", 3, "dob", "1991-02-30")
    )
    report.add(Problem("type_error", "'B12x' is not a code.", "warning", 4, "beat", "B12x"))
    report.add(
        Problem("long_row", "Row 5 has 3 fields: 'Kevin Ng'", "warning", 5, None, "Kevin Ng")
    )
    stored = public_report(report.to_dict(), schema)
    examples = [e for g in stored["problems"] for e in g["examples"]]
    assert {e["row"]: e["value"] for e in examples} == {3: WITHHELD, 4: "B12x", 5: WITHHELD}
    assert "1991-02-30" not in str(stored) and "Kevin Ng" not in str(stored)
    publishers = [e["value"] for g in report.to_dict()["problems"] for e in g["examples"]]
    assert "1991-02-30" in publishers  # the publisher's own copy keeps the values
