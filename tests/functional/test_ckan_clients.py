"""CKAN clients, unchanged, against a running portal: ckanapi (RemoteCKAN and its CLI), the
ckanext-harvest gather sequence, and openpolicedata's CKAN loader's requests replayed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import ckanapi
import httpx
import pytest

from tests.factories_ckan import SEATTLE_ROWS, build_app, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(build_app(tmp_path_factory.mktemp("ckan"))) as running:
        yield running


@pytest.fixture(scope="module")
def remote(served):
    with ckanapi.RemoteCKAN(served.url, user_agent="openblotter-tests") as ckan:
        yield ckan


def _current(remote: ckanapi.RemoteCKAN, name: str = "seattle_uof") -> str:
    resources = remote.action.package_show(id=name)["resources"]
    return str(resources[0]["id"])


def test_ckanapi_reads_the_catalog(remote: ckanapi.RemoteCKAN) -> None:
    assert remote.action.status_show()["ckan_version"].startswith("2.10")
    assert remote.action.package_list() == ["counted", "seattle_uof"]
    package = remote.action.package_show(id="seattle_uof", include_tracking=True)  # extra: ignored
    assert remote.action.package_show(id=package["id"])["name"] == "seattle_uof"
    names = [r["name"] for r in package["resources"]]
    assert names == ["Current release (2026-Q2)", "Release 2026-Q2", "Release 2026-Q1"]
    for resource in package["resources"]:
        assert resource["format"] == "CSV" and resource["datastore_active"] is True
        assert resource["url"].startswith("/api/v1/datasets/seattle_uof/rows.csv")
        assert remote.action.resource_show(id=resource["id"]) == resource
    # Ids never change: the same dataset and label give the same id in another portal.
    assert package["resources"][2]["id"] == "acf0c6c7-1e32-5d01-9323-ed5a5ea7ea8c"
    org = remote.action.organization_show(id=remote.action.organization_list()[0])
    assert org["title"] == "Seattle Police Department" and org["package_count"] == 2


def test_ckanapi_datastore_search_posts_json_and_pages(remote: ckanapi.RemoteCKAN) -> None:
    rid = _current(remote)
    first = remote.action.datastore_search(resource_id=rid, limit=2, filters={"precinct": "East"})
    assert first["total"] > 2 and len(first["records"]) == 2
    assert [r["_id"] for r in first["records"]] == sorted(r["_id"] for r in first["records"])
    assert {r["precinct"] for r in first["records"]} == {"East"}
    assert first["fields"][0] == {"id": "_id", "type": "int"}
    listed = remote.action.datastore_search(
        resource_id=rid, limit=3, offset=1, records_format="lists", fields="_id,precinct"
    )
    assert [row[0] for row in listed["records"]] == [2, 3, 4]


def test_ckanapi_raises_the_errors_ckan_raises(remote: ckanapi.RemoteCKAN) -> None:
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id="no_such_dataset")
    with pytest.raises(ckanapi.NotFound):
        remote.action.datastore_search(resource_id="no-such-resource")
    with pytest.raises(ckanapi.ValidationError) as invalid:
        remote.action.datastore_search(resource_id=_current(remote), filters={"nope": 1})
    assert invalid.value.error_dict["filters"] == ['field "nope" not in table']
    with pytest.raises(ckanapi.NotAuthorized):  # counts only: no row through any door
        remote.action.datastore_search(resource_id="counted")


def test_ckanapi_cli_dumps_every_dataset(served, tmp_path: Path) -> None:
    out = tmp_path / "datasets.jsonl"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        ["ckanapi", "dump", "datasets", "--all", "-r", served.url, "-O", str(out), "-q"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    dumped = {d["name"]: d for d in map(json.loads, out.read_text().splitlines())}
    assert set(dumped) == {"counted", "seattle_uof"}
    assert len(dumped["seattle_uof"]["resources"]) == 3
    (counted,) = dumped["counted"]["resources"]
    assert counted["datastore_active"] is False and counted["format"] == "API"


def test_the_harvest_gather_sequence_terminates(served) -> None:
    """ckanext-harvest's CKAN harvester pages package_search with rows=100&start=k&sort=id asc
    until a page is empty, and gives up if two pages come back identical."""
    with httpx.Client(base_url=served.url) as client:
        for rows in (100, 1):
            seen: list[str] = []
            previous = None
            for start in range(0, 1000, rows):
                params = {"rows": rows, "start": start, "sort": "id asc"}
                content = client.get(f"/api/action/package_search?{urlencode(params)}").text
                assert content != previous, "paging does not work"
                previous = content
                page = json.loads(content)["result"]["results"]
                if not page:
                    break
                seen += [p["id"] for p in page]
            else:
                pytest.fail("the gather sequence never ended")
            assert seen == sorted(seen) and len(seen) == len(set(seen)) == 2
        # A harvest that ran before asks only for what changed since (ckanext-harvest's fq).
        for since, expected in (("2000-01-01T00:00:00.000Z", 2), ("2999-01-01T00:00:00.000Z", 0)):
            fq = f"metadata_modified:[{since} TO *]"
            params = {"fq": fq, "rows": 100, "start": 0, "sort": "id asc"}
            found = client.get("/api/action/package_search", params=params).json()["result"]
            assert found["count"] == expected


def _sql(client: httpx.Client, sql: str, **extra: str) -> dict:
    response = client.get("/api/3/action/datastore_search_sql", params={"sql": sql, **extra})
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_openpolicedata_loader_requests_load_a_year(served) -> None:
    """openpolicedata's Ckan loader: a 100-row sample to learn the field types, a count with
    the year's bounds, then pages of 32000 ordered by _id (requests as it writes them)."""
    with httpx.Client(base_url=served.url, timeout=60) as client:
        rid = client.get("/api/3/action/package_show?id=seattle_uof").json()["result"]["resources"][
            0
        ]["id"]
        sample = _sql(
            client, f'SELECT * FROM "{rid}" ORDER BY "_id" OFFSET 0 LIMIT 100', format="json"
        )
        assert len(sample["records"]) == 100
        types = {f["id"]: f["type"] for f in sample["fields"]}
        assert types["occured_date_time"] == "timestamp"  # so the loader filters by date range
        where = (
            "(\"occured_date_time\" >= '2015-01-01T00:00:00' AND "
            "\"occured_date_time\" <= '2015-12-31T23:59:59.999')"
        )
        count = _sql(client, f'SELECT COUNT(*) FROM "{rid}" WHERE {where}')["records"][0]["count"]
        fields = [f["id"] for f in sample["fields"] if f["id"] not in ("_id", "_full_text")]
        listed = '"' + '", "'.join(fields) + '"'
        rows: list[dict] = []
        for offset in range(0, count, 32000):
            page = _sql(
                client,
                f'SELECT {listed} FROM "{rid}" WHERE {where} ORDER BY "_id" OFFSET {offset} '
                f"LIMIT {min(32000, count - offset)}",
                format="json",
            )
            rows += page["records"]
        native = client.get(
            "/api/v1/datasets/seattle_uof/rows.ndjson", params={"year": "2015"}
        ).text.splitlines()
        assert count == len(native) == 2086
        assert rows == [json.loads(line) for line in native]
        # The same year through datastore_search's filters (the date part of the main date).
        by_filters = client.post(
            "/api/3/action/datastore_search",
            json={"resource_id": rid, "filters": {"year": 2015}, "limit": 32000},
        ).json()["result"]
        assert by_filters["total"] == count and len(by_filters["records"]) == count


def test_dump_has_every_row(served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        rid = client.get("/api/3/action/package_show?id=seattle_uof").json()["result"]["resources"][
            2
        ]["id"]
        csv_dump = client.get(f"/datastore/dump/{rid}")
        assert csv_dump.status_code == 200
        assert csv_dump.text.count("\n") == SEATTLE_ROWS + 1  # and the header
        json_dump = client.get(f"/datastore/dump/{rid}", params={"format": "json"}).json()
        assert len(json_dump["records"]) == SEATTLE_ROWS
        assert [f["id"] for f in json_dump["fields"]][:2] == ["id", "incident_num"]
        assert client.get("/datastore/dump/counted").status_code == 403
        east = client.get(
            f"/datastore/dump/{rid}",
            params={"format": "json", "filters": '{"precinct": "East"}', "fields": "id,precinct"},
        ).json()
        native = client.get(
            "/api/v1/datasets/seattle_uof/rows.ndjson",
            params={"precinct": "East", "_fields": "id,precinct", "_release": "2026-Q1"},
        ).text.splitlines()
        assert east["records"] == [list(json.loads(line).values()) for line in native]
        assert client.get(f"/datastore/dump/{rid}", params={"limit": 5}).status_code == 400
