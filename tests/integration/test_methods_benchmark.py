"""Benchmark and funnel: periods from the data, caveats from the computation, census percentages,
and the Rhode Island Hispanic recording change flagged in the 2006 and 2007 rate ratios."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from openblotter.domain.errors import InvalidInput
from openblotter.services.analysis import benchmark
from openblotter.services.funnel import funnel
from tests.conftest import REAL_DATA
from tests.factories import (
    DEMOGRAPHICS_HEADER,
    RHODE_ISLAND_AREA,
    RHODE_ISLAND_RESIDENTS,
    make_portal,
    publish_file,
    write_contacts_by_race,
    write_csv,
    write_demographics,
)


@pytest.fixture(scope="module")
def ri_portal(tmp_path_factory):
    work = tmp_path_factory.mktemp("ri_benchmark")
    portal = make_portal(work / "portal")
    publish_file(
        portal,
        write_demographics(work / "d.csv", RHODE_ISLAND_AREA, RHODE_ISLAND_RESIDENTS),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    # A release label far from the data's dates: periods must come from the dates.
    publish_file(
        portal,
        REAL_DATA / "rhode_island/police.csv",
        "ri_stops",
        "2026-Q3",
        family="contacts",
        mapping=Path("rhode_island_traffic_stops"),
    )
    return portal


def _row(result, group):
    return next(r for r in result["rows"] if r["group"].startswith(group))


@pytest.mark.parametrize("year", ["2006", "2007"])
def test_hispanic_rate_ratios_of_2006_and_2007_are_flagged(ri_portal, year):
    result = benchmark(ri_portal, "ri_stops", period=year)
    hispanic = _row(result, "Hispanic")
    assert hispanic["events"] > 20  # enough events: the counts alone would call it reliable
    assert hispanic["reliable"] is False
    assert any("2007-04" in note for note in hispanic["notes"])
    caveat = next(c for c in result["caveats"] if c["key"] == "recording_changed")
    assert "2007-04" in caveat["text"]
    position = {"2006": "before", "2007": "spans"}[year]
    assert position in {c["position"] for c in result["recording_changes"]}


def test_a_period_after_the_change_is_noted_but_not_held_against_the_figure(ri_portal):
    hispanic = _row(benchmark(ri_portal, "ri_stops", period="2008"), "Hispanic")
    assert hispanic["recording_change"] and hispanic["reliable"] is True


def test_last4q_and_all_are_counted_from_the_data_dates(ri_portal):
    last = benchmark(ri_portal, "ri_stops", period="last4q")
    assert (last["first_date"], last["last_date"]) == ("2007-10-01", "2008-08-07")
    raw = pd.read_csv(REAL_DATA / "rhode_island/police.csv", dtype=str)
    in_last = raw[raw["stop_date"] >= "2007-10-01"]
    assert last["events_total"] == len(in_last)
    everything = benchmark(ri_portal, "ri_stops", period="all")
    assert everything["events_total"] == len(raw)
    assert everything["first_date"] == "2005-01-04"


@pytest.mark.parametrize("period", ["2012", "2026-Q3"])
def test_an_empty_period_is_refused_with_the_span_the_data_covers(ri_portal, period):
    with pytest.raises(InvalidInput, match="2005-01-04 to 2008-08-07"):
        benchmark(ri_portal, "ri_stops", period=period)
    with pytest.raises(InvalidInput, match="No events"):
        funnel(ri_portal, "ri_stops", by="district", period=period)


def test_the_acs_percent_table_is_turned_into_people(tmp_path):
    portal = make_portal(tmp_path / "portal")
    publish_file(
        portal,
        REAL_DATA / "census/acs2017_county_data.csv",
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
        mapping=Path("census_acs2017_county"),
    )
    publish_file(
        portal, write_contacts_by_race(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    result = benchmark(portal, "contacts", period="2025")  # was HTTP 500: float(None)
    county = pd.read_csv(REAL_DATA / "census/acs2017_county_data.csv")
    county = county[county["CountyId"] == 40027].iloc[0]
    white = _row(result, "White alone")
    assert white["population"] == pytest.approx(county["White"] / 100 * county["TotalPop"])
    assert white["population_moe"] is None
    assert result["population_source"]["converted_from_percent"]["total"] == county["TotalPop"]
    census = next(c for c in result["caveats"] if c["key"] == "census_estimate")
    assert (
        "no margin of error" in census["text"]
        and "no margin of error" in (result["method"]["population_error"])
    )


def _demographics_with_moe(path: Path, moe: int | None) -> Path:
    rows = [
        [
            *RHODE_ISLAND_AREA[:4],
            "2022",
            "ACS 2022 5-year",
            race,
            ethnicity,
            sex,
            "All",
            count,
            moe or "",
        ]
        for race, ethnicity, sex, count in RHODE_ISLAND_RESIDENTS
    ]
    return write_csv(path, DEMOGRAPHICS_HEADER, rows)


@pytest.mark.parametrize("moe", [None, 900])
@pytest.mark.parametrize("small", [5, 100_000])
def test_caveats_follow_the_computation(tmp_path, moe, small):
    portal = make_portal(tmp_path / "portal", small_number_threshold=small)
    publish_file(
        portal,
        _demographics_with_moe(tmp_path / "d.csv", moe),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(
        portal, write_contacts_by_race(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    result = benchmark(portal, "contacts", period="2025")
    caveats = {c["key"]: c for c in result["caveats"]}
    includes = "the confidence intervals here include it" in caveats["census_estimate"]["text"]
    assert includes == (moe is not None)
    assert ("MOVER" in result["method"]["rate_interval"]) == (moe is not None)
    unreliable = [r for r in result["rows"] if r["reliable"] is False]
    assert ("small_numbers" in caveats) == bool(unreliable)
    if unreliable:
        assert f"fewer than {small}" in caveats["small_numbers"]["text"]
    # Seven events with no race: the unknown-group caveat counts them.
    assert "7 events" in caveats["unknown_group"]["text"]
    assert result["event_unit"] == "one community member in one contact (arrest)"


def test_a_stops_dataset_counts_drivers_in_stops_whatever_they_ended_in(ri_portal):
    result = benchmark(ri_portal, "ri_stops", period="2006")
    assert result["event_unit"].startswith("one driver (or person stopped) in one traffic stop")


def test_funnel_small_numbers_caveat_speaks_of_its_limits_only_when_a_unit_is_small(ri_portal):
    result = funnel(ri_portal, "ri_stops", by="district", period="2006")
    small = [u for u in result["units"] if u["small"]]
    caveats = {c["key"]: c for c in result["caveats"]}
    assert ("small_numbers" in caveats) == bool(small)
    if small:
        assert "control limits" in caveats["small_numbers"]["text"]
        assert "interval" not in caveats["small_numbers"]["text"]


def test_a_funnel_of_hispanic_stops_by_quarter_says_the_recording_changed(ri_portal):
    result = funnel(
        ri_portal, "ri_stops", by="quarter", filters=[("subject_race", "Hispanic or Latino")]
    )
    change = next(c for c in result["recording_changes"] if c["month"] == "2007-04")
    assert change["position"] == "spans"
    assert "recording_changed" in [c["key"] for c in result["caveats"]]
    unfiltered = funnel(ri_portal, "ri_stops", by="quarter")
    assert unfiltered["recording_changes"] == []  # counts of all stops: race is not used


def test_a_benchmark_filtered_on_a_changed_value_flags_every_row(ri_portal):
    result = benchmark(ri_portal, "ri_stops", period="2007", filters=[("reason", "Speeding")])
    rated = [r for r in result["rows"] if r["reliable"] is not None]
    assert rated and all(r["recording_change"] and r["reliable"] is False for r in rated)
