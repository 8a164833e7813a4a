"""Officers of a complaint file with one row per complaint x allegation x officer
(Indianapolis, tests/data/real/indianapolis): an officer is counted once per complaint,
a complaint once, and a pair of officer and complainant once however many allegations
name them. Expected numbers are computed with duckdb over the raw file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from openblotter.services import community, reading
from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file

INDY = REAL_DATA / "indianapolis" / "IMPD_complaints_Dec_2020.csv"
RAW = f"read_csv('{INDY}', all_varchar=true, header=true)"


def sql(text: str) -> list[tuple]:
    return duckdb.sql(text.replace("RAW", RAW)).fetchall()


@pytest.fixture(scope="module")
def indy(tmp_path_factory):
    portal = make_portal(tmp_path_factory.mktemp("indy"))
    result = publish_file(portal, INDY, "indy", "2020-Q4", mapping=Path("indianapolis_complaints"))
    return portal, result


def test_officers_are_one_row_per_officer_and_complaint(indy) -> None:
    portal, result = indy
    officers = reading.table(
        portal, "indy_officers", [], ["complaint_id", "officer_number", "officer_race"]
    )
    [(with_id,)] = sql("SELECT count(DISTINCT (INCNUM, OFFNUM)) FROM RAW WHERE OFFNUM IS NOT NULL")
    # rows with no officer number but an officer's race, sex, age or unit: a person each
    [(without_id,)] = sql(
        "SELECT count(*) FROM RAW WHERE OFFNUM IS NULL AND coalesce(OFF_RACE, OFF_SEX, OFF_AGE,"
        " OFF_YR_EMPLOY, UDTEXT24C) IS NOT NULL"
    )
    assert (with_id, without_id) == (1657, 14)
    assert officers.height == with_id + without_id
    assert officers.select("complaint_id", "officer_number").is_duplicated().sum() == 0
    by_race = dict(officers.group_by("officer_race").len().iter_rows())
    white = (
        sql(
            "SELECT count(DISTINCT (INCNUM, OFFNUM)) FROM RAW WHERE OFF_RACE = 'White' AND OFFNUM IS NOT NULL"
        )[0][0]
        + sql("SELECT count(*) FROM RAW WHERE OFF_RACE = 'White' AND OFFNUM IS NULL")[0][0]
    )
    assert by_race["White"] == white == 1284 + 2
    [(rows,)] = sql("SELECT count(*) FROM RAW WHERE OFF_RACE = 'White'")
    assert rows == 2960  # what counting allegation rows gave
    assert result.report.facts["people"]["officers"]["rows"] == officers.height


def test_each_allegation_row_points_to_its_officer(indy) -> None:
    portal, _ = indy
    rows = reading.table(
        portal, "indy", [], ["complaint_id", "officer_number", "officers_involved", "allegation"]
    )
    [(source_rows, complaints)] = sql("SELECT count(*), count(DISTINCT INCNUM) FROM RAW")
    assert rows.height == source_rows == 3676  # no allegation row lost or duplicated
    assert rows["complaint_id"].n_unique() == complaints == 1298
    per_complaint = rows.group_by("complaint_id").agg(
        pl.col("officer_number").drop_nulls().n_unique().alias("named"),
        pl.col("officers_involved").first(),
    )
    assert (per_complaint["named"] == per_complaint["officers_involved"]).all()
    [(raw_max,)] = sql(
        "SELECT max(n) FROM (SELECT count(DISTINCT OFFNUM) n FROM RAW GROUP BY INCNUM)"
    )
    assert per_complaint["officers_involved"].max() == raw_max


def test_a_complaint_counts_once_and_a_pair_once_however_many_allegations(indy) -> None:
    portal, _ = indy
    pairs = community.race_pairs(portal, "indy")
    assert "once" in pairs["event_unit"]
    [(expected,)] = sql(
        "SELECT count(DISTINCT (INCNUM, coalesce(CITNUM, ''), coalesce(OFFNUM, 'row ' || OBJECTID)))"
        " FROM RAW WHERE OFFNUM IS NOT NULL OR coalesce(OFF_RACE, OFF_SEX, OFF_AGE,"
        " OFF_YR_EMPLOY, UDTEXT24C) IS NOT NULL"
    )
    [(nobody,)] = sql(
        "SELECT count(DISTINCT (INCNUM, coalesce(CITNUM, ''))) FROM RAW WHERE OFFNUM IS NULL AND"
        " coalesce(OFF_RACE, OFF_SEX, OFF_AGE, OFF_YR_EMPLOY, UDTEXT24C) IS NULL"
    )
    assert pairs["total"] == expected + nobody
    assert pairs["total"] < 3676  # counted row by row before
    # the officers' side: a complaint with three officers is three pairs, never nine
    by_officer = sum(pairs["officer_totals"].values())
    assert by_officer == pairs["total"]


PHILADELPHIA = REAL_DATA / "philadelphia"


def test_philadelphia_officers_joined_from_the_disciplines_file(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    publish_file(
        portal,
        PHILADELPHIA / "ppd_complaints.csv",
        "phl",
        "2019-Q1",
        mapping=Path("philadelphia_complaints"),
    )
    disciplines = f"read_csv('{PHILADELPHIA / 'ppd_complaint_disciplines.csv'}', all_varchar=true)"
    complaints = f"read_csv('{PHILADELPHIA / 'ppd_complaints.csv'}', all_varchar=true)"
    # an officer: their officer_id, else their initials; a row naming nobody is nobody
    [(expected,)] = duckdb.sql(
        "SELECT count(DISTINCT (complaint_id, coalesce('i' || officer_id, 'n' || "
        f"officer_initials, 'r' || discipline_id))) FROM {disciplines} WHERE complaint_id IN "
        f"(SELECT complaint_id FROM {complaints}) AND coalesce(officer_id, officer_initials,"
        " po_race, po_sex, po_assigned_unit) IS NOT NULL"
    ).fetchall()
    officers = reading.table(portal, "phl_officers", [], ["complaint_id", "officer_number"])
    assert officers.height == expected == 8737
    [(rows,)] = duckdb.sql(f"SELECT count(*) FROM {disciplines}").fetchall()
    assert officers.height < rows == 13332  # rows repeat officers once per allegation
    pairs = community.race_pairs(portal, "phl")
    allegation_rows = reading.table(portal, "phl", [], ["complaint_id"]).height
    assert pairs["total"] < allegation_rows
