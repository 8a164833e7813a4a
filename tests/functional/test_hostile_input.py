"""Hostile and heavy input through HTTP (issue 17): bounded before parsing, never a 500, and a
page walk that never mixes two releases.

The portal publishes Dallas PD's real 2016 use-of-force file (its officers' years of service
are a number column, the one the issue's 40,000-digit filter hit) and Seattle's real
use-of-force file, whose second release drops the first 2,000 incidents.
"""

from __future__ import annotations

import csv

import pytest
from fastapi.testclient import TestClient

from openblotter.services.releases import rollback
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_dallas, publish_file

SEATTLE = REAL_DATA / "seattle/Use_Of_Force.csv"
#: The issue's filter value (34 s in the number parser before), and one under the URL cap.
LONG_NUMBER = "9" * 40_000 + "x"
LONG_NUMBER_IN_URL = "9" * 20_000 + "x"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile")
    app = create_app(make_settings(data_dir))
    publish_dallas(app.state.portal, data_dir)
    publish_file(app.state.portal, SEATTLE, "seattle_uof", "2026-Q2")
    with TestClient(app) as client:
        yield client


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/use_of_force/rows",
        "/api/v1/datasets/use_of_force/facets?_facet=subject_race",
        "/api/v1/datasets/use_of_force/aggregate?_group=subject_race",
        "/api/v1/datasets/use_of_force/rows.csv",
        "/api/v1/analysis/benchmark?dataset=use_of_force",
        "/api/v1/analysis/outcomes?dataset=use_of_force",
        "/api/v1/analysis/race-pairs?dataset=use_of_force",
    ],
)
def test_the_issue_s_long_number_filter_is_refused_by_its_length(client, path):
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}officer_years_of_service={LONG_NUMBER}")
    error = error_of(response, 414)  # the whole address is over 32 KiB: refused unparsed
    assert error["code"] == "too_large" and error["detail"]["allowed"] == 32_768
    response = client.get(f"{path}{joiner}officer_years_of_service={LONG_NUMBER_IN_URL}")
    error = error_of(response, 400)
    assert error["code"] == "invalid_input"
    assert error["detail"] == {
        "parameter": "officer_years_of_service",
        "allowed": 2000,
        "given": 20_001,
    }


def test_the_explore_page_and_analysis_pages_explain_the_long_value(client):
    for path in ("/datasets/use_of_force/explore", "/analysis/benchmark"):
        page = client.get(
            path,
            params={"dataset": "use_of_force", "officer_years_of_service": LONG_NUMBER_IN_URL},
            headers={"accept": "text/html"},
        )
        assert page.status_code == 400
        assert "20,001 characters" in page.text


def test_an_over_long_address_is_a_414_before_anything_is_parsed(client):
    values = ",".join(f"value-{i:06d}" for i in range(3000))  # ~40 KB
    error = error_of(client.get(f"/api/v1/datasets/use_of_force/rows?subject_race={values}"), 414)
    assert error["code"] == "too_large" and error["detail"]["allowed"] == 32_768


def test_too_many_facets_and_list_values_are_400s(client):
    facets = [("_facet", "subject_race")] * 21
    error = error_of(client.get("/api/v1/datasets/use_of_force/facets", params=facets), 400)
    assert error["detail"]["parameter"] == "_facet"
    many = ",".join(str(i) for i in range(501))
    error = error_of(client.get(f"/api/v1/datasets/use_of_force/rows?subject_race__in={many}"), 400)
    assert error["detail"]["allowed"] == 500


def test_a_diff_offset_beyond_64_bits_is_a_400_not_a_500(client):
    base = "/api/v1/datasets/use_of_force/releases/2016-Q4/diff/2016-Q4"
    error = error_of(client.get(base, params={"change": "added", "_offset": 2**70}), 400)
    assert error["detail"]["problems"][0]["parameter"] == "_offset"
    far = client.get(base, params={"change": "added", "_offset": 10**12})
    assert far.status_code == 200 and far.json()["rows"] == []


def test_a_next_token_with_row_id_2_to_the_127_is_a_400(client):
    import base64
    import json

    from openblotter.domain.query.cursor import bind_release, sort_fingerprint

    raw = json.dumps({"s": sort_fingerprint(()), "v": [], "r": 2**127}).encode()
    release = client.get("/api/v1/datasets/seattle_uof").json()["releases"][0]
    token = bind_release(
        base64.urlsafe_b64encode(raw).decode().rstrip("="), "2026-Q2", release["checksum"]["value"]
    )
    error = error_of(client.get("/api/v1/datasets/seattle_uof/rows", params={"_next": token}), 400)
    assert error["detail"]["parameter"] == "_next"


def _drop_first_incidents(tmp_path, count: int):
    with SEATTLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    path = tmp_path / "seattle-later.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *rows[1 + count :]])
    return path


def test_a_page_walk_stays_on_its_release_across_a_publish_and_a_rollback(client, tmp_path):
    """Page 1 from 2026-Q2; a new release is published; page 2 still comes from 2026-Q2 and
    continues where page 1 ended. When the release a token pages is rolled back, the API says
    so (410), never a page of another release."""
    url = "/api/v1/datasets/seattle_uof/rows"
    first = client.get(url, params={"_size": 500})
    assert first.json()["release"] == "2026-Q2"
    portal = client.app.state.portal
    publish_file(portal, _drop_first_incidents(tmp_path, 2000), "seattle_uof", "2026-Q3")
    assert client.get(url, params={"_size": 1}).json()["release"] == "2026-Q3"

    second = client.get(url, params={"_size": 500, "_next": first.json()["next"]})
    assert second.status_code == 200 and second.json()["release"] == "2026-Q2"
    ids = [r["id"] for r in first.json()["rows"] + second.json()["rows"]]
    assert len(set(ids)) == 1000  # no row twice
    first_of_q2 = client.get(url, params={"_size": 1000, "_release": "2026-Q2"}).json()["rows"]
    assert ids == [r["id"] for r in first_of_q2]  # exactly the first 1,000 of 2026-Q2
    assert 'rel="next"' in second.headers["link"] and "2026-Q2" not in second.headers["link"]

    on_q3 = client.get(url, params={"_size": 500}).json()["next"]
    error = error_of(
        client.get(url, params={"_size": 500, "_next": on_q3, "_release": "2026-Q2"}), 400
    )
    assert error["detail"]["parameter"] == "_release"
    rollback(portal, "seattle_uof", reason="test: a bad release")
    gone = error_of(client.get(url, params={"_size": 500, "_next": on_q3}), 410)
    assert gone["code"] == "gone"
    assert gone["detail"] == {
        "parameter": "_next",
        "release": "2026-Q3",
        "current_release": "2026-Q2",
    }
    assert "start again" in gone["message"]
    # The walk on 2026-Q2 goes on: it is current again.
    third = client.get(url, params={"_size": 500, "_next": second.json()["next"]})
    assert third.status_code == 200 and third.json()["release"] == "2026-Q2"


def test_a_token_without_its_release_is_refused(client):
    from openblotter.domain.query.cursor import encode_cursor

    unbound = encode_cursor((), [], 10)
    error = error_of(
        client.get("/api/v1/datasets/seattle_uof/rows", params={"_next": unbound}), 400
    )
    assert error["detail"]["parameter"] == "_next"
