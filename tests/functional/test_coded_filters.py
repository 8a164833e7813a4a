"""A filter on a coded column names a code: `subject_race=Black` is a 400 with the codes,
not 0 rows (the code is "Black or African American"). API and explore page alike."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.browser.sample_portal import MAPPINGS
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file, write_csv

ROWS = "/api/v1/datasets/seattle_use_of_force/rows"
SCHEMA = {
    "fields": [
        {"name": "stop_id", "type": "string"},
        {"name": "outcome", "type": "string", "constraints": {"enum": ["Warning", "Citation"]}},
    ],
    "primaryKey": ["stop_id"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("coded")
    app = create_app(make_settings(data_dir))
    portal = app.state.portal
    publish_file(
        portal,
        REAL_DATA / "seattle" / "Use_Of_Force.csv",
        "seattle_use_of_force",
        "2024-Q4",
        family="use_of_force",
        mapping=MAPPINGS / "seattle_use_of_force.toml",
    )
    schema = data_dir / "stops.schema.json"
    schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
    stops = write_csv(
        data_dir / "stops.csv",
        ["stop_id", "outcome"],
        [["1", "Warning"], ["2", "Citation"], ["3", "Arrest"]],  # "Arrest": no code, kept
    )
    publish_file(portal, stops, "stops", "2024-Q4", schema_file=schema, allow_invalid=True)
    with TestClient(app) as test_client:
        yield test_client


def test_a_value_that_is_not_a_code_is_a_400_with_the_codes(client: TestClient) -> None:
    answer = client.get(ROWS, params={"subject_race": "Black"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "detail"} and error["code"] == "invalid_input"
    assert "'Black' is not a code of subject_race" in error["message"]
    assert "Did you mean 'Black or African American'?" in error["message"]
    assert "Black or African American" in error["detail"]["allowed"]
    assert error["detail"]["parameter"] == "subject_race"
    right = client.get(ROWS, params={"subject_race": "Black or African American", "_count": "1"})
    assert right.status_code == 200 and right.json()["total"] > 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/seattle_use_of_force/facets?_facet=subject_sex",
        "/api/v1/datasets/seattle_use_of_force/aggregate?_group=subject_sex",
        "/api/v1/datasets/seattle_use_of_force/rows.csv",
    ],
)
def test_every_door_refuses_it(client: TestClient, path: str) -> None:
    joiner = "&" if "?" in path else "?"
    answer = client.get(f"{path}{joiner}subject_race=Black")
    assert answer.status_code == 400 and "is not a code" in answer.json()["error"]["message"]


def test_lists_and_other_operators(client: TestClient) -> None:
    mixed = client.get(ROWS, params={"subject_race__in": "White,Blak"})
    assert mixed.status_code == 400 and "'Blak'" in mixed.json()["error"]["message"]
    assert client.get(ROWS, params={"subject_race__ne": "Black"}).status_code == 200
    assert client.get(ROWS, params={"subject_race__contains": "black"}).status_code == 200


def test_a_value_the_release_holds_is_a_valid_filter_though_not_a_code(
    client: TestClient,
) -> None:
    kept = client.get("/api/v1/datasets/stops/rows", params={"outcome": "Arrest"})
    assert kept.status_code == 200 and [r["stop_id"] for r in kept.json()["rows"]] == ["3"]
    missing = client.get("/api/v1/datasets/stops/rows", params={"outcome": "Summons"})
    assert missing.status_code == 400
    assert missing.json()["error"]["detail"]["allowed"] == ["Warning", "Citation"]


def test_the_explore_page_shows_the_message_and_the_codes(client: TestClient) -> None:
    page = client.get(
        "/datasets/seattle_use_of_force/explore",
        params={"subject_race": "Black"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 400
    assert "is not a code of subject_race" in page.text
    assert "Allowed: " in page.text and "Black or African American" in page.text
