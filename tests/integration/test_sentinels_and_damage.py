"""Codes for unknown, day-fraction times and lost leading zeros, on the real files.

Expected counts are computed here with polars from the raw files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest import damage as damage_module
from openblotter.ingest.conform import ROW, trimmed_cells
from openblotter.ingest.damage import SentinelTally, number_like_columns, report_damage
from openblotter.ingest.infer import infer_schema
from openblotter.ingest.read.readers import read_table
from tests.conftest import REAL_DATA
from tests.factories_real import FILES, conformed, mapped


def damage(path: Path) -> ValidationReport:
    """The damage report of a file published as a custom dataset."""
    schema, _, cleaned = infer_schema(read_table(path).frame)
    report = ValidationReport(source=path.name)
    report_damage(cleaned, schema, report)
    return report


def test_south_bend_minus_one_in_a_column_of_city_names_is_reported() -> None:
    path = REAL_DATA / "south_bend" / "Police_Use_of_Force_Incidents.csv"
    source = pl.read_csv(path, infer_schema=False)
    minus_one = source.filter(pl.col("City_1") == "-1").height
    report = damage(path)
    [seen] = report.groups["suspicious_sentinel"].examples
    assert (
        (seen.column.lower(), seen.value, seen.rows)
        == ("city_1", "-1", minus_one)
        == (
            "city_1",
            "-1",
            7,
        )
    )
    assert 'check = "sentinel"' in seen.message


def test_the_sentinel_detector_on_the_real_files_flags_codes_only() -> None:
    # Each hit checked by hand: a bare number among words or far outside the others.
    seattle = damage(REAL_DATA / "seattle" / "Terry_Stops.csv")
    hits = {(p.column.lower(), p.value) for p in seattle.groups["suspicious_sentinel"].examples}
    assert hits == {("officer_id", "-9"), ("sector", "99"), ("beat", "99")}
    philadelphia = damage(REAL_DATA / "philadelphia" / "ppd_complainant_demographics.csv")
    [age] = philadelphia.groups["suspicious_sentinel"].examples
    assert (age.column, age.value, age.rows) == ("complainant_age", "-1", 3)
    # ages, years and counts of the other real files hold no such code
    for name in ("dallas/37-00049_UOF-P_2016_prepped.csv", "denver/BiasMotivatedCrimes.csv"):
        assert "suspicious_sentinel" not in damage(REAL_DATA / name).groups


def test_seattle_beat_99_is_declared_and_published_blank() -> None:
    source = pl.read_csv(
        REAL_DATA / "seattle" / "Use_Of_Force.csv", infer_schema=False, encoding="utf8-lossy"
    )
    nines = source.filter(pl.col("Beat") == "99").height
    [rule] = [r for r in mapped("seattle_use_of_force").rules_applied if r["check"] == "sentinel"]
    assert rule["count"] == nines == 35
    assert "99 mean not recorded" in rule["rule"]
    frame, _ = conformed("seattle_use_of_force")
    assert frame.filter(pl.col("beat") == "99").height == 0
    # blank, which the use-of-force family states as its Unknown code
    ids = source.filter(pl.col("Beat") == "99")["ID"].to_list()
    assert frame.filter(pl.col("record_id").is_in(ids))["beat"].unique().to_list() == ["Unknown"]


def test_leading_zeros_lost_says_what_it_saw_on_the_real_files() -> None:
    path = REAL_DATA / "philadelphia" / "ppd_complaint_disciplines.csv"
    source = pl.read_csv(path, infer_schema=False)["po_district_number"].drop_nulls()
    width2 = source.filter(source.str.len_chars() == 2)
    padded = width2.filter(width2.str.starts_with("0"))
    short = source.filter(source.str.len_chars() == 1).len()
    group = damage(path).groups["leading_zeros_lost"]
    assert group.count == short == 731
    message = group.examples[0].message
    assert f"{width2.len():,} of the column's {source.len():,} numbers are 2 digits long" in message
    assert f"{padded.len():,} of those keep a leading zero (e.g. '02' on 88 rows)" in message
    census = damage(REAL_DATA / "census" / "acs2017_county_data.csv").groups["leading_zeros_lost"]
    assert "census geography code (FIPS), which has 5 digits" in census.examples[0].message
    # IDs of varying width with no zero-padded value are not flagged (Seattle's officer IDs
    # are 1 to 4 digits long; none starts with 0)
    seattle = damage(REAL_DATA / "seattle" / "Terry_Stops.csv")
    assert "leading_zeros_lost" not in seattle.groups


def test_every_bundled_mapping_declares_its_codes_for_unknown() -> None:
    # Seattle's 99 and -9 and Philadelphia's -1 are declared as sentinel rules; no other
    # mapped real file holds a suspicious code or a lost leading zero.
    for name in FILES:
        table = mapped(name)
        report = ValidationReport(source=name)
        report_damage(table.frame, table.schema, report)
        for people in table.people:
            report_damage(people.frame, people.schema, report)
        assert not {"suspicious_sentinel", "leading_zeros_lost"} & set(report.groups), name
    sentinels = {
        name: sum(r["count"] for r in mapped(name).rules_applied if r["check"] == "sentinel")
        for name in ("seattle_terry_stops", "philadelphia_complaints")
    }
    # counted once per source row (a complainant joined to six allegations is one)
    assert sentinels == {"seattle_terry_stops": 13 + 13 + 4, "philadelphia_complaints": 3}


_CELLS = ["2.02E+14", "1.5e+07", "3E+6", "-1", "-9", "99", "9999", "42370", "42370.0", "0.5",
          ".25", "02134", "2134", "12345", "abc", "2016-01-01", "1/7/16", "", " 7 ", "C0001",
          "+4", "1.", "0x1A", "1,000", "12:30", None]  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    columns=st.lists(
        st.lists(st.sampled_from(_CELLS), min_size=12, max_size=12), min_size=5, max_size=5
    ),
    types=st.lists(st.sampled_from(["string", "date", "time", "integer"]), min_size=5, max_size=5),
)
def test_columns_without_a_number_are_passed_over_without_changing_the_report(
    columns: list[list[str | None]], types: list[str]
) -> None:
    """Only number-like cells can be damaged: the report is the same as examining every
    column, whatever the cells and the fields' types and names."""
    names = ["zip_code", "occurred_date", "start_time", "amount", "beat"]
    frame = pl.DataFrame(
        {n: pl.Series(c, dtype=pl.String) for n, c in zip(names, columns, strict=True)}
    )
    frame = frame.with_columns(pl.Series(ROW, range(2, 14)))
    schema = TableSchema(
        fields=[SchemaField(name=n, type=t) for n, t in zip(names, types, strict=True)]  # type: ignore[arg-type]
    )
    reports = []
    for pattern in (damage_module.NUMBER_LIKE, r"^"):  # r"^": every column examined
        report = ValidationReport(source="cells.csv")
        original = damage_module.NUMBER_LIKE
        damage_module.NUMBER_LIKE = pattern
        try:
            report_damage(frame, schema, report)
        finally:
            damage_module.NUMBER_LIKE = original
        reports.append((report.to_dict(), report.facts))
    assert reports[0] == reports[1]


