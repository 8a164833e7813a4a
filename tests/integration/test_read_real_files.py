"""read_table on every tabular file in tests/data/real: SOURCES.md's row counts, exact values."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from openblotter.ingest.read.readers import RawTable, read_table

# file -> (data rows, columns), as SOURCES.md counts them.
REAL_TABLES = {
    "austin/Austin_Hate_Crimes_2017-2022_Cleaned.xlsx": (121, 18),
    "census/acs2017_county_data.csv": (3219, 37),
    "census/sub-est2019_all_places_subset.csv": (19484, 22),
    "dallas/37-00049_UOF-P_2016_prepped.csv": (2383, 47),
    "denver/BiasMotivatedCrimes.csv": (368, 13),
    # 605 cities; the sheet has no footnote row under them.
    "fbi/Table_78_Full_time_Law_Enforcement_Employees_Texas_by_Cities_2020.xlsx": (605, 5),
    "fbi/hate_crime_state_year_bias_1991-2014.csv": (12749, 4),
    "indianapolis/IMPD_complaints_Dec_2020.csv": (3676, 30),
    # SOURCES.md counts 9: the all-blank row under the header is not a record.
    "louisville/2015list.csv": (8, 20),
    "louisville/employee.csv": (2677, 10),
    "milwaukee/Wisconsin_Milwaukee_COMPLAINTS.csv": (1953, 10),
    "national/fatal-police-shootings-data_wapo_2021snapshot.csv": (5407, 14),
    "new_jersey/2021_NJOAGLEOD_Agency_Information.csv": (530, 4),
    "new_jersey/2021_NJOAGLEOD_Officer_Information.csv": (30617, 5),
    "norman/normanpd_incidents_2022-02-01_student_parsed.csv": (392, 5),
    "norman/opd_source_table_norman_rows.csv": (108, 23),
    "oakland/ca_oakland_2020_04_01_SHORT.csv": (98, 28),
    # The two repeated header rows (lines 28 and 2727) are read as rows here.
    "orlando/OPD_Response_To_Resistance.csv": (5658, 27),
    "philadelphia/ppd_complaints.csv": (5296, 6),
    "philadelphia/ppd_complaint_disciplines.csv": (13332, 12),
    "philadelphia/ppd_complainant_demographics.csv": (5660, 4),
    "philadelphia/ppd_complaints_7-18.csv": (3786, 5),
    "philadelphia/ppd_complaint_disciplines_7-18.csv": (8978, 7),
    "philadelphia/ppd_complaint_complainants_7-18_corrected.csv": (4065, 5),
    "rhode_island/police.csv": (27918, 15),
    "seattle/Terry_Stops.csv": (19753, 21),
    "seattle/Use_Of_Force.csv": (13886, 11),
    "south_bend/Police_Use_of_Force_Incidents.csv": (203, 15),
}


@pytest.fixture(scope="module")
def tables(real_data: Path) -> dict[str, RawTable]:
    return {name: read_table(real_data / name) for name in REAL_TABLES}


def test_every_tabular_file_is_covered(real_data: Path) -> None:
    found = {
        str(p.relative_to(real_data)) for p in real_data.rglob("*") if p.suffix in {".csv", ".xlsx"}
    }
    assert found == set(REAL_TABLES)


@pytest.mark.parametrize("name", sorted(REAL_TABLES))
def test_row_and_column_counts(tables: dict[str, RawTable], real_data: Path, name: str) -> None:
    table = tables[name]
    rows, columns = REAL_TABLES[name]
    assert (table.frame.height, len(table.columns)) == (rows, columns)
    assert set(table.frame.schema.values()) == {pl.String, pl.Int64}
    assert table.frame["__row"].is_sorted() and table.frame["__row"].n_unique() == rows
    assert table.source_checksum == hashlib.sha256((real_data / name).read_bytes()).hexdigest()


def test_only_dallas_has_a_second_header(tables: dict[str, RawTable]) -> None:
    with_second = {name for name, table in tables.items() if table.second_header is not None}
    assert with_second == {"dallas/37-00049_UOF-P_2016_prepped.csv"}


def test_dallas_second_header_is_kept_apart_from_the_data(tables: dict[str, RawTable]) -> None:
    table = tables["dallas/37-00049_UOF-P_2016_prepped.csv"]
    assert table.second_header is not None
    assert table.second_header[:6] == [
        "OCCURRED_D",
        "OCCURRED_T",
        "UOFNum",
        "CURRENT_BA",
        "OffSex",
        "OffRace",
    ]
    assert "Street Address" in table.second_header
    first = table.frame.row(0, named=True)
    assert (first["INCIDENT_DATE"], first["INCIDENT_TIME"]) == ("9/3/16", "4:14:00 AM")
    assert first["__row"] == 3
    assert table.frame["FORCE_EFFECTIVE"].to_list().count(" Yes") > 0  # leading space kept
    assert table.frame["NUMBER_EC_CYCLES"].to_list().count("NULL") == 2226  # "NULL" stays text


def test_seattle_use_of_force_bom_is_gone(tables: dict[str, RawTable]) -> None:
    table = tables["seattle/Use_Of_Force.csv"]
    assert table.encoding == "utf-8-sig"
    assert table.columns[0] == "ID"
    assert not any("\ufeff" in name for name in table.columns)


def test_rhode_island_truncated_last_record_is_padded(tables: dict[str, RawTable]) -> None:
    table = tables["rhode_island/police.csv"]
    last = table.frame.row(-1, named=True)
    assert last["__row"] == 27919 and last["district"] is None
    assert last["stop_duration"] == "0-15 Min" and last["drugs_related_stop"] == "FALSE"
    assert table.problem_counts == {"short_row": 1}
    (problem,) = table.problems
    assert (problem.row, problem.column) == (27919, "district")
    assert table.frame["county_name"].null_count() == 27918  # an empty column stays empty


def test_fbi_table_78_header_under_title_rows(tables: dict[str, RawTable]) -> None:
    table = tables["fbi/Table_78_Full_time_Law_Enforcement_Employees_Texas_by_Cities_2020.xlsx"]
    assert (table.header_row, table.sheet) == (6, "20tbl78tx")
    assert table.columns == [
        "City",
        "Population",
        "Total law enforcement employees",
        "Total officers",
        "Total civilians",
    ]
    assert table.frame.row(0) == ("Abernathy", "2694", "5", "5", "0", 7)
    assert table.frame.row(-1) == ("Yoakum", "5956", "19", "12", "7", 611)
    assert table.problem_counts == {"title_rows_skipped": 1}


def test_austin_dates_and_numbers_render_as_text(tables: dict[str, RawTable]) -> None:
    table = tables["austin/Austin_Hate_Crimes_2017-2022_Cleaned.xlsx"]
    first = table.frame.row(0, named=True)
    assert first["incident_date"] == "2017-01-01"
    assert (first["under_18_victims"], first["over_18_victims"]) == ("0", "1")
    assert table.frame["offender_race"].to_list().count("White/Unknown ") > 0
    assert table.frame["incident_date"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


def test_census_values_keep_their_text(tables: dict[str, RawTable]) -> None:
    acs = tables["census/acs2017_county_data.csv"]
    cleveland = acs.frame.filter(pl.col("CountyId") == "40027").row(0, named=True)
    assert (cleveland["TotalPop"], cleveland["Hispanic"]) == ("274024", "8.2")
    assert cleveland["Pacific"] == "0.1"
    assert "Doña Ana County" in acs.frame["County"].to_list()
    places = tables["census/sub-est2019_all_places_subset.csv"]
    norman = places.frame.filter((pl.col("STATE") == "40") & (pl.col("PLACE") == "52500"))
    assert norman.row(0, named=True)["POPESTIMATE2019"] == "124880"


def test_blanks_are_null_and_placeholders_are_text(tables: dict[str, RawTable]) -> None:
    wapo = tables["national/fatal-police-shootings-data_wapo_2021snapshot.csv"]
    assert wapo.frame["race"].null_count() == 523
    terry = tables["seattle/Terry_Stops.csv"]
    assert "NULL" in terry.frame["CallType"].to_list()
    assert terry.columns[2] == "GO / SC Num"
    officers = tables["new_jersey/2021_NJOAGLEOD_Officer_Information.csv"]
    assert "Male " in officers.frame["Gender"].to_list()


def test_quoted_fields_with_commas(tables: dict[str, RawTable]) -> None:
    bias = tables["fbi/hate_crime_state_year_bias_1991-2014.csv"]
    mixed = "Anti-Lesbian, Gay, Bisexual, or Transgender, Mixed Group (LGBT)"
    assert bias.frame["bias_motivation"].to_list().count(mixed) == 753
    complaints = tables["philadelphia/ppd_complaints.csv"]
    assert complaints.frame["summary"].str.contains("½").any()
    assert complaints.frame["__row"][-1] == 5297


def test_legacy_xls_is_refused_with_what_to_upload_instead(real_data: Path) -> None:
    from openblotter.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        read_table(real_data / "bedford_va" / "BPD_USE_OF_FORCE_Stats_2014.xls")
    assert "BPD_USE_OF_FORCE_Stats_2014.xls" in str(refused.value)
    assert ".xlsx" in str(refused.value) and "CSV" in str(refused.value)
