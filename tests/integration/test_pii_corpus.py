"""Planted personal data never reaches a release file, an API response, an export or a page."""

from __future__ import annotations

import io

import duckdb
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file, write_csv

# Planted in their own fields and inside the narrative.
NAMES = ["Jolene Quarterfield", "Bartholomew Nakashima-Reyes"]
BIRTH_DATES = ["1987-03-14", "1999-11-02"]
ADDRESSES = ["4417 Wrenfield Ave", "1208 Osage Hollow Rd"]
PHONES = ["405-555-0187", "(405) 555-0142"]
SSNS = ["512-44-9081", "623-18-7745"]
EMAILS = ["jolene.q@example.org"]
OFFICER_IDS = ["NPD-88231", "NPD-77410"]
COORDINATES = ["35.214567", "-97.441234"]

SECRETS = (
    NAMES + [n.split()[-1] for n in NAMES] + BIRTH_DATES + ["3/14/1987"] + ADDRESSES
    + ["4417", "1208"] + PHONES + ["555-0187", "555-0142"] + SSNS + EMAILS + OFFICER_IDS + COORDINATES
)

HEADER = ["record_id", "force_number", "incident_id", "incident_date", "force_type", "officer_id",
          "officer_name", "subject_id", "subject_name", "subject_date_of_birth", "subject_race",
          "block_address", "latitude", "longitude", "narrative"]


def _corpus(path):
    rows = []
    for i in range(2):
        narrative = (
            f"Officer {NAMES[1 - i]} responded to {ADDRESSES[i]}. {NAMES[i]} (DOB 3/14/1987, SSN "
            f"{SSNS[i]}) called from {PHONES[i]}; e-mail {EMAILS[0]}. Subject born {BIRTH_DATES[i]}."
        )
        rows.append([f"R{i}", 1, f"I{i}", "2026-08-01", "Taser", OFFICER_IDS[i], NAMES[1 - i],
                     f"S{i}", NAMES[i], BIRTH_DATES[i], "White", ADDRESSES[i], COORDINATES[0],
                     COORDINATES[1], narrative])
    return write_csv(path, HEADER, rows)


@pytest.fixture(params=[[], ["narrative"]], ids=["narrative-withheld", "narrative-allowed"])
def client(request, tmp_path):
    settings = make_settings(tmp_path / "portal", publish_free_text=request.param)
    app = create_app(settings)
    publish_file(app.state.portal, _corpus(tmp_path / "uof.csv"), "use_of_force", "2026-Q3",
                 family="use_of_force")
    with TestClient(app) as test_client:
        yield test_client, app.state.portal


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in SECRETS if s.lower() in lowered]


def test_no_planted_personal_data_anywhere(client):
    http, portal = client
    release = portal.release("use_of_force")
    stored = duckdb.connect().execute(
        f"SELECT * FROM '{portal.release_path(release)}'"
    ).fetchall()
    assert _leaks(repr(stored)) == []
    assert _leaks(portal.release_path(release).read_bytes().decode("latin-1")) == []
    base = "/api/v1/datasets/use_of_force"
    for url in (base, f"{base}/rows", f"{base}/rows.csv", f"{base}/rows.ndjson",
                f"{base}/releases/2026-Q3", "/api/v1/datasets", "/", "/datasets/use_of_force",
                "/datasets/use_of_force/explore", "/datasets/use_of_force/charts",
                f"{base}/facets?_facet=block_address&_facet=subject_race"):
        response = http.get(url)
        assert response.status_code == 200, url
        assert _leaks(response.text) == [], url
    workbook = load_workbook(io.BytesIO(http.get(f"{base}/rows.xlsx").content))
    cells = " ".join(str(c.value) for row in workbook.active.iter_rows() for c in row)
    assert _leaks(cells) == []
    parquet = http.get(f"{base}/rows.parquet").content
    assert _leaks(parquet.decode("latin-1")) == []


def test_what_is_published_instead(client):
    http, portal = client
    rows = http.get("/api/v1/datasets/use_of_force/rows").json()["rows"]
    first = rows[0]
    assert first["block_address"] == "4400 BLOCK WRENFIELD AVE"
    assert first["subject_age_from_birth_date"] == 39
    assert len(first["officer_id"]) == 20 and first["officer_id"] != OFFICER_IDS[0]
    assert "subject_name" not in first and "latitude" not in first
    allowed = portal.settings.free_text_allowed("use_of_force", "narrative")
    assert ("narrative" in first) == allowed
    if allowed:
        assert "[phone]" in first["narrative"] and "[ssn]" in first["narrative"]
    dictionary = http.get("/api/v1/datasets/use_of_force").json()["schema"]
    treatments = {f["name"]: f["privacy"] for f in dictionary["fields"]}
    assert treatments["officer_id"] == "hashed"
    assert treatments["block_address"] == "generalized (hundred_block)"
    withheld = {f["name"] for f in dictionary["withheld_fields"]}
    assert {"subject_name", "officer_name", "latitude", "longitude"} <= withheld
