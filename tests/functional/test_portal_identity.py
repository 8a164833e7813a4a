"""Whose portal it is: the configured agency and city everywhere, never Norman's outside the demo.

An unconfigured portal says on its pages how to set it up; the veil of
darkness refuses (400, with the settings to set) until the city is located.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openblotter.config import DEMO_IDENTITY, load_settings
from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file, write_csv

HTML = {"accept": "text/html"}
PAGES = ("/", "/datasets/stops", "/datasets/stops/explore", "/datasets/stops/charts", "/analysis")
PROVIDENCE = {
    "agency": "Providence Police Department",
    "city_name": "Providence",
    "state": "Rhode Island",
    "city_latitude": 41.824,
    "city_longitude": -71.4128,
    "city_timezone": "America/New_York",
    "contact_email": "opendata@providenceri.gov",
    "license": "CC-BY-4.0",
}


def _client(data_dir: Path, **identity: object) -> Iterator[TestClient]:
    app = create_app(make_settings(data_dir, **identity))
    stops = write_csv(
        data_dir / "stops.csv",
        ["stop_id", "incident_date", "incident_time", "subject_race"],
        [[1, "2024-01-05", "17:30", "White"], [2, "2024-06-05", "21:10", "Black"]],
    )
    publish_file(app.state.portal, stops, "stops", "2024-Q2", title="Stops")
    with TestClient(app, headers=HTML) as client:
        yield client


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from _client(tmp_path_factory.mktemp("unconfigured"))


@pytest.fixture(scope="module")
def providence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from _client(tmp_path_factory.mktemp("providence"), **PROVIDENCE)


@pytest.mark.parametrize("path", PAGES)
def test_an_unconfigured_portal_says_how_to_set_it_up_and_borrows_no_identity(
    unconfigured: TestClient, path: str
) -> None:
    html = unconfigured.get(path).text
    assert "This portal is not set up yet" in html and "openblotter init" in html
    for borrowed in ("Norman", "Oklahoma", "(demo)", "None"):
        assert borrowed not in html, borrowed
    assert "Published by the police department." in html


@pytest.mark.parametrize("path", PAGES)
def test_a_configured_portal_shows_its_agency_city_contact_and_licence(
    providence: TestClient, path: str
) -> None:
    html = providence.get(path).text
    assert "This portal is not set up yet" not in html and "Norman" not in html
    assert '<span class="ob-header__agency">Providence Police Department</span>' in html
    assert "Published by Providence Police Department, Providence, Rhode Island." in html
    assert '<a href="mailto:opendata@providenceri.gov">' in html
    assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC-BY-4.0</a>' in html


def test_the_api_description_names_the_configured_agency(
    providence: TestClient, unconfigured: TestClient
) -> None:
    assert "Providence Police Department" in providence.get("/openapi.json").text
    assert "Norman" not in unconfigured.get("/openapi.json").text


def test_the_veil_of_darkness_refuses_a_portal_with_no_location(unconfigured: TestClient) -> None:
    answer = unconfigured.get("/api/v1/analysis/veil-of-darkness", params={"dataset": "stops"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and "no location configured" in error["message"]
    assert (
        "OPENBLOTTER_CITY_LATITUDE" in error["message"] and "openblotter init" in error["message"]
    )
    assert error["detail"]["settings"] == ["city_latitude", "city_longitude", "city_timezone"]
    page = unconfigured.get("/analysis/darkness", params={"dataset": "stops"})
    assert page.status_code == 400 and "no location configured" in page.text


def test_only_the_demo_takes_normans_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENBLOTTER_CONFIG", "OPENBLOTTER_AGENCY", "OPENBLOTTER_CITY_NAME"):
        monkeypatch.delenv(name, raising=False)
    plain = load_settings(salt="x" * 32)
    assert plain.agency is None and plain.place_name is None
    assert plain.missing_location == ["city_latitude", "city_longitude", "city_timezone"]
    demo = load_settings(demo=True)
    assert demo.agency == DEMO_IDENTITY["agency"] and demo.place_name == "Norman, Oklahoma"
    assert demo.missing_location == []
    own = load_settings(demo=True, agency="Test PD", city_latitude=41.8)
    assert own.agency == "Test PD" and own.city_latitude == 41.8  # what is set wins


def test_the_api_docs_load_only_the_portals_own_files(providence: TestClient) -> None:
    docs = providence.get("/api/docs")
    assert docs.status_code == 200 and "Content-Security-Policy" in docs.headers
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', docs.text)
    assert any("vendor/swagger-ui/swagger-ui-bundle.js" in a for a in assets)
    # Same-origin paths only (the feed is a rel="alternate" link, never fetched by the page).
    assert all(a.startswith(("/static/", "data:", "/feed.atom")) for a in assets), assets
    assert 'href="/api/reference"' in docs.text
    reference = providence.get("/api/reference").text
    for path in providence.get("/openapi.json").json()["paths"]:
        assert f"{path}</code></h3>" in reference.replace("&#123;", "{").replace("&#125;", "}")


def test_a_catalog_of_demo_datasets_says_it_once(tmp_path: Path) -> None:
    """The demo's 14 cards carried the warning twice each (28 times); once is enough."""
    app = create_app(make_settings(tmp_path, demo=True))
    for number in range(14):
        rows = write_csv(tmp_path / f"d{number}.csv", ["id", "kind"], [[1, "a"], [2, "b"]])
        publish_file(app.state.portal, rows, f"demo_{number}", "2024-Q2", synthetic=True)
    with TestClient(app, headers=HTML) as client:
        html = client.get("/").text
    assert html.count("Synthetic demonstration data") == 1
    assert html.count("ob-synthetic") == 1 and "ob-tag--demo" not in html
    assert html.count('class="usa-card ') == 14
