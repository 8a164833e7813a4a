"""Mapping rules ([[rules]], sentinel_dates): plausible dates, numbers, order, numbering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openblotter.domain.errors import InvalidInput
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import apply_mapping, mapping_from_dict
from openblotter.ingest.mapping.model import MappedTable

COMPLAINTS = load_family("complaints").schema


@dataclass
class _Raw:
    frame: pl.DataFrame
    source_name: str = "complaints.csv"


COLUMNS = {
    "complaint_id": "Case",
    "complainant_number": "Citizen",
    "received_date": "Received",
    "closed_date": "Closed",
    "subject_age": "Age",
}

ROWS = [
    # Case, Citizen, Received, Closed, Age
    ("A", "77", "2019-03-01", "2019-04-01", "0"),
    ("A", "77", "2019-03-01", "1957-06-12", "34"),  # a date of birth in the Closed column
    ("A", "12", "1900-01-01", "2019-05-01", "114"),
    ("B", "", "2019-03-02", "3019-01-01", "110"),
    ("B", "5", "1970-01-01", None, "1"),
]


def _apply(rules: list[dict[str, Any]], **extra: Any) -> MappedTable:
    mapping = mapping_from_dict(
        {"family": "complaints", "columns": COLUMNS, "rules": rules, **extra}
    )
    frame = pl.DataFrame(
        [list(r) for r in ROWS],
        schema=["Case", "Citizen", "Received", "Closed", "Age"],
        orient="row",
    ).with_columns(pl.Series("__row", range(2, len(ROWS) + 2), dtype=pl.Int64))
    return apply_mapping(_Raw(frame), mapping, COMPLAINTS)


def _applied(table: MappedTable, check: str) -> dict[str, Any]:
    return [r for r in table.rules_applied if r["check"] == check][-1]


def test_sentinel_dates_are_blank_by_default_and_reported() -> None:
    table = _apply([])
    assert table.frame["received_date"].to_list() == [
        "2019-03-01",
        "2019-03-01",
        None,
        "2019-03-02",
        None,
    ]
    entry = _applied(table, "sentinel_dates")
    assert entry["count"] == 2
    assert entry["action"] == "blank"
    assert entry["examples"][0] == {"row": 4, "column": "received_date", "value": "1900-01-01"}
    blanked = [(p.row, p.column, p.value) for p in table.problems if p.code == "rule_blanked"]
    assert blanked == [(4, "received_date", "1900-01-01"), (6, "received_date", "1970-01-01")]


def test_sentinel_dates_can_be_turned_off() -> None:
    table = _apply([], sentinel_dates=[])
    assert table.frame["received_date"][2] == "1900-01-01"
    assert table.rules_applied == []


def test_a_date_window_an_order_and_an_age_range() -> None:
    table = _apply(
        [
            {
                "check": "date_window",
                "fields": ["closed_date"],
                "min": "2000-01-01",
                "max": "today",
            },
            {"check": "order", "fields": ["received_date", "closed_date"]},
            {"check": "range", "fields": ["subject_age"], "min": 1, "max": 110},
        ]
    )
    assert table.frame["closed_date"].to_list() == [
        "2019-04-01",
        None,
        "2019-05-01",
        None,
        None,
    ]
    assert table.frame["subject_age"].to_list() == [None, "34", None, "110", "1"]
    window = _applied(table, "date_window")
    assert window["count"] == 2  # 1957 and 3019; the order rule then finds nothing left
    assert _applied(table, "order")["count"] == 0
    ages = _applied(table, "range")
    assert (ages["count"], [e["value"] for e in ages["examples"]]) == (2, ["0", "114"])
    assert "below 1 or above 110" in ages["rule"]


def test_the_order_rule_blanks_the_later_date() -> None:
    table = _apply([{"check": "order", "fields": ["received_date", "closed_date"]}])
    assert table.frame["closed_date"][1] is None
    entry = _applied(table, "order")
    assert entry["count"] == 1
    assert entry["examples"] == [{"row": 3, "column": "closed_date", "value": "1957-06-12"}]


def test_an_error_rule_stops_the_publish_and_keeps_the_value() -> None:
    table = _apply([{"check": "range", "fields": ["subject_age"], "max": 110, "action": "error"}])
    assert table.frame["subject_age"][2] == "114"
    [problem] = [p for p in table.problems if p.code == "rule_failed"]
    assert (problem.severity, problem.row, problem.value) == ("error", 4, "114")


def test_numbering_rows_and_renumbering_values_within_a_key() -> None:
    table = _apply(
        [
            {
                "check": "number_within",
                "field": "complainant_number",
                "key": ["complaint_id"],
                "renumber": True,
            },
            {
                "check": "number_within",
                "field": "allegation_number",
                "key": ["complaint_id", "complainant_number"],
            },
        ]
    )
    assert table.frame.select("complaint_id", "complainant_number", "allegation_number").rows() == [
        ("A", "1", "1"),
        ("A", "1", "2"),
        ("A", "2", "1"),
        ("B", "0", "1"),  # no citizen recorded
        ("B", "1", "1"),
    ]
    numbering = [r for r in table.rules_applied if r["check"] == "number_within"]
    assert [r["action"] for r in numbering] == ["number", "number"]
    assert "distinct values" in numbering[0]["rule"]


def test_today_is_the_day_of_the_publish() -> None:
    table = _apply([{"check": "date_window", "fields": ["closed_date"], "max": "today"}])
    assert table.frame["closed_date"][3] is None
    assert date.fromisoformat(table.frame["closed_date"][0]) <= date.today()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"check": "plausible", "fields": ["subject_age"]}, "'check' must be one of"),
        ({"check": "range", "fields": ["subject_age"]}, "needs 'min', 'max'"),
        ({"check": "range", "fields": ["subject_age"], "min": "one"}, "are numbers"),
        ({"check": "date_window", "fields": ["closed_date"], "min": "01/02/2019"}, "not a date"),
        ({"check": "order", "fields": ["closed_date"]}, "two or more"),
        ({"check": "range", "fields": ["subject_age"], "max": 9, "action": "drop"}, "'action'"),
        ({"check": "range", "fields": ["age"], "max": 9}, "not field(s) of complaints"),
        ({"check": "number_within", "field": "allegation_number"}, "'key' list"),
    ],
)
def test_rules_are_checked_when_the_mapping_is_read(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        mapping_from_dict({"family": "complaints", "columns": COLUMNS, "rules": [rule]})
    assert message in caught.value.message


def test_rules_read_dates_the_portal_reads_by_default_without_formats() -> None:
    mapping = mapping_from_dict(
        {
            "family": "complaints",
            "columns": COLUMNS,
            "rules": [{"check": "order", "fields": ["received_date", "closed_date"]}],
        }
    )
    frame = pl.DataFrame(
        {
            "Case": ["A", "B"],
            "Citizen": ["1", "1"],
            "Received": ["3/1/2019", "1/1/1900"],
            "Closed": ["6/12/1957", "3/2/2019"],
            "Age": ["30", "40"],
            "__row": [2, 3],
        }
    )
    table = apply_mapping(_Raw(frame), mapping, COMPLAINTS)
    assert table.frame["closed_date"].to_list() == [None, "3/2/2019"]
    assert table.frame["received_date"].to_list() == ["3/1/2019", None]  # a sentinel


def test_a_file_in_the_familys_own_words_gets_the_sentinel_dates_too(tmp_path) -> None:
    from openblotter.ingest.read.readers import read_table

    path = tmp_path / "c.csv"
    path.write_text(
        "complaint_id,allegation_number,complainant_number,received_date\n"
        "A,1,1,1900-01-01\nB,1,1,2019-02-03\n",
        encoding="utf-8",
    )
    table = apply_mapping(read_table(path), None, COMPLAINTS)
    assert table.frame["received_date"].to_list() == [None, "2019-02-03"]
    [entry] = table.rules_applied
    assert (entry["check"], entry["count"]) == ("sentinel_dates", 1)


_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["1900-01-01", "1970-01-01", "3019-01-01", "2019-02-30", "7/31/2019", "x"]),
    st.dates().map(str),
    st.text(alphabet="0123456789-/ ", max_size=10),
)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(_TEXT, _TEXT, _TEXT), min_size=1, max_size=12))
def test_any_cells_give_blanks_that_are_all_counted_never_a_crash(
    rows: list[tuple[str | None, str | None, str | None]],
) -> None:
    mapping = mapping_from_dict(
        {
            "family": "complaints",
            "columns": COLUMNS,
            "rules": [
                {
                    "check": "date_window",
                    "fields": ["received_date", "closed_date"],
                    "min": "2000-01-01",
                    "max": "today",
                },
                {"check": "order", "fields": ["received_date", "closed_date"]},
                {"check": "range", "fields": ["subject_age"], "min": 1, "max": 110},
            ],
        }
    )
    frame = pl.DataFrame(
        {
            "Case": [f"C{i}" for i in range(len(rows))],
            "Citizen": ["1"] * len(rows),
            "Received": [r[0] for r in rows],
            "Closed": [r[1] for r in rows],
            "Age": [r[2] for r in rows],
            "__row": list(range(2, len(rows) + 2)),
        },
        schema_overrides={"Received": pl.String, "Closed": pl.String, "Age": pl.String},
    )
    table = apply_mapping(_Raw(frame), mapping, COMPLAINTS)
    blanked = [p for p in table.problems if p.code == "rule_blanked"]
    assert sum(r["count"] for r in table.rules_applied) == len(blanked)
    before = frame.select(
        pl.col("Received").alias("received_date"),
        pl.col("Closed").alias("closed_date"),
        pl.col("Age").alias("subject_age"),
    )
    after = table.frame.select("received_date", "closed_date", "subject_age")
    for name in after.columns:
        newly_blank = (after[name].is_null() & before[name].is_not_null()).sum()
        assert newly_blank == sum(1 for p in blanked if p.column == name), name
    assert table.frame.height == len(rows)
