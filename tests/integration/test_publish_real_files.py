"""Every tabular real file publishes as a custom dataset: row counts, inferred types, values."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from openblotter.domain.errors import InvalidInput
from tests.conftest import REAL_DATA
from tests.factories import publish_file

# file -> (rows, {field: expected type}) ; row counts from SOURCES.md
CASES = {
    "dallas/37-00049_UOF-P_2016_prepped.csv": (
        2383,
        {
            "incident_date": "date",
            "incident_time": "time",
            "officer_id": "integer",
            "location_latitude": "number",
        },
    ),
    "seattle/Use_Of_Force.csv": (
        13886,
        {"id": "string", "occured_date_time": "datetime", "subject_race": "string"},
    ),
    "seattle/Terry_Stops.csv": (
        19753,
        {"reported_date": "date", "reported_time": "time", "arrest_flag": "boolean"},
    ),
    "rhode_island/police.csv": (
        27918,
        {"stop_date": "date", "stop_time": "time", "is_arrested": "boolean"},
    ),
    "denver/BiasMotivatedCrimes.csv": (368, {"occ_date": "date", "x_coordinate": "integer"}),
    "austin/Austin_Hate_Crimes_2017-2022_Cleaned.xlsx": (
        121,
        {"incident_date": "date", "total_victims": "integer"},
    ),
    "fbi/Table_78_Full_time_Law_Enforcement_Employees_Texas_by_Cities_2020.xlsx": (
        None,
        {"city": "string", "population": "integer"},
    ),
    "fbi/hate_crime_state_year_bias_1991-2014.csv": (
        12749,
        {"year": "integer", "count": "integer"},
    ),
    "new_jersey/2021_NJOAGLEOD_Officer_Information.csv": (
        30617,
        {"age": "integer", "gender": "string"},
    ),
    "new_jersey/2021_NJOAGLEOD_Agency_Information.csv": (530, {}),
    "national/fatal-police-shootings-data_wapo_2021snapshot.csv": (
        5407,
        {"date": "date", "age": "integer", "body_camera": "boolean"},
    ),
    "philadelphia/ppd_complaints.csv": (5296, {"date_received": "date"}),
    # `2013-01-07 00:00:00`: every time is midnight, so these are dates written long-hand.
    "philadelphia/ppd_complaints_7-18.csv": (3786, {"date_received": "date"}),
    "philadelphia/ppd_complaint_disciplines.csv": (13332, {}),
    "philadelphia/ppd_complaint_disciplines_7-18.csv": (8978, {}),
    "philadelphia/ppd_complainant_demographics.csv": (5660, {"complainant_age": "integer"}),
    "philadelphia/ppd_complaint_complainants_7-18_corrected.csv": (4065, {}),
    "census/acs2017_county_data.csv": (
        3219,
        {"total_pop": "integer", "income_per_cap": "integer", "poverty": "number"},
    ),
    "census/sub-est2019_all_places_subset.csv": (
        19484,
        {"popestimate2019": "integer", "name": "string"},
    ),
    "norman/normanpd_incidents_2022-02-01_student_parsed.csv": (392, {"incident_time": "datetime"}),
    "norman/opd_source_table_norman_rows.csv": (108, {"year": "integer"}),
}


# Counted in the raw file: cells of LOCATION_LATITUDE that are NULL or empty.
LATITUDE_BLANKS = 55


def _dataset_id(name: str) -> str:
    return name.split("/")[-1].split(".")[0].lower().replace("-", "_").replace(" ", "_")[:60]


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_file_publishes_as_custom_dataset(portal, name):
    rows, types = CASES[name]
    result = publish_file(portal, REAL_DATA / name, _dataset_id(name), "2026-Q3")
    release = result.release
    if rows is not None:
        assert release.row_count == rows
    got = {f.name: f.type for f in result.schema.fields}
    for field, kind in types.items():
        assert got[field] == kind, (field, got[field])
    stored = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM '{portal.release_path(release)}'")
        .fetchall()[0][0]
    )
    assert stored == release.row_count


def _values(portal, dataset_id, sql):
    release = portal.release(dataset_id)
    return (
        duckdb.connect()
        .execute(sql.replace("FILE", f"'{portal.release_path(release)}'"))
        .fetchall()
    )


def test_parsed_values_dates_numbers_and_blanks(portal):
    publish_file(portal, REAL_DATA / "dallas/37-00049_UOF-P_2016_prepped.csv", "dallas", "2026-Q3")
    first = _values(
        portal,
        "dallas",
        "SELECT incident_date, incident_time, uof_number, location_latitude, street_direction FROM FILE ORDER BY _row_id LIMIT 2",
    )
    # Row 3 of the file (after the second header): 9/3/16, 4:14:00 AM, 37702, 32.782205, N
    assert first[0][0] == date(2016, 9, 3)
    assert str(first[0][1]) == "04:14:00"
    assert first[0][2] == "37702"
    # Parsed as a number, then rounded to the 0.01-degree grid the privacy review proposed.
    assert first[0][3] == pytest.approx(32.78)
    # The literal NULL is a blank: in a custom dataset's coded field it stays blank
    # (a blank is not the agency's "Unknown"; only a family schema may say it is).
    assert first[1][4] is None
    nulls = _values(portal, "dallas", "SELECT count(*) FROM FILE WHERE street_direction = 'NULL'")
    assert nulls[0][0] == 0
    # In a number field a blank (NULL or empty in the file) stays blank.
    blank = _values(portal, "dallas", "SELECT count(*) FROM FILE WHERE location_latitude IS NULL")
    assert blank[0][0] == LATITUDE_BLANKS


def test_bom_is_not_part_of_the_first_column_and_datetimes_keep_their_time(portal):
    publish_file(portal, REAL_DATA / "seattle/Use_Of_Force.csv", "seattle_uof", "2026-Q3")
    first = _values(portal, "seattle_uof", "SELECT * FROM FILE ORDER BY _row_id LIMIT 1")
    release = portal.release("seattle_uof")
    columns = [f["name"] for f in release.schema["fields"]]
    assert columns[0] == "id"
    moments = _values(
        portal, "seattle_uof", "SELECT min(occured_date_time), max(occured_date_time) FROM FILE"
    )
    assert moments[0][0].year == 2014 and moments[0][1].year == 2022
    assert isinstance(moments[0][0], datetime)
    assert first


def test_truncated_last_line_is_kept_and_reported(portal):
    result = publish_file(portal, REAL_DATA / "rhode_island/police.csv", "ri", "2026-Q3")
    report = result.report.to_dict()
    assert any(group["count"] >= 1 and group["examples"][0]["row"] for group in report["problems"])
    last = _values(
        portal, "ri", "SELECT stop_date, district FROM FILE ORDER BY _row_id DESC LIMIT 1"
    )
    # The truncated line has no district: blank, not "Unknown" (a custom dataset).
    assert last[0][0] == date(2008, 8, 7) and last[0][1] is None


MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "openblotter" / "mappings"
DALLAS = REAL_DATA / "dallas" / "37-00049_UOF-P_2016_prepped.csv"


def test_a_mapping_without_family_publishes_into_the_family_it_declares(portal):
    """`--mapping` alone used to be ignored: the file was inferred as a custom dataset."""
    result = publish_file(
        portal, DALLAS, "dallas_uof", "2016-Q4", mapping=MAPPINGS / "dallas_use_of_force.toml"
    )
    assert portal.dataset("dallas_uof").family == "use_of_force"
    path = portal.release_path(result.release)
    races = duckdb.sql(f"SELECT DISTINCT subject_race FROM '{path}'").fetchall()
    assert ("American Indian or Alaska Native",) in races  # Dallas's "American Ind", mapped


def test_a_mapping_for_another_family_is_refused(portal):
    with pytest.raises(InvalidInput, match="is for family 'use_of_force', not 'complaints'"):
        publish_file(
            portal,
            DALLAS,
            "dallas_uof",
            "2016-Q4",
            family="complaints",
            mapping=MAPPINGS / "dallas_use_of_force.toml",
        )
    assert portal.catalog.dataset("dallas_uof") is None
