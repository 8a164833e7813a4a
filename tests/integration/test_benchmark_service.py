"""The community benchmark end to end: published contacts against published demographics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openblotter.services.analysis import benchmark
from openblotter.web.app import create_app
from tests.factories import publish_file, write_csv, write_demographics


def _demographics(path):
    area = ["4052500", "Test city", "Place", "Oklahoma", "2020", "2020 Census"]
    return write_demographics(
        path,
        area,
        [
            ("All", "All", "All", 1000),
            ("Hispanic or Latino", "Hispanic or Latino", "All", 100),
            ("White", "Not Hispanic or Latino", "All", 600),
            ("Black or African American", "Not Hispanic or Latino", "All", 200),
            ("Asian", "Not Hispanic or Latino", "All", 100),
            ("All", "All", "Male", 490),
            ("All", "All", "Female", 510),
        ],
    )


def _contacts(path):
    rows, n = [], 0
    for race, ethnicity, count, year in [
        ("Black", "Not Hispanic or Latino", 40, 2025),
        ("White", "Not Hispanic or Latino", 50, 2025),
        ("White", "Hispanic or Latino", 10, 2025),
        ("", "", 7, 2025),
        ("White", "", 99, 2024),
    ]:
        for _ in range(count):
            n += 1
            rows.append([n, "Arrest", f"{year}-05-01", race, ethnicity, "Male"])
    return write_csv(
        path,
        [
            "record_id",
            "contact_type",
            "incident_date",
            "subject_race",
            "subject_ethnicity",
            "subject_sex",
        ],
        rows,
    )


@pytest.fixture()
def benchmark_portal(portal, tmp_path):
    publish_file(
        portal,
        _demographics(tmp_path / "d.csv"),
        "community_demographics",
        "2026-Q3",
        family="community_demographics",
    )
    publish_file(portal, _contacts(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts")
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
    none = benchmark(
        benchmark_portal, "contacts", period="2025", filters=[("contact_type", "Traffic citation")]
    )
    assert none["events_total"] == 0


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
