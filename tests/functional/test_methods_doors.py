"""Issue 12 through the doors: API, pages, CSV and CLI of the veil of darkness, the outcome tests
and the recording changes, on the Rhode Island stops published with Providence's coordinates."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openblotter.cli import app as cli_app
from openblotter.services.darkness import darkness
from openblotter.web.app import create_app
from tests.factories import (
    PROVIDENCE,
    RHODE_ISLAND_AREA,
    RHODE_ISLAND_RESIDENTS,
    TEST_SALT,
    make_portal,
    publish_file,
    publish_rhode_island,
    write_contacts_by_race,
    write_demographics,
)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    work = tmp_path_factory.mktemp("doors")
    portal = make_portal(work / "portal", **PROVIDENCE)
    residents = write_demographics(work / "d.csv", RHODE_ISLAND_AREA, RHODE_ISLAND_RESIDENTS)
    publish_file(
        portal, residents, "community_demographics", "2026-Q3", family="community_demographics"
    )
    publish_rhode_island(portal)
    return portal


@pytest.fixture(scope="module")
def client(portal):
    return TestClient(create_app(portal.settings))


def test_darkness_api_states_comparison_controls_window_and_both_estimates(client, portal):
    params = {"dataset": "ri_stops", "group": "Hispanic or Latino", "controls": "year"}
    body = client.get("/api/v1/analysis/veil-of-darkness", params=params).json()
    direct = darkness(portal, "ri_stops", group="Hispanic or Latino", controls=["year"])
    assert body["odds_ratio"] == pytest.approx(direct["odds_ratio"])
    assert body["comparison"].endswith("against drivers recorded as White")
    assert [e["label"] for e in body["estimates"]] == ["clock time only", "with controls"]
    assert body["control_keys"] == ["year"] and body["window_start"] and body["excluded"]
    assert body["reliable"] is False and body["recording_changes"]


def test_darkness_api_refuses_unknown_controls_and_a_portal_without_a_place(client, portal):
    bad = client.get(
        "/api/v1/analysis/veil-of-darkness", params={"dataset": "ri_stops", "controls": "moon"}
    )
    assert bad.status_code == 400 and "Unknown control" in bad.text
    unplaced = TestClient(create_app(portal.settings.model_copy(update={"city_timezone": None})))
    refused = unplaced.get("/api/v1/analysis/veil-of-darkness", params={"dataset": "ri_stops"})
    assert refused.status_code == 400 and "no location configured" in refused.text
    page = unplaced.get("/analysis/darkness", params={"dataset": "ri_stops"})
    assert page.status_code == 400 and "no location configured" in page.text


def test_darkness_page_shows_both_estimates_and_the_recording_change(client):
    page = client.get(
        "/analysis/darkness", params={"dataset": "ri_stops", "group": "Hispanic or Latino"}
    )
    assert page.status_code == 200
    html = page.text
    assert "clock time only" in html and "with controls" in html
    assert "against drivers recorded as White" in html
    assert 'id="recording-changes"' in html and "2007-04" in html
    assert "not reliable" in html


def test_outcome_tests_api_page_and_csv(client):
    body = client.get("/api/v1/analysis/outcome-tests", params={"dataset": "ri_stops"}).json()
    assert body["rows"] and body["method"].startswith("search rate")
    page = client.get("/analysis/outcome-tests", params={"dataset": "ri_stops"})
    assert page.status_code == 200 and "Hispanic or Latino" in page.text
    assert "does not record what searches found" in page.text
    csv = client.get("/api/v1/analysis/outcome-tests.csv", params={"dataset": "ri_stops"})
    assert csv.status_code == 200 and csv.text.startswith("group,stops,searches")
    empty = client.get(
        "/api/v1/analysis/outcome-tests", params={"dataset": "ri_stops", "period": "2015"}
    )
    assert empty.status_code == 400 and "No events" in empty.text


def test_dataset_page_lists_how_recording_changed(client):
    page = client.get("/datasets/ri_stops")
    assert page.status_code == 200
    assert "How recording changed" in page.text and "2007-04" in page.text
    listed = client.get("/api/v1/analysis/recording-changes", params={"dataset": "ri_stops"}).json()
    assert any(c["category"] == "Hispanic or Latino" for c in listed["changes"])


def test_cli_prints_the_darkness_estimates_and_the_outcome_tests(portal):
    env = {"OPENBLOTTER_DATA_DIR": str(portal.settings.data_dir), "OPENBLOTTER_SALT": TEST_SALT}
    env |= {f"OPENBLOTTER_{k.upper()}": str(v) for k, v in PROVIDENCE.items()}
    runner = CliRunner()
    dark = runner.invoke(
        cli_app, ["analyze", "darkness", "ri_stops", "--controls", "year"], env=env
    )
    assert dark.exit_code == 0, dark.output
    assert "clock time only" in dark.output and "with controls" in dark.output
    tests = runner.invoke(cli_app, ["analyze", "outcome-tests", "ri_stops"], env=env)
    assert tests.exit_code == 0, tests.output
    assert "Hispanic or Latino" in tests.output and "search rate" in tests.output
    changes = runner.invoke(cli_app, ["analyze", "recording-changes", "ri_stops"], env=env)
    assert changes.exit_code == 0 and "2007-04" in changes.output


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"controls": "year,month"}, "year or month"),
        ({"group": "Nobody"}, "both in the group and in the reference group"),
        ({"group": "Asian", "reference": "Asian"}, "are the same"),
        ({"period": "2005-Q9"}, "not a period"),
        ({"period": "2030"}, "No events"),
        ({"controls": "geography", "district": "Zone K1"}, "cannot"),
    ],
)
def test_darkness_answers_odd_choices_with_a_400_that_says_why(client, params, said):
    response = client.get(
        "/api/v1/analysis/veil-of-darkness", params={"dataset": "ri_stops", **params}
    )
    assert response.status_code == 400, response.text
    assert said in response.json()["error"]["message"]


def test_a_short_dataset_says_changes_could_not_be_looked_for(tmp_path):

    portal = make_portal(tmp_path / "short")
    publish_file(
        portal, write_contacts_by_race(tmp_path / "c.csv"), "contacts", "2026-Q3", family="contacts"
    )
    page = TestClient(create_app(portal.settings)).get("/datasets/contacts")
    assert page.status_code == 200 and "none could be looked for" in page.text


def test_benchmark_page_of_2006_marks_the_hispanic_row_and_says_why(client):
    page = client.get("/analysis/benchmark", params={"dataset": "ri_stops", "period": "2006"})
    assert page.status_code == 200
    html = page.text
    assert 'id="recording-changes"' in html and "this period lies before it" in html
    assert "How &#39;Hispanic or Latino&#39; was recorded changed from 2007-04" in html
    assert "recording changed, or few events" in html
    assert "2006-01-01 to 2006-12-31" in html
