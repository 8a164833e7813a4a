"""The JSON API over HTTP: contract shapes, one error shape, downloads."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest


def test_healthz(api):
    assert api.get("/healthz").json() == {"status": "ok", "datasets": 2}


def test_catalog_shape(api):
    datasets = {d["id"]: d for d in api.get("/api/v1/datasets").json()["datasets"]}
    uof = datasets["seattle_uof"]
    assert uof["current_release"] == "2026-Q2" and uof["row_count"] == 13886
    assert {"id", "title", "family", "description", "updated", "links"} <= uof.keys()
    assert uof["links"]["rows"] == "/api/v1/datasets/seattle_uof/rows"


def test_dataset_metadata_has_schema_and_releases(api):
    body = api.get("/api/v1/datasets/seattle_uof").json()
    assert body["row_count"] == 13886
    fields = {f["name"]: f for f in body["schema"]["fields"]}
    assert fields["subject_race"]["categorical"] is True
    assert {"name", "type", "description", "allowed_values", "privacy"} <= fields["id"].keys()
    release = body["releases"][0]
    assert release["label"] == "2026-Q2" and release["current"] is True
    assert release["source"]["name"] == "Use_Of_Force.csv"


def test_rows_filters_paging_and_total(api):
    first = api.get(
        "/api/v1/datasets/seattle_uof/rows",
        params={
            "subject_race": "Black or African American",
            "subject_gender": "Male",
            "_size": 50,
            "_count": "true",
        },
    )
    body = first.json()
    assert first.status_code == 200 and len(body["rows"]) == 50 and body["release"] == "2026-Q2"
    assert body["total"] > 50
    assert all(r["subject_race"] == "Black or African American" for r in body["rows"])
    assert 'rel="next"' in first.headers["link"]
    seen = {r["id"] for r in body["rows"]}
    token = body["next"]
    while token:
        page = api.get(
            "/api/v1/datasets/seattle_uof/rows",
            params={
                "subject_race": "Black or African American",
                "subject_gender": "Male",
                "_size": 1000,
                "_next": token,
            },
        ).json()
        seen |= {r["id"] for r in page["rows"]}
        token = page["next"]
    assert len(seen) == body["total"]


def test_facets_and_aggregate_shapes(api):
    facets = api.get(
        "/api/v1/datasets/seattle_uof/facets",
        params=[("_facet", "subject_race"), ("_facet", "precinct")],
    ).json()
    assert facets["total"] == 13886
    race = facets["facets"]["subject_race"]
    assert sum(v["count"] for v in race) == 13886 and {"value", "count"} == race[0].keys()
    groups = api.get(
        "/api/v1/datasets/seattle_uof/aggregate",
        params={"_group": "year,subject_race", "_agg": "count"},
    ).json()["groups"]
    assert sum(g["count"] for g in groups) == 13886
    assert {"year", "subject_race", "count"} == groups[0].keys()


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/api/v1/datasets/nope", 404, "dataset"),
        ("/api/v1/datasets/seattle_uof/rows?nope=1", 404, "nope"),
        ("/api/v1/datasets/seattle_uof/rows?id__near=1", 400, "id__near"),
        (
            "/api/v1/datasets/seattle_uof/rows?occured_date_time__gt=yesterday",
            400,
            "occured_date_time__gt",
        ),
        ("/api/v1/datasets/seattle_uof/rows?_size=5000", 400, "_size"),
        ("/api/v1/datasets/seattle_uof/rows?_release=2020-Q1", 404, "_release"),
        ("/api/v1/datasets/seattle_uof/rows?_next=garbage", 400, "_next"),
        ("/api/v1/datasets/seattle_uof/rows.docx", 400, "format"),
    ],
)
def test_one_error_shape_naming_the_parameter(api, url, status, parameter):
    response = api.get(url)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert parameter in (
        body["error"]["detail"].get("parameter", "") + str(body["error"]["detail"])
    )
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rows?_size=0", "_size '0' is not a whole number from 1 to 1000."),
        ("rows?_size=5000", "_size '5000' is not a whole number from 1 to 1000."),
        ("rows?_size=ten", "_size 'ten' is not a whole number from 1 to 1000."),
        ("rows?_count=maybe", "_count"),
        ("aggregate?_group=year&_size=0", "_size '0' is not a whole number from 1 to 1000."),
    ],
)
def test_the_query_controls_are_checked_by_the_query_parser(api, query, message):
    """One place for the rule: the parser answers; FastAPI does not check them first."""
    response = api.get(f"/api/v1/datasets/seattle_uof/{query}")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("route", "controls"),
    [
        ("rows", {"_release", "_q", "_sort", "_fields", "_size", "_next", "_count"}),
        ("rows.{fmt}", {"_release", "_q", "_sort", "_fields"}),
        ("facets", {"_facet", "_release", "_q"}),
        ("aggregate", {"_group", "_agg", "_release", "_q", "_sort", "_size"}),
    ],
)
def test_the_api_docs_list_every_query_control_with_its_type(api, route, controls):
    paths = api.get("/openapi.json").json()["paths"]
    listed = paths[f"/api/v1/datasets/{{dataset_id}}/{route}"]["get"]["parameters"]
    documented = {p["name"]: p["schema"] for p in listed if p["in"] == "query"}
    assert documented.keys() == controls
    if "_size" in controls:
        assert documented["_size"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    if "_count" in controls:
        assert documented["_count"] == {"type": "boolean"}
    if "_facet" in controls:
        assert documented["_facet"] == {"type": "array", "items": {"type": "string"}}


def test_csv_export_streams_every_row_with_formulas_made_inert(api):
    response = api.get("/api/v1/datasets/formulas/rows.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["note"] for r in rows] == ['\'=HYPERLINK("http://x")', "'+1+1", "'@SUM(A1)", "plain"]
    assert [r["amount"] for r in rows] == ["5", "-3", "7", "0"]  # numbers are not text: untouched
    full = api.get("/api/v1/datasets/seattle_uof/rows.csv")
    assert len(full.text.strip().splitlines()) == 13886 + 1


def test_other_export_formats(api):
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    ndjson = api.get("/api/v1/datasets/seattle_uof/rows.ndjson", params={"precinct": "East"})
    count = api.get(
        "/api/v1/datasets/seattle_uof/rows", params={"precinct": "East", "_count": "true"}
    ).json()["total"]
    assert len(ndjson.text.strip().splitlines()) == count
    parquet = api.get("/api/v1/datasets/seattle_uof/rows.parquet", params={"precinct": "East"})
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == count
    xlsx = api.get("/api/v1/datasets/formulas/rows.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 5


def test_release_file_download_matches_its_checksum(api):
    manifest = api.get("/api/v1/datasets/seattle_uof/releases/2026-Q2").json()
    file = api.get("/api/v1/datasets/seattle_uof/releases/2026-Q2/file.parquet")
    assert hashlib.sha256(file.content).hexdigest() == manifest["checksum"]["value"]
    assert manifest["report"]["ok"] is True


def test_openapi_schema_documents_the_contract(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/datasets",
        "/api/v1/datasets/{dataset_id}",
        "/api/v1/datasets/{dataset_id}/rows",
        "/api/v1/datasets/{dataset_id}/facets",
        "/api/v1/datasets/{dataset_id}/aggregate",
        "/api/v1/datasets/{dataset_id}/releases/{old}/diff/{new}",
    ):
        assert path in paths
