"""The community benchmark end to end: published contacts against published demographics."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.services.analysis import benchmark
from openblotter.services.residents import residents_by_group
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import (
    DEMOGRAPHICS_HEADER,
    publish_file,
    write_aged_contacts,
    write_contacts_by_race,
    write_csv,
    write_small_city_residents,
)


@pytest.fixture()
def benchmark_portal(portal, tmp_path):
    publish_file(
        portal,
        write_small_city_residents(tmp_path / "d.csv"),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(
        portal, write_contacts_by_race(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    return portal


def test_rates_ratios_and_unknown_row(benchmark_portal):
    result = benchmark(benchmark_portal, "contacts", by="subject_race", period="2025")
    rows = {r["group"]: r for r in result["rows"]}
    black = rows["Black or African American alone, not Hispanic or Latino"]
    white = rows["White alone, not Hispanic or Latino"]
    hispanic = rows["Hispanic or Latino"]
    assert (black["events"], white["events"], hispanic["events"]) == (40, 50, 10)
    assert black["rate_per_1000"] == pytest.approx(200.0)
    assert white["rate_per_1000"] == pytest.approx(50 / 600 * 1000)
    # Reference: all residents, with the 100 events of known group -> 100 per 1,000.
    assert black["rate_ratio"] == pytest.approx(2.0)
    assert black["ci_low"] < 2.0 < black["ci_high"]
    unknown = [r for r in result["rows"] if r["placement"] == "unknown"]
    assert unknown and unknown[0]["events"] == 7 and unknown[0]["rate_per_1000"] is None
    assert result["events_total"] == 107
    assert result["mapping"]["codes"]["Black or African American"].startswith("Black")
    assert result["caveats"] and result["method"]
    assert result["event_unit"].startswith("one community member")


def test_filters_reference_and_periods(benchmark_portal):
    by_white = benchmark(
        benchmark_portal, "contacts", period="2025", reference="White alone, not Hispanic or Latino"
    )
    rows = {r["group"]: r for r in by_white["rows"]}
    assert rows["Black or African American alone, not Hispanic or Latino"][
        "rate_ratio"
    ] == pytest.approx(200 / (50 / 600 * 1000))
    earlier = benchmark(benchmark_portal, "contacts", period="2024-Q2")
    assert earlier["events_total"] == 99
    # An empty period is refused, not answered with rates of 0 (issue 12).
    with pytest.raises(InvalidInput, match="No events in the period '2025'"):
        benchmark(
            benchmark_portal,
            "contacts",
            period="2025",
            filters=[("contact_type", "Traffic citation")],
        )


def test_benchmark_api_contract(benchmark_portal, tmp_path):
    app = create_app(benchmark_portal.settings)
    client = TestClient(app)
    body = client.get(
        "/api/v1/analysis/benchmark",
        params={"dataset": "contacts", "by": "subject_race", "period": "2025"},
    ).json()
    assert {"rows", "method", "mapping", "caveats"} <= body.keys()
    row = body["rows"][0]
    assert {
        "events",
        "population",
        "rate_per_1000",
        "rate_ratio",
        "ci_low",
        "ci_high",
        "reliable",
    } <= row.keys()
    bad = client.get("/api/v1/analysis/benchmark", params={"dataset": "contacts", "period": "soon"})
    assert bad.status_code == 400 and bad.json()["error"]["detail"]["parameter"] == "period"


# --- by age group -----------------------------------------------------------------------------

AREA_2020 = ["4052500", "Test city", "Place", "Oklahoma", "2020", "ACS 2020 (test values)"]
#: Residents by census age group (race and ethnicity All): some of both sexes, some only by sex.
AGE_ROWS = [
    ("All", "All", "All", "All", 1000, ""),
    ("All", "All", "Male", "All", 490, 9),
    ("All", "All", "Female", "All", 510, 9),
    ("All", "All", "All", "Under 18 years", 200, 30),
    ("All", "All", "Male", "18 and 19 years", 20, 3),
    ("All", "All", "Female", "18 and 19 years", 30, 4),
    ("All", "All", "Male", "20 years", 25, 6),
    ("All", "All", "Female", "20 years", 25, 8),
    ("All", "All", "All", "25 to 34 years", 300, 40),
    ("All", "All", "All", "35 to 44 years", 150, 20),
    ("All", "All", "All", "45 to 54 years", 100, 15),
    ("All", "All", "All", "55 to 64 years", 80, 12),
    ("All", "All", "All", "65 years and over", 70, 10),
    # Not residents by age alone: must not be added into a band.
    ("White", "Not Hispanic or Latino", "All", "Under 18 years", 120, 25),
]
BANDS = [
    "Under 18 years",
    "18 to 24 years",
    "25 to 34 years",
    "35 to 44 years",
    "45 to 54 years",
    "55 to 64 years",
    "65 years and over",
]


def _age_demographics(path, extra=()):
    # A newer year with race only: a benchmark by age must read the 2020 rows.
    area_2022 = [*AREA_2020[:4], "2022", "2022 race table (test values)"]
    rows = [[*AREA_2020, *r] for r in [*AGE_ROWS, *extra]]
    rows += [
        [*area_2022, "All", "All", "All", "All", 1100, ""],
        [*area_2022, "White", "Not Hispanic or Latino", "All", "All", 700, ""],
    ]
    return write_csv(path, DEMOGRAPHICS_HEADER, rows)


def _aged_force(path):
    """Use of force, one row per force application: three people, six rows."""
    header = ["record_id", "force_number", "incident_id", "incident_date", "subject_id"]
    rows = [
        [1, 1, "U1", "2025-02-01", "S1", 30],  # person 1 of incident U1, three applications
        [1, 2, "U1", "2025-02-01", "S1", 30],
        [1, 3, "U1", "2025-02-01", "S1", 30],
        [2, 1, "U1", "2025-02-01", "S2", 19],  # person 2 of U1, two applications
        [2, 2, "U1", "2025-02-01", "S2", 19],
        [3, 1, "U2", "2025-03-01", "S1", 30],  # subject number 1 again, another incident
    ]
    return write_csv(path, [*header, "subject_age"], rows)


@pytest.fixture()
def age_portal(portal, tmp_path):
    publish_file(
        portal,
        _age_demographics(tmp_path / "d.csv"),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(
        portal, write_aged_contacts(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    return portal


def test_age_groups_bin_ages_and_agency_bands_and_keep_the_rest_in_their_own_rows(age_portal):
    result = benchmark(age_portal, "contacts", by="subject_age_group", period="2025")
    rows = {r["group"]: r for r in result["rows"]}
    assert [r["group"] for r in result["rows"] if r["placement"] == "category"] == BANDS
    events = {band: rows[band]["events"] for band in BANDS}
    assert events == {
        "Under 18 years": 11,
        "18 to 24 years": 14,
        "25 to 34 years": 3,
        "35 to 44 years": 0,
        "45 to 54 years": 0,
        "55 to 64 years": 0,
        "65 years and over": 2,
    }
    unknown = next(r for r in result["rows"] if r["placement"] == "unknown")
    assert unknown["events"] == 7 and unknown["rate_per_1000"] is None
    straddling = rows["26 - 35"]
    assert straddling["placement"] == "not_in_mapping" and straddling["events"] == 6
    assert straddling["population"] is None
    assert result["events_total"] == 43
    assert rows["18 to 24 years"]["rate_per_1000"] == pytest.approx(14 / 100 * 1000)
    # Reference: all 1,000 residents with the 30 events of known age.
    assert rows["18 to 24 years"]["rate_ratio"] == pytest.approx((14 / 30) / (100 / 1000))
    assert any("age at the event" in note for note in result["mapping"]["notes"])


def test_residents_by_age_band_add_sexes_and_census_groups_from_the_year_with_ages(age_portal):
    result = benchmark(age_portal, "contacts", by="subject_age_group", period="2025")
    rows = {r["group"]: r for r in result["rows"]}
    # 18 and 19 (Male 20 ± 3, Female 30 ± 4) + 20 (Male 25 ± 6, Female 25 ± 8).
    assert rows["18 to 24 years"]["population"] == 100
    assert rows["18 to 24 years"]["population_moe"] == pytest.approx((9 + 16 + 36 + 64) ** 0.5)
    # A row of both sexes is used as it is; the race row of the same age group is not added.
    assert (rows["Under 18 years"]["population"], rows["Under 18 years"]["population_moe"]) == (
        200,
        30,
    )
    assert sum(rows[band]["population"] for band in BANDS) == 1000
    assert result["population_total"] == 1000
    assert result["population_source"]["year"] == 2020  # not 2022, which has race only
    # By race the newest year with race rows is read (these contacts record no race, so
    # their benchmark by race is refused: the residents are read directly).
    assert residents_by_group(age_portal, "race_ethnicity")[2]["year"] == 2022
    with pytest.raises(InvalidInput, match="has subject_race but this agency.s file does not"):
        benchmark(age_portal, "contacts", by="subject_race", period="2025")


def test_age_groups_count_each_person_once_in_use_of_force(age_portal, tmp_path):
    publish_file(
        age_portal, _aged_force(tmp_path / "f.csv"), "force", "2026-Q3", family="use_of_force"
    )
    result = benchmark(age_portal, "force", by="subject_age_group", period="2025")
    rows = {r["group"]: r["events"] for r in result["rows"]}
    assert rows["25 to 34 years"] == 2 and rows["18 to 24 years"] == 1
    assert result["events_total"] == 3


def _custom_without_ages(portal, path):
    """A custom dataset (schema inferred from the file) with race but no age field."""
    rows = [[n, "2025-05-01", "White"] for n in range(1, 6)]
    csv = write_csv(path, ["record_id", "incident_date", "subject_race"], rows)
    publish_file(portal, csv, "custom_stops", "2026-Q3")
    return "custom_stops"


def test_age_groups_need_ages_in_the_events_and_the_residents(benchmark_portal, tmp_path):
    custom = _custom_without_ages(benchmark_portal, tmp_path / "s.csv")
    with pytest.raises(InvalidInput, match="no subject_age or subject_age_group field"):
        benchmark(benchmark_portal, custom, by="subject_age_group", period="2025")
    # A family whose file does not record ages: the family has the fields, the agency not.
    with pytest.raises(InvalidInput, match="this agency's file does not record them"):
        benchmark(benchmark_portal, "contacts", by="subject_age_group", period="2025")
    # Events with ages, but the residents are not counted by age.
    aged = _aged_force(tmp_path / "f.csv")
    publish_file(benchmark_portal, aged, "force", "2026-Q3", family="use_of_force")
    with pytest.raises(NotFound, match="does not count residents by age group"):
        benchmark(benchmark_portal, "force", by="subject_age_group", period="2025")


def test_ages_a_custom_dataset_holds_as_text_are_read_as_labels(age_portal, tmp_path):
    ages = ["25", "17 yrs", "40", "adult", ""]
    rows = [[n, "2025-05-01", age] for n, age in enumerate(ages, start=1)]
    csv = write_csv(tmp_path / "t.csv", ["record_id", "incident_date", "subject_age"], rows)
    publish_file(age_portal, csv, "text_ages", "2026-Q3")
    result = benchmark(age_portal, "text_ages", by="subject_age_group", period="2025")
    events = {r["group"]: r["events"] for r in result["rows"] if r["events"]}
    assert events == {
        "Under 18 years": 1,
        "25 to 34 years": 1,
        "35 to 44 years": 1,
        "adult": 1,
        "Unknown": 1,
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("All", "All", "All", "35 to 64 years", 330, 40), "'35 to 64 years'.*straddles"),
        (("All", "All", "Male", "5 to 9 years", 10, 2), "'5 to 9 years' for Male only"),
    ],
)
def test_residents_in_age_groups_that_cannot_be_banded_are_refused(
    portal, tmp_path, extra, message
):
    publish_file(
        portal,
        _age_demographics(tmp_path / "d.csv", extra=[extra]),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(
        portal, write_aged_contacts(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    with pytest.raises(InvalidInput, match=message) as error:
        benchmark(portal, "contacts", by="subject_age_group", period="2025")
    assert "'community_demographics'" in error.value.message


def test_seattle_terry_stops_by_age_group(age_portal):
    publish_file(
        age_portal,
        REAL_DATA / "seattle/Terry_Stops.csv",
        "terry",
        "2017-Q3",
        family="contacts",
        mapping=Path("seattle_terry_stops"),
    )
    raw = pl.read_csv(REAL_DATA / "seattle/Terry_Stops.csv", infer_schema_length=0)
    in_2016 = raw.filter(pl.col("Reported_Date").str.starts_with("2016"))
    expected = dict(in_2016.group_by("SubjectAgeGroup").len().iter_rows())
    result = benchmark(age_portal, "terry", by="subject_age_group", period="2016")
    rows = {r["group"]: r for r in result["rows"]}
    # Seattle's 1 - 17 fits the census's Under 18; "-" is blank; its other bands straddle.
    assert rows["Under 18 years"]["events"] == expected["1 - 17"] > 0
    assert rows["Unknown"]["events"] == expected["-"] > 0
    for band in ("18 - 25", "26 - 35", "36 - 45", "46 - 55", "56 and Above"):
        assert rows[band]["placement"] == "not_in_mapping"
        assert rows[band]["events"] == expected[band] > 0
    assert result["events_total"] == in_2016.height


def test_benchmark_api_and_page_by_age_group(age_portal):
    client = TestClient(create_app(age_portal.settings))
    params = {"dataset": "contacts", "by": "subject_age_group", "period": "2025"}
    body = client.get("/api/v1/analysis/benchmark", params=params).json()
    assert body["by"] == "subject_age_group"
    assert [r["group"] for r in body["rows"] if r["placement"] == "category"] == BANDS
    assert body["mapping"]["dimension"] == "age_group"
    page = client.get("/analysis/benchmark", params=params)
    assert page.status_code == 200
    html = page.text
    assert '<option value="subject_age_group" selected>Age group</option>' in html
    positions = [html.index(f'<th scope="row">{band}') for band in BANDS]
    assert positions == sorted(positions)  # youngest first, as the census orders them
    assert '<th scope="row">26 - 35' in html
    assert "are people who are not Hispanic or Latino" not in html  # a race-only caption


def test_benchmark_api_explains_a_dataset_without_ages(benchmark_portal, tmp_path):
    custom = _custom_without_ages(benchmark_portal, tmp_path / "s.csv")
    client = TestClient(create_app(benchmark_portal.settings))
    params = {"dataset": custom, "by": "subject_age_group", "period": "2025"}
    bad = client.get("/api/v1/analysis/benchmark", params=params)
    assert bad.status_code == 400
    assert bad.json()["error"]["detail"]["fields_needed"] == ["subject_age", "subject_age_group"]