#: Cells that are not numbers: a column of these only is counted without being parsed.
_WORDS = ["abc", "2016-01-01", "1/7/16", "", "  ", "C0001", "0x1A", "1,000", "12:30", None]


@settings(max_examples=80, deadline=None)
@given(
    chunks=st.lists(
        st.lists(
            st.lists(st.sampled_from(_CELLS) | st.sampled_from(_WORDS), min_size=6, max_size=6)
            | st.lists(st.sampled_from(_WORDS), min_size=6, max_size=6),
            min_size=4,
            max_size=4,
        ),
        min_size=1,
        max_size=3,
    ),
    cleaned=st.booleans(),
)
def test_the_sentinel_tally_counts_columns_without_a_number_as_words(
    chunks: list[list[list[str | None]]], cleaned: bool
) -> None:
    """Told which columns hold a number-like cell, the tally parses only those: its
    judgement is the same as parsing every column, chunk after chunk."""
    names = ["zip_code", "occurred_date", "amount", "beat"]
    schema = TableSchema(fields=[SchemaField(name=n, type="string") for n in names])
    tallies = [SentinelTally(schema, cleaned=cleaned) for _ in range(2)]
    first = 2
    for columns in chunks:
        frame = pl.DataFrame(
            {n: pl.Series(c, dtype=pl.String) for n, c in zip(names, columns, strict=True)}
        )
        if cleaned:
            frame = frame.select(trimmed_cells(n).alias(n) for n in names)
        frame = frame.with_columns(pl.Series(ROW, range(first, first + 6)))
        first += 6
        tallies[0].add(frame)
        tallies[1].add(frame, number_like_columns(frame, names, cleaned))
    reports = []
    for tally in tallies:
        report = ValidationReport(source="cells.csv")
        tally.report(report)
        reports.append((tally.columns, report.to_dict(), report.facts))
    assert reports[0] == reports[1]
