"""What the publisher says reaches the reader; absent fields are 'not recorded', not Unknown;
a release states its data's own period apart from its quarter.

Dallas's real 2016 use-of-force file, published into the family with its bundled mapping,
as release 2026-Q3: its records end in 2016, and it has no officer age or subject ethnicity.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openblotter.services.publisher_notes import release_notes
from openblotter.web.app import create_app
from openblotter.web.pages import templates
from tests.factories import (
    DALLAS_RESIDENTS,
    DALLAS_USE_OF_FORCE,
    MAPPINGS,
    make_settings,
    publish_file,
    write_demographics,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    work = tmp_path_factory.mktemp("notes")
    app = create_app(make_settings(work / "portal"))
    portal = app.state.portal
    mapping = MAPPINGS / "dallas_use_of_force.toml"
    publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2026-Q3", mapping=mapping)
    area = ["4819000", "Dallas city, Texas", "place", "TX", "2016", "ACS 2016 (rounded)"]
    residents = write_demographics(work / "residents.csv", area, DALLAS_RESIDENTS)
    publish_file(
        portal, residents, "community_demographics", "2016-Q4", family="community_demographics"
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_release_states_the_datas_period_apart_from_its_quarter(client):
    manifest = client.get("/api/v1/datasets/use_of_force/releases/2026-Q3").json()
    # Before: "records from 2016-01-01 to 2026-09-30" (the quarter's end, not the data's).
    assert manifest["period"] == {
        "start": "2016-01-01",
        "end": "2016-12-31",
        "field": "incident_date",
    }
    assert manifest["quarter"] == {"label": "2026-Q3", "start": "2026-07-01", "end": "2026-09-30"}
    page = client.get("/datasets/use_of_force").text
    assert "records dated 2016-01-01 to 2016-12-31" in page
    assert "Published for the quarter 2026-Q3 (2026-07-01 to 2026-09-30)" in page


def test_the_mappings_description_notes_and_left_out_columns_reach_the_reader(client):
    detail = client.get("/api/v1/datasets/use_of_force").json()
    notes = detail["notes"]
    assert notes["publisher"]["description"].startswith("Dallas PD response to resistance")
    assert "second header" in notes["publisher"]["notes"]
    assert notes["publisher"]["mapping"] == "dallas_use_of_force.toml"
    assert "OFFICER_HIRE_DATE" in notes["columns_left_out"]
    assert notes["blank_as_unknown"]["subject_race"] == 77
    manifest = client.get("/api/v1/datasets/use_of_force/releases/2026-Q3").json()
    assert manifest["notes"] == notes
    page = client.get("/datasets/use_of_force").text
    assert "How this release was made" in page
    assert "The hire date is not published" in page
    assert "<code>OFFICER_HIRE_DATE</code>" in page


def test_a_family_field_the_file_lacks_is_not_recorded_not_unknown(client):
    detail = client.get("/api/v1/datasets/use_of_force").json()
    assert {"subject_ethnicity", "subject_age", "officer_age"} <= set(
        detail["notes"]["not_recorded"]
    )
    fields = {f["name"]: f for f in detail["schema"]["fields"]}
    assert fields["subject_ethnicity"]["recorded"] is False
    assert fields["subject_race"]["recorded"] is True
    facets = client.get(
        "/api/v1/datasets/use_of_force/facets?_facet=subject_ethnicity&_facet=subject_race"
    ).json()
    # Before: the code "Unknown" on every row, as if the agency had recorded Unknown.
    assert [v["value"] for v in facets["facets"]["subject_ethnicity"]] == [None]
    assert facets["facet_info"]["subject_ethnicity"]["note"] == "not recorded by this agency"
    assert "note" not in facets["facet_info"]["subject_race"]
    page = client.get("/datasets/use_of_force").text
    assert "Not recorded by this agency" in page


def test_an_analysis_that_needs_a_field_the_agency_does_not_record_refuses(client):
    response = client.get(
        "/api/v1/analysis/benchmark?dataset=use_of_force&by=subject_age_group&period=2016"
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["detail"]["missing_fields"] == ["subject_age or subject_age_group"]
    assert "does not record" in error["message"] and "subject_age_group" in error["message"]
    ok = client.get("/api/v1/analysis/benchmark?dataset=use_of_force&period=2016")
    assert ok.status_code == 200, ok.text


def test_the_rules_a_mapping_applied_are_shown_with_their_counts():
    # The mapping's rules (ingest.mapping.rules) record what they did under the report fact
    # rules_applied; the page and the API read them from the release's manifest.
    rule = {
        "rule": "received_date before 2000-01-01 is treated as missing",
        "check": "date_window",
        "fields": ["received_date"],
        "action": "blank",
        "count": 74,
        "examples": [],
    }
    notes = release_notes({"facts": {"rules_applied": [rule]}})
    assert notes["rules"] == [rule]
    html = templates.env.get_template("_publisher_notes.html").render(dataset={"notes": notes})
    assert "received_date before 2000-01-01 is treated as missing" in html
    assert "74 values blanked" in html and "<code>received_date</code>" in html
