"""Privacy is decided before anything is public: a new layout waits for the publisher's word."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import polars as pl
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import InvalidInput
from openblotter.services.publishing import PublishRequest, publish
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import TEST_SALT, make_settings

DENVER = REAL_DATA / "denver" / "BiasMotivatedCrimes.csv"
WAPO = REAL_DATA / "national" / "fatal-police-shootings-data_wapo_2021snapshot.csv"


def _request(path, dataset_id, **options):
    return PublishRequest(path=path, dataset_id=dataset_id, label="2024-Q4", **options)


def _nothing_stored(portal, dataset_id):
    releases = portal.settings.data_dir / "releases"
    return portal.catalog.dataset(dataset_id) is None and not (releases / dataset_id).exists()


def test_exact_coordinates_at_a_home_wait_for_the_publisher(tmp_path):
    app = create_app(make_settings(tmp_path / "portal"))
    portal = app.state.portal
    with pytest.raises(InvalidInput) as stopped:
        publish(portal, _request(DENVER, "denver"))
    message = str(stopped.value)
    assert "nothing was published" in message and "--accept-privacy" in message
    assert "X_COORDINATE (x_coordinate): exact coordinates" in message
    assert "Location_Description (location_description): nothing personal found" in message
    proposals = {p["field"]: p for p in stopped.value.detail["privacy_proposals"]}
    assert proposals["y_coordinate"]["privacy"]["method"] == "grid"
    assert _nothing_stored(portal, "denver")

    publish(portal, _request(DENVER, "denver", accept_privacy=True))
    home = [
        r
        for r in csv.DictReader(DENVER.open(encoding="utf-8"))
        if r["Location_Description"].startswith("RESIDENCE/HOME") and r["X_COORDINATE"]
    ]
    exact = {r["X_COORDINATE"] for r in home} | {r["Y_COORDINATE"] for r in home}
    with TestClient(app) as http:
        rows = http.get("/api/v1/datasets/denver/rows.csv?_size=all").text
        page = http.get("/datasets/denver").text
        dictionary = http.get("/api/v1/datasets/denver").json()["schema"]
    published = pl.read_csv(rows.encode())
    assert all(float(x) % 1000 == 0 for x in published["x_coordinate"].drop_nulls())
    assert not [v for v in exact if f",{v}," in rows or rows.endswith(f",{v}")]
    treatments = {f["name"]: f["privacy"] for f in dictionary["fields"]}
    assert treatments["x_coordinate"] == "generalized (grid): rounded to the nearest 1000"
    assert "rounded to the nearest 1000" in page


def test_names_of_people_killed_are_dropped_once_accepted(tmp_path):
    app = create_app(make_settings(tmp_path / "portal"))
    portal = app.state.portal
    with pytest.raises(InvalidInput, match=r"name \(name\): person names"):
        publish(portal, _request(WAPO, "shootings"))
    assert _nothing_stored(portal, "shootings")
    publish(portal, _request(WAPO, "shootings", accept_privacy=True))
    with TestClient(app) as http:
        body = http.get("/api/v1/datasets/shootings/rows.csv?_size=all").text
        withheld = http.get("/api/v1/datasets/shootings").json()["schema"]["withheld_fields"]
    assert "Tim Elliot" not in body and "Lewis Lee Lembke" not in body
    assert {"name": "name", "reason": "dropped to protect privacy"} in withheld


def test_a_schema_file_states_the_decision_and_keep_needs_a_reason(tmp_path):
    app = create_app(make_settings(tmp_path / "portal"))
    portal = app.state.portal
    source = tmp_path / "named.csv"
    source.write_text(
        "id,name,city\n1,Tim Elliot,Shelton\n2,Autumn Steele,Burlington\n", encoding="utf-8"
    )
    schema = {
        "fields": [
            {"name": "id", "type": "integer"},
            {
                "name": "name",
                "privacy": {"treatment": "keep", "reason": "names published by the newspaper"},
            },
            {"name": "city"},
        ]
    }
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    publish(portal, _request(source, "named", schema_file=tmp_path / "schema.json"))
    with TestClient(app) as http:
        fields = http.get("/api/v1/datasets/named").json()["schema"]["fields"]
        rows = http.get("/api/v1/datasets/named/rows").json()["rows"]
    assert rows[0]["name"] == "Tim Elliot"
    assert {f["name"]: f["privacy"] for f in fields}["name"] == (
        "published as recorded after a privacy review: names published by the newspaper"
    )
    # A schema file silent about a column of names does not publish it silently.
    del schema["fields"][1]["privacy"]
    (tmp_path / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(InvalidInput, match="person names"):
        publish(portal, _request(source, "named2", schema_file=tmp_path / "schema.json"))


def test_the_command_line_lists_the_proposal_and_stores_nothing(tmp_path):
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(tmp_path / "portal"),
        "OPENBLOTTER_SALT": TEST_SALT,
        "COLUMNS": "200",
    }
    command = [
        sys.executable,
        "-m",
        "openblotter.cli",
        "publish",
        str(DENVER),
        "--dataset",
        "denver",
        "--release",
        "2024-Q4",
    ]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode != 0
    said = " ".join((first.stderr + first.stdout).split())
    assert "exact coordinates; header 'X_COORDINATE'; rounded to 1000 map units" in said
    assert "Traceback" not in first.stderr
    second = subprocess.run(
        command + ["--accept-privacy"], env=env, capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0, second.stderr
    assert "generalized (grid)" in second.stdout
