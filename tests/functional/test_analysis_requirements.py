"""Every analysis refuses clearly (400, naming what is missing) on a dataset without its fields."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import DALLAS_RESIDENTS, make_settings, publish_file, write_demographics


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("requirements")
    indianapolis = {
        "city_latitude": 39.7684,
        "city_longitude": -86.1581,
        "city_timezone": "America/Indiana/Indianapolis",
    }
    app = create_app(make_settings(data_dir, **indianapolis))
    portal = app.state.portal
    # Indianapolis complaints published as a custom dataset: no subject_race, no beat.
    publish_file(portal, REAL_DATA / "indianapolis/IMPD_complaints_Dec_2020.csv", "indy", "2020-Q4")
    area = ["4819000", "Dallas city, Texas", "place", "TX", "2016", "ACS 2016 (rounded)"]
    residents = write_demographics(data_dir / "residents.csv", area, DALLAS_RESIDENTS)
    publish_file(
        portal, residents, "community_demographics", "2016-Q4", family="community_demographics"
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("url", "missing"),
    [
        ("/api/v1/analysis/benchmark?dataset=indy", ["subject_race"]),
        ("/api/v1/analysis/benchmark?dataset=indy&period=2019", ["subject_race"]),
        (
            "/api/v1/analysis/benchmark?dataset=indy&by=subject_age_group",
            ["subject_age or subject_age_group"],
        ),
        ("/api/v1/analysis/benchmark.csv?dataset=indy", ["subject_race"]),
        ("/api/v1/analysis/representation?dataset=indy", ["officer_race"]),
        ("/api/v1/analysis/race-pairs?dataset=indy", ["officer_race", "subject_race"]),
        (
            "/api/v1/analysis/veil-of-darkness?dataset=indy",
            ["incident_date", "incident_time", "subject_race"],
        ),
    ],
)
def test_an_analysis_of_a_custom_dataset_says_which_fields_are_missing(client, url, missing):
    # Before: the community benchmark and the representation index answered HTTP 500
    # (polars ColumnNotFoundError) for a custom dataset.
    response = client.get(url)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["detail"]["missing_fields"] == missing
    assert "occurred_dt" in error["detail"]["fields"]
    assert "indy" in error["message"] and missing[0] in error["message"]


def test_the_analysis_page_refuses_with_the_same_message(client):
    response = client.get("/analysis/benchmark?dataset=indy&period=2019")
    assert response.status_code == 400
    assert "has no subject_race field" in response.text


def test_a_funnel_by_a_field_the_dataset_lacks_refuses(client):
    response = client.get("/api/v1/analysis/funnel?dataset=indy")
    assert response.status_code == 400 and "has no beat" in response.json()["error"]["message"]


def test_an_analysis_a_custom_dataset_can_answer_still_runs(client):
    response = client.get("/api/v1/analysis/funnel?dataset=indy&by=quarter")
    assert response.status_code == 200, response.text
    assert response.json()["units"]
