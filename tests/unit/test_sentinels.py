"""Declared codes for unknown, the detector's rule, and Excel day-fraction times."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import polars as pl
import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.damage import report_damage
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.apply import apply_mapping, mapping_from_dict
from openblotter.ingest.parsing import parse_column
from openblotter.ingest.read.readers import read_table

UOF = load_family("use_of_force").schema
BASE = {
    "family": "use_of_force",
    "columns": {
        "record_id": "Case",
        "incident_id": "Case",
        "incident_date": "Date",
        "force_number": "Case",
        "subject_age": "Age",
    },
}


def test_a_declared_sentinel_is_blank_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "uof.csv"
    path.write_text("Case,Date,Age\nA,2019-01-01,-1\nB,2019-01-01,-1.0\nC,2019-01-01,30\n")
    rule = {"check": "sentinel", "fields": ["subject_age"], "values": ["-1"]}
    mapping = mapping_from_dict({**BASE, "rules": [rule]})
    table = apply_mapping(read_table(path), mapping, UOF)
    assert table.frame["subject_age"].to_list() == [None, None, "30"]
    [applied] = [r for r in table.rules_applied if r["check"] == "sentinel"]
    assert (
        applied["count"] == 2
        and applied["rule"] == "subject_age: -1 mean not recorded (published as blank)"
    )
    assert [(p.row, p.value) for p in table.problems if p.code == "rule_blanked"] == [
        (2, "-1"),
        (3, "-1.0"),
    ]


def test_a_sentinel_rule_lists_its_codes() -> None:
    with pytest.raises(InvalidInput, match="a sentinel rule lists its codes"):
        mapping_from_dict({**BASE, "rules": [{"check": "sentinel", "fields": ["subject_age"]}]})


def _damage(values: list[str | None], field: dict) -> ValidationReport:
    schema = TableSchema.from_descriptor({"fields": [field]})
    frame = pl.DataFrame({field["name"]: values}, schema={field["name"]: pl.String})
    report = ValidationReport()
    report_damage(
        frame.with_columns(pl.int_range(2, frame.height + 2).alias("__row")), schema, report
    )
    return report


def test_a_spike_far_from_the_other_numbers_is_suspicious_but_a_real_value_is_not() -> None:
    ages = ["25", "31", "47", "-1", "-1", "-1", "52", "19"]
    [seen] = _damage(ages, {"name": "age", "type": "string"}).groups["suspicious_sentinel"].examples
    assert (seen.value, seen.rows) == ("-1", 3)
    # 99 among counts that reach 120 is a number like the others
    counts = ["99", "99", "99", "120", "80", "3"]
    assert "suspicious_sentinel" not in _damage(counts, {"name": "n", "type": "string"}).groups
    # fewer than three rows is not a spike
    assert (
        "suspicious_sentinel"
        not in _damage(["5", "-1", "7"], {"name": "n", "type": "string"}).groups
    )


def test_day_fraction_times_are_read_in_a_time_field_and_reported_elsewhere() -> None:
    assert parse_column(pl.Series(["0.5416666", ".75", "13:05"]), "time").to_list() == [
        time(13, 0),
        time(18, 0),
        time(13, 5),
    ]
    read = _damage(["0.5416666", "0.25"], {"name": "incident_time", "type": "time"})
    [first, _] = read.groups["time_read_from_fraction"].examples
    assert first.value in ("0.5416666", "0.25") and "fraction of a day" in first.message
    kept = _damage(["0.5416666", "0.25", "0.5"], {"name": "call_time", "type": "number"})
    assert kept.groups["time_as_day_fraction"].count == 3
    # a share column (rates between 0 and 1) is not named as a time: nothing said
    assert not _damage(["0.54", "0.25"], {"name": "share", "type": "number"}).groups
