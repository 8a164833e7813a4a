"""Person tables over HTTP: pages, rows, facets and the manifest's rules, like any dataset."""

from __future__ import annotations

import textwrap

import pytest
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file

MAPPING = """
    family = "use_of_force"
    description = "A small packed use-of-force export"
    [columns]
    record_id = "Case"
    incident_id = "Case"
    incident_date = "Date"
    force_detail = "Force"
    officer_race = "Officer Race"
    officer_sex = "Officer Sex"
    subject_race = "Subject Race"
    subject_age = "Subject Age"
    [[people]]
    role = "officers"
    fields = ["officer_race", "officer_sex"]
    separator = "|"
    [[people]]
    role = "subjects"
    fields = ["subject_race", "subject_age"]
    separator = "|"
    [[explode]]
    fields = ["force_detail"]
    separator = "|"
    number = "force_number"
    [[rules]]
    check = "range"
    fields = ["subject_age"]
    min = 1
    max = 110
"""

FILE = """
    Case,Date,Force,Officer Race,Officer Sex,Subject Race,Subject Age
    U1,2019-01-02,Taser | Baton,White | Black,Male | Female,White,34
    U2,2019-01-03,Baton,,Male,Black | White,0 | 22
    U3,2019-01-04,Taser,White | White | Black,Male | Male,,
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packed")
    (folder / "m.toml").write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    (folder / "uof.csv").write_text(textwrap.dedent(FILE).lstrip(), encoding="utf-8")
    app = create_app(make_settings(folder / "portal"))
    publish_file(
        app.state.portal, folder / "uof.csv", "packed", "2019-Q1", mapping=folder / "m.toml"
    )
    with TestClient(app) as http:
        yield http


def test_person_tables_are_datasets_with_pages_and_rows(client: TestClient) -> None:
    for dataset_id in ("packed", "packed_officers", "packed_subjects"):
        assert client.get(f"/datasets/{dataset_id}").status_code == 200, dataset_id
    rows = client.get("/api/v1/datasets/packed_subjects/rows", params={"_count": "true"}).json()
    assert rows["total"] == 3
    assert [(r["record_id"], r["subject_number"], r["subject_age"]) for r in rows["rows"]] == [
        ("U1", 1, 34),
        ("U2", 1, None),  # age 0 is not an age: blanked by the mapping's rule
        ("U2", 2, 22),
    ]
    officers = client.get(
        "/api/v1/datasets/packed_officers/rows", params={"_group": "officer_sex", "_agg": "count"}
    )
    assert officers.status_code == 200, officers.text


def test_the_release_manifest_lists_the_rules_and_their_counts(client: TestClient) -> None:
    manifest = client.get("/api/v1/datasets/packed/releases/2019-Q1").json()
    rules = {r["check"]: r for r in manifest["rules_applied"]}
    assert rules["sentinel_dates"]["count"] == 0
    assert rules["range"]["count"] == 1
    assert rules["range"]["action"] == "blank"
    # The public manifest never quotes a value of a column its table does not publish as
    # recorded: subject_age moved to the subjects table (and this 0 was blanked).
    assert rules["range"]["examples"] == [
        {"row": 3, "column": "subject_age", "value": "[withheld]", "message": ""}
    ]
    assert manifest["report"]["counts"]["rule_blanked"] == 1
    assert manifest["report"]["counts"]["people_list_length"] == 1
