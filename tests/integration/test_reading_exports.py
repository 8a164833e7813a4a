"""Common export formats are read by default; spreadsheet damage is reported, never 'repaired'.

Real files: South Bend's ArcGIS Hub export (``2017/02/19 05:00:00+00``: local midnight
written in UTC), the ACS county table whose FIPS ids lost their leading zeros, and
Indianapolis complaints with a column damaged the way a spreadsheet does it.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file

SOUTH_BEND = REAL_DATA / "south_bend/Police_Use_of_Force_Incidents.csv"
INDIANAPOLIS = REAL_DATA / "indianapolis/IMPD_complaints_Dec_2020.csv"
COUNTIES = REAL_DATA / "census/acs2017_county_data.csv"


def _values(portal, result, column: str) -> list:
    path = portal.release_path(result.release)
    return [r[0] for r in duckdb.sql(f"select {column} from '{path}' order by _row_id").fetchall()]


def test_an_arcgis_export_is_read_as_dates_in_the_citys_zone(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "p", city_timezone="America/Indiana/Indianapolis")
    result = publish_file(portal, SOUTH_BEND, "south_bend_force", "2026-Q3")
    assert result.schema.field("date").type == "date"
    dates = _values(portal, result, "date")
    # SOURCES.md: 203 rows, 2017/01/01 05:00:00+00 .. 2020/04/21 04:00:00+00 (local midnights).
    assert len(dates) == 203 and None not in dates
    assert (min(dates), max(dates)) == (date(2017, 1, 1), date(2020, 4, 21))
    # The first data row, 2017/02/19 05:00:00+00, is 19 February in South Bend.
    assert dates[0] == date(2017, 2, 19)
    assert "type_error" not in result.report.groups


def test_a_scientific_notation_id_is_kept_as_written_and_reported(tmp_path: Path) -> None:
    # The case: an ID column saved by a spreadsheet as 2.02E+14 on every row.
    damaged = tmp_path / "IMPD_complaints_damaged.csv"
    frame = pl.read_csv(INDIANAPOLIS, infer_schema_length=0, encoding="utf8-lossy")
    frame = frame.with_columns(pl.lit("2.02E+14").alias("INCNUM"))
    frame.write_csv(damaged)
    portal = make_portal(tmp_path / "p")
    result = publish_file(portal, damaged, "indy", "2026-Q3")
    assert result.schema.field("incnum").type == "string"
    assert set(_values(portal, result, "incnum")) == {"2.02E+14"}  # never 202000000000000
    group = result.report.groups["scientific_notation"]
    assert group.count == 3676 and group.severity == "warning"
    (example,) = group.examples
    assert (example.column, example.value, example.rows, example.row) == (
        "incnum",
        "2.02E+14",
        3676,
        2,
    )
    assert "cannot be recovered" in example.message


def test_dates_turned_into_numbers_are_reported_and_not_read_in_a_text_column(
    tmp_path: Path,
) -> None:
    damaged = tmp_path / "IMPD_complaints_serials.csv"
    rows = list(csv.reader(INDIANAPOLIS.open(encoding="utf-8-sig")))
    column = rows[0].index("OCCURRED_DT")
    for row in rows[1:11]:  # ten rows' dates saved as Excel day numbers
        row[column] = "41630"  # 2013-12-22
    with damaged.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    portal = make_portal(tmp_path / "p")
    result = publish_file(portal, damaged, "indy", "2026-Q3")
    group = result.report.groups["date_as_number"]
    assert group.count == 10
    (example,) = group.examples
    assert example.column == "occurred_dt" and "2013-12-22" in example.message
    assert _values(portal, result, "occurred_dt")[:10] == ["41630"] * 10


def test_fips_codes_that_lost_their_leading_zeros_are_reported(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "p")
    result = publish_file(portal, COUNTIES, "counties", "2026-Q3")
    group = result.report.groups["leading_zeros_lost"]
    # States 01-09 (Alabama .. Connecticut): their county ids were saved as 4 digits.
    shorter = pl.read_csv(COUNTIES, infer_schema_length=0)["CountyId"].str.len_chars() < 5
    assert group.count == int(shorter.sum()) == 316
    assert {p.value for p in group.examples} >= {"1001", "1003"}
    assert {p.column for p in group.examples} == {"county_id"}
    # Every distinct value is counted: 100 listed in the report, 216 more distinct values.
    assert len(group.examples) == 100 and group.more == 216


def test_blank_codes_of_a_custom_dataset_stay_blank(tmp_path: Path) -> None:
    # SOURCES.md: FINDING is blank in 175 rows of the Indianapolis complaints. A blank finding
    # is not a finding of "Unknown"; the file says nothing, and so does the release.
    portal = make_portal(tmp_path / "p")
    result = publish_file(portal, INDIANAPOLIS, "indy", "2026-Q3")
    assert result.schema.field("finding").categorical
    findings = _values(portal, result, "finding")
    assert findings.count(None) == 175 and "Unknown" not in findings
    assert result.report.facts["blank_coded_as_unknown"] == {}
