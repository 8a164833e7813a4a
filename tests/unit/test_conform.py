"""Conforming a text table to a schema: codes, blanks, types, keys, and the report."""

import polars as pl

from openblotter.domain.report import EXAMPLES_PER_COLUMN, ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.conform import conform

SCHEMA = TableSchema.from_descriptor(
    {
        "fields": [
            {"name": "case_id", "type": "integer", "constraints": {"required": True}},
            {
                "name": "subject_race",
                "valueMap": {"B": "Black", "BLACK": "Black", "W": "White"},
                "constraints": {"enum": ["Black", "White", "Unknown"]},
            },
            {"name": "incident_date", "type": "date"},
        ],
        "primaryKey": ["case_id"],
    }
)


def frame(**columns):
    height = len(next(iter(columns.values())))
    return pl.DataFrame({**columns, "__row": list(range(2, height + 2))})


def test_codes_are_normalized_blanks_become_unknown_and_unmapped_are_kept():
    # A family schema says a blank means Unknown (blankMeansUnknown).
    family = SCHEMA.model_copy(update={"blank_means_unknown": True})
    result = conform(
        frame(
            case_id=["1", "2", "3", "4", "5"],
            subject_race=["B", " black ", None, "NULL", "Martian"],
            incident_date=["2020-01-01"] * 5,
        ),
        family,
        ValidationReport("f.csv"),
    )
    assert result.frame["subject_race"].to_list() == [
        "Black",
        "Black",
        "Unknown",
        "Unknown",
        "Martian",
    ]
    assert result.report.facts["blank_coded_as_unknown"] == {"subject_race": 2}
    group = result.report.groups["unmapped_value"]
    assert group.count == 1 and group.severity == "warning"
    assert group.examples[0].row == 6 and group.examples[0].value == "Martian"
    assert result.report.ok


def test_a_blank_stays_blank_unless_the_schema_says_it_means_unknown():
    # A custom dataset's categorical column: a blank Administrative_Closure means
    # "not closed administratively", not "Unknown".
    custom = TableSchema.from_descriptor(
        {"fields": [{"name": "administrative_closure", "categorical": True}]}
    )
    data = frame(administrative_closure=["Yes", None, "", "Yes"])
    result = conform(data, custom, ValidationReport("f.csv"))
    assert result.frame["administrative_closure"].to_list() == ["Yes", None, None, "Yes"]
    assert result.report.facts["blank_coded_as_unknown"] == {}
    # One field of a family may opt out of the family's rule.
    family = TableSchema.from_descriptor(
        {
            "blankMeansUnknown": True,
            "fields": [
                {"name": "race", "categorical": True},
                {"name": "finding", "categorical": True, "blankMeansUnknown": False},
            ],
        }
    )
    both = conform(
        frame(race=[None, "White"], finding=[None, "Sustained"]), family, ValidationReport("f.csv")
    )
    assert both.frame.row(0)[:2] == ("Unknown", None)


def test_a_column_blank_on_every_row_is_not_recorded_not_unknown():
    """An export of this portal carries not-recorded fields as empty columns: publishing it
    again must not turn them into the agency's Unknown."""
    family = TableSchema.from_descriptor(
        {"blankMeansUnknown": True, "fields": [{"name": "race", "categorical": True}]}
    )
    result = conform(frame(race=[None, "", None]), family, ValidationReport("f.csv"))
    assert result.frame["race"].to_list() == [None, None, None]
    assert result.not_recorded == ["race"]
    assert result.report.counts().get("empty_column") == 1


def test_a_family_field_the_file_does_not_have_is_null_and_marked_not_recorded():
    family = SCHEMA.model_copy(update={"blank_means_unknown": True})
    result = conform(frame(case_id=["1", "2"]), family, ValidationReport("f.csv"))
    assert result.frame["subject_race"].to_list() == [None, None]  # not "Unknown"
    assert result.not_recorded == ["subject_race", "incident_date"]
    assert result.report.facts["not_recorded"] == ["subject_race", "incident_date"]
    (missing,) = [
        p for p in result.report.groups["missing_column"].examples if p.column == "subject_race"
    ]
    assert "not recorded by this agency" in missing.message


def test_type_errors_block_with_row_column_value_unless_allowed():
    data = frame(
        case_id=["1", "x"], subject_race=["W", "W"], incident_date=["2020-13-01", "1/2/2020"]
    )
    strict = conform(data, SCHEMA, ValidationReport("f.csv"))
    assert not strict.report.ok
    examples = {(p.row, p.column, p.value) for p in strict.report.groups["type_error"].examples}
    assert examples == {(3, "case_id", "x"), (2, "incident_date", "2020-13-01")}
    lenient = conform(data, SCHEMA, ValidationReport("f.csv"), allow_invalid=True)
    assert lenient.report.groups["type_error"].severity == "warning"
    assert lenient.frame["incident_date"].to_list()[0] is None


def test_duplicate_keys_and_missing_required_column_are_errors():
    dupes = conform(
        frame(case_id=["7", "7"], subject_race=["W", "B"], incident_date=["", ""]),
        SCHEMA,
        ValidationReport("f.csv"),
    )
    assert dupes.report.groups["duplicate_key"].count == 2
    missing = conform(frame(subject_race=["W"]), SCHEMA, ValidationReport("f.csv"))
    assert missing.report.groups["missing_column"].severity == "error"


def test_report_lists_every_distinct_value_per_column_and_counts_the_rest_as_values():
    # One example per distinct value, capped per column (never across columns): a column
    # with many bad values does not hide another; "more" counts distinct values, not rows.
    n = EXAMPLES_PER_COLUMN + 25
    result = conform(
        frame(
            case_id=[str(i) for i in range(2 * n)],
            subject_race=["Z", "Q"] * n,
            incident_date=[f"nope {i % n}" for i in range(2 * n)],
        ),
        SCHEMA,
        ValidationReport("f.csv"),
    )
    group = result.report.groups["type_error"]
    assert group.count == 2 * n and len(group.examples) == EXAMPLES_PER_COLUMN
    assert group.more == 25
    assert {p.rows for p in group.examples} == {2}
    unmapped = result.report.groups["unmapped_value"]
    assert {(p.value, p.rows) for p in unmapped.examples} == {("Z", n), ("Q", n)}
    listed = next(g for g in result.report.to_dict()["problems"] if g["code"] == "type_error")
    assert listed["columns"] == [
        {
            "column": "incident_date",
            "count": 2 * n,
            "distinct_values": n,
            "listed": EXAMPLES_PER_COLUMN,
            "more": 25,
            "more_unit": "distinct values",
        }
    ]
