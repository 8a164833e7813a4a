"""The OpenAPI document says what each door answers when it refuses (web/openapi_errors.py):
the status and the body a client generated from it will get, not FastAPI's 422."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from openblotter.services.soda_ids import dataset_soda_id
from tests.factories import make_settings

SEATTLE = dataset_soda_id("seattle_uof")


def documented_error(document: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The JSON schema the document gives for ``status`` on ``path`` (its own, else default)."""
    responses = document["paths"][path]["get"]["responses"]
    answer = responses.get(str(status)) or responses["default"]
    schema = answer["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def test_no_route_documents_an_answer_the_portal_never_gives(api):
    document = api.get("/openapi.json").json()
    operations = [
        (path, operation) for path, item in document["paths"].items() for operation in item.values()
    ]
    assert len(operations) > 25
    for path, operation in operations:
        assert "422" not in operation["responses"], path
        assert {"default", "414", "429"} <= operation["responses"].keys(), path
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"Error", "SodaError", "CkanError"} <= set(
        schemas
    )
    rows = document["paths"]["/api/v1/datasets/{dataset_id}/rows"]["get"]["responses"]
    assert rows["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


@pytest.mark.parametrize(
    ("path", "url", "status"),
    [
        ("/api/v1/datasets/{dataset_id}/rows", "/api/v1/datasets/seattle_uof/rows?_size=0", 400),
        ("/api/v1/datasets/{dataset_id}/rows", "/api/v1/datasets/nowhere/rows", 404),
        (
            "/api/v1/datasets/{dataset_id}/releases/{old}/diff/{new}",
            "/api/v1/datasets/seattle_uof/releases/2026-Q2/diff/2026-Q2?_size=0",
            400,
        ),
        ("/resource/{name}", f"/resource/{SEATTLE}.json?$where=no_such_column=1", 404),
        ("/resource/{name}", f"/resource/{SEATTLE}.json?$limit=ten", 400),
        ("/resource/{name}", "/resource/zzzz-0000.json", 404),
        ("/api/catalog/v1", "/api/catalog/v1?limit=ten", 400),
        ("/api/3/action/{name}", "/api/3/action/datastore_search?resource_id=nothing", 404),
        ("/api/3/action/{name}", "/api/3/action/datastore_search?limit=ten", 409),
        ("/api/3/action/{name}", "/api/3/action/no_such_action", 400),
    ],
)
def test_each_door_answers_errors_as_its_document_says(api, path, url, status):
    document = api.get("/openapi.json").json()
    response = api.get(url)
    assert response.status_code == status
    jsonschema.validate(response.json(), documented_error(document, path, status))


def test_the_limits_in_front_of_every_route_answer_as_documented(tmp_path):
    from fastapi.testclient import TestClient

    from openblotter.web.app import create_app

    settings = make_settings(
        tmp_path, rate_limit_enabled=True, rate_limit_per_minute=1, rate_limit_burst=1
    )
    with TestClient(create_app(settings)) as client:
        document = client.get("/openapi.json").json()
        answers = [client.get(f"/resource/{SEATTLE}.json") for _ in range(3)]
    assert answers[-1].status_code == 429
    jsonschema.validate(answers[-1].json(), documented_error(document, "/resource/{name}", 429))


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/api/v1/datasets/{dataset_id}/rows", "/api/v1/datasets/seattle_uof/rows?_size=3"),
        (
            "/api/v1/datasets/{dataset_id}/rows",
            "/api/v1/datasets/seattle_uof/rows?_size=3&_count=true&_sort=-id",
        ),
        ("/api/v1/datasets/{dataset_id}/facets", "/api/v1/datasets/seattle_uof/facets"),
        (
            "/api/v1/datasets/{dataset_id}/facets",
            "/api/v1/datasets/seattle_uof/facets?_facet=subject_race&_facet=incident_type",
        ),
        (
            "/api/v1/datasets/{dataset_id}/aggregate",
            "/api/v1/datasets/seattle_uof/aggregate?_group=subject_race&_agg=count&_size=2",
        ),
        ("/api/catalog/v1", "/api/catalog/v1"),
    ],
)
def test_the_query_answers_are_the_bodies_the_document_gives(api, path, url):
    """The hot routes render their own JSON (FastAPI sees no model); the document's schemas
    (web/api_answers.py) still describe what they send: not the bare string FastAPI showed."""
    document = api.get("/openapi.json").json()
    response = api.get(url)
    assert response.status_code == 200, response.text
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"] != {"type": "string"}
    jsonschema.validate(response.json(), {**schema["schema"], **document})


def test_downloads_are_documented_with_their_media_types(api):
    document = api.get("/openapi.json").json()
    content = document["paths"]["/api/v1/datasets/{dataset_id}/rows.{fmt}"]["get"]["responses"][
        "200"
    ]["content"]
    assert set(content) == {
        "text/csv",
        "application/x-ndjson",
        "application/vnd.apache.parquet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for fmt in ("csv", "ndjson", "parquet", "xlsx"):
        response = api.get(f"/api/v1/datasets/seattle_uof/rows.{fmt}")
        assert response.headers["content-type"].split(";")[0] in content


def test_the_reference_page_reads_each_routes_answers_as_one_sentence(api):
    """/api/reference joins a route's answers with '; ': a description's own closing period
    is dropped there (the rows route's 200 is a docstring that ends in one)."""
    import re

    page = api.get("/api/reference").text
    answers = [re.sub("<[^>]+>", "", found) for found in re.findall(r"Answers:(.*?)</p>", page)]
    assert len(answers) > 25
    assert not [text for text in answers if ".;" in text or text.endswith("..")]
    assert any("A page of rows of the current release (or `_release`); 400" in t for t in answers)
