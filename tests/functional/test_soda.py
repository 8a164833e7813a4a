"""The Socrata SODA 2.1 door, read by Socrata's own clients against a running portal.

sodapy (``get``, ``get_all``, ``get_metadata``, ``datasets``) over plain HTTP,
RSocrata's paging replayed request by request, and every answer compared with
the native API's answer to the same question. Real files: Dallas's 2016 use of
force (a family dataset with a primary key) and Seattle's use of force (a custom
dataset without one).
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import requests
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sodapy import Socrata

from openblotter.services.soda_ids import dataset_soda_id, release_soda_id
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import DALLAS_USE_OF_FORCE, MAPPINGS, make_settings, publish_file

SEATTLE = REAL_DATA / "seattle" / "Use_Of_Force.csv"
DALLAS = dataset_soda_id("use_of_force")
SEATTLE_ID = dataset_soda_id("seattle_uof")
COUNTED = dataset_soda_id("counted")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A portal served by uvicorn on 127.0.0.1 (a free port), stopped after the module."""
    data_dir = tmp_path_factory.mktemp("soda")
    settings = make_settings(data_dir, aggregates_only_datasets=["counted"], agency="Dallas PD")
    app = create_app(settings)
    portal = app.state.portal
    mapping = MAPPINGS / "dallas_use_of_force.toml"
    for label in ("2016-Q4", "2017-Q1"):
        publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", label, mapping=mapping)
    publish_file(portal, DALLAS_USE_OF_FORCE, "counted", "2016-Q4", mapping=mapping)
    publish_file(portal, SEATTLE, "seattle_uof", "2026-Q2")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def client(portal_url: str) -> Iterator[Socrata]:
    """sodapy as a user writes it, with the plain-HTTP adapter instead of https://."""
    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    with Socrata(portal_url.removeprefix("http://"), None, session_adapter=adapter) as socrata:
        yield socrata


@pytest.fixture
def http(portal_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal_url, timeout=60) as session:
        yield session


def native_rows(http: httpx.Client, dataset: str, params: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    query = dict(params) | {"_size": "1000"}
    while True:
        page = http.get(f"/api/v1/datasets/{dataset}/rows", params=query).json()
        rows += page["rows"]
        if not page["next"]:
            return rows
        query["_next"] = page["next"]


# --- sodapy ---------------------------------------------------------------------------------


def test_sodapy_get_reads_the_first_thousand_rows_as_socrata_writes_them(
    client: Socrata, http: httpx.Client
) -> None:
    rows = client.get(DALLAS)
    native = native_rows(http, "use_of_force", {})
    assert len(rows) == 1000 < len(native)
    first, expected = rows[0], native[0]
    assert first["record_id"] == expected["record_id"]
    assert first["force_number"] == str(expected["force_number"])  # numbers as strings
    assert first["incident_date"] == expected["incident_date"] + "T00:00:00.000"
    assert all(value is not None for row in rows for value in row.values())  # nulls left out
    blank = next(k for k, v in expected.items() if v is None)
    assert blank not in first


def test_sodapy_get_with_a_year_filter_and_a_grouping(client: Socrata, http: httpx.Client) -> None:
    where = "incident_date >= '2016-07-01T00:00:00.000' AND incident_date < '2017-01-01'"
    rows = client.get(DALLAS, where=where, limit=5000)
    native = native_rows(http, "use_of_force", {"incident_date__gte": "2016-07-01"})
    assert len(rows) == len(native) > 0
    groups = client.get(
        DALLAS,
        select="subject_race, count(*) AS n",
        where=where,
        group="subject_race",
        order="n DESC",
    )
    aggregate = http.get(
        "/api/v1/datasets/use_of_force/aggregate",
        params={"_group": "subject_race", "incident_date__gte": "2016-07-01", "_sort": "-count"},
    ).json()["groups"]
    assert [int(g["n"]) for g in groups] == [g["count"] for g in aggregate]
    assert sum(int(g["n"]) for g in groups) == len(native)


def test_sodapy_get_all_pages_through_every_row(client: Socrata, http: httpx.Client) -> None:
    rows = list(client.get_all(SEATTLE_ID, limit=5000))
    assert len(rows) == 13_886 == len(native_rows(http, "seattle_uof", {}))
    assert len({row["id"] for row in rows}) == len(rows)


def test_openpolicedatas_socrata_loader_reads_one_year(client: Socrata, http: httpx.Client) -> None:
    """openpolicedata's Socrata loader, its requests replayed through sodapy as it sends them:
    the metadata (is the date field a timestamp?), a ``count(*)`` over the year's ``between``,
    then pages ordered by ``:id`` at growing offsets until the count is reached."""
    meta = client.get_metadata(DALLAS)
    date_column = next(c for c in meta["columns"] if c["fieldName"] == "incident_date")
    assert date_column["dataTypeName"] not in ("text", "number")  # the loader's timestamp path
    where = "incident_date between '2016-07-01T00:00:00' and '2016-12-31T23:59:59.999'"
    counted = client.get(DALLAS, where=where, select="count(*)")
    total = int(float(counted[0]["count"]))
    rows: list[dict[str, Any]] = []
    while len(rows) < total:
        page = client.get(DALLAS, where=where, limit=500, offset=len(rows), order=":id")
        if not page:
            break
        rows += page
    native = native_rows(http, "use_of_force", {"incident_date__gte": "2016-07-01"})
    assert total == len(rows) == len(native) > 500
    assert sorted(r["record_id"] for r in rows) == sorted(r["record_id"] for r in native)


def test_sodapy_get_metadata_and_datasets(client: Socrata) -> None:
    metadata = client.get_metadata(DALLAS)
    assert metadata["id"] == DALLAS and metadata["name"]
    columns = {c["fieldName"]: c["dataTypeName"] for c in metadata["columns"]}
    assert columns["incident_date"] == "floating_timestamp"
    assert columns["force_number"] == "number" and columns["subject_injured"] == "checkbox"
    assert isinstance(metadata["rowsUpdatedAt"], int) and metadata["createdAt"] > 0
    assert metadata["openblotter"]["release_ids"]["2016-Q4"] == release_soda_id(
        "use_of_force", "2016-Q4"
    )
    listed = {d["resource"]["id"]: d for d in client.datasets()}
    assert set(listed) == {DALLAS, SEATTLE_ID, COUNTED}
    assert "incident_date" in listed[DALLAS]["resource"]["columns_field_name"]


# --- RSocrata's paging, request by request ------------------------------------------------------


@pytest.mark.parametrize(("dataset", "limit"), [(SEATTLE_ID, 50_000), (SEATTLE_ID, 5_000)])
def test_rsocrata_pages_by_id_until_an_empty_csv_with_its_header(
    http: httpx.Client, dataset: str, limit: int
) -> None:
    offset, pages, rows = 0, 0, []
    header: list[str] | None = None
    while True:
        response = http.get(
            f"/resource/{dataset}.csv", params={"$order": ":id", "$limit": limit, "$offset": offset}
        )
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/csv"
        )
        page = list(csv.reader(io.StringIO(response.text)))
        header = header or page[0]
        assert page[0] == header == json.loads(response.headers["X-SODA2-Fields"])
        assert len(json.loads(response.headers["X-SODA2-Types"])) == len(header)
        assert response.headers["Last-Modified"].endswith("GMT")
        pages += 1
        if len(page) == 1:
            break
        rows += page[1:]
        offset += len(page) - 1
    assert pages == -(-13_886 // limit) + 1  # the pages with rows, then the empty one
    assert len(rows) == 13_886
    ids = [row[header.index("id")] for row in rows]
    assert len(set(ids)) == len(ids)


def test_the_id_of_a_keyed_row_holds_across_releases(http: httpx.Client) -> None:
    params = {"$select": ":id, record_id, force_number", "$order": ":id", "$limit": "50000"}
    current = http.get(f"/resource/{DALLAS}.json", params=params).json()
    pinned = http.get(
        f"/resource/{release_soda_id('use_of_force', '2016-Q4')}.json", params=params
    ).json()
    assert current == pinned and len(current) == len({r[":id"] for r in current}) > 2000
    assert current[0][":id"].startswith("row-")
    keys = [(r["record_id"], int(r["force_number"])) for r in current]
    assert keys == sorted(keys)


# --- conventions and errors --------------------------------------------------------------------


def test_errors_take_socratas_shape(http: httpx.Client) -> None:
    unknown = http.get(f"/resource/{DALLAS}.json", params={"$where": "no_such_column = 1"})
    assert unknown.status_code == 404
    body = unknown.json()
    assert body["error"] is True and body["code"] == "query.soql.no-such-column"
    assert body["message"] and "allowed" in body["data"]
    malformed = http.get(f"/resource/{DALLAS}.json", params={"$where": "subject_age > "})
    assert malformed.status_code == 400 and malformed.json()["code"] == "query.compiler.malformed"
    missing = http.get("/resource/zzzz-9999.json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert http.get(f"/resource/{DALLAS}.xml").status_code == 404


def test_an_empty_answer_is_an_empty_array_and_a_csv_header(http: httpx.Client) -> None:
    where = {"$where": "subject_age > 500"}
    assert http.get(f"/resource/{DALLAS}.json", params=where).json() == []
    text = http.get(
        f"/resource/{DALLAS}.csv", params=where | {"$select": "record_id, subject_age"}
    ).text
    assert text == "record_id,subject_age\n"
    geo = http.get(f"/resource/{DALLAS}.geojson", params=where).json()
    assert geo == {"type": "FeatureCollection", "features": []}


def test_a_counts_only_dataset_answers_no_row_through_soda(http: httpx.Client) -> None:
    for suffix, params in [
        (".json", {}),
        (".csv", {"$order": ":id", "$limit": "50000", "$offset": "0"}),
        (".geojson", {"$query": "SELECT * LIMIT 1"}),
    ]:
        response = http.get(f"/resource/{COUNTED}{suffix}", params=params)
        assert response.status_code == 403, suffix
        assert response.json()["code"] == "permission_denied"
        assert "record_id" not in response.text
    view = http.get(f"/api/views/{COUNTED}.json").json()
    assert view["openblotter"]["access"] == "aggregates" and "resource" not in view["openblotter"]


# --- every SODA answer equals the native API's answer to the same question --------------------

RACES = ["Black or African American", "White", "Hispanic or Latino", "Asian", "Unknown", "Other"]
#: The same condition in both doors: native parameters and SoQL (native ``ne`` keeps nulls).
CONDITIONS = st.one_of(
    st.sampled_from(RACES).map(lambda r: ([("subject_race", r)], f"subject_race = '{r}'")),
    st.sampled_from(RACES).map(
        lambda r: (
            [("subject_race__ne", r)],
            f"(subject_race != '{r}' OR subject_race IS NULL)",
        )
    ),
    st.lists(st.sampled_from(RACES), min_size=1, max_size=3, unique=True).map(
        lambda rs: (
            [("subject_race__in", ",".join(rs))],
            "subject_race IN (" + ", ".join(f"'{r}'" for r in rs) + ")",
        )
    ),
    st.integers(15, 60).map(lambda n: ([("subject_age__gt", str(n))], f"subject_age > {n}")),
    st.integers(15, 60).map(lambda n: ([("subject_age__lte", str(n))], f"subject_age <= '{n}'")),
    st.booleans().map(
        lambda b: (
            [("subject_age__isnull", str(b).lower())],
            f"subject_age IS {'' if b else 'NOT '}NULL",
        )
    ),
    st.booleans().map(
        lambda b: ([("subject_injured", str(b).lower())], f"subject_injured = {str(b).lower()}")
    ),
    st.dates(date(2016, 1, 1), date(2016, 12, 31)).map(
        lambda d: (
            [("incident_date__gte", d.isoformat())],
            f"incident_date >= '{d.isoformat()}T00:00:00.000'",
        )
    ),
    st.sampled_from(["Male", "Female"]).map(
        lambda s: ([("officer_sex", s)], f"upper(officer_sex) = '{s.upper()}'")
    ),
)
GROUPINGS = st.sampled_from(
    [None, ["subject_race"], ["officer_sex", "subject_injured"], ["year"], ["year", "subject_sex"]]
)


def _soda_group(name: str) -> str:
    return "date_trunc_y(incident_date) AS year" if name == "year" else name


def _same_groups(soda: list[dict[str, Any]], native: list[dict[str, Any]], keys: list[str]) -> None:
    assert len(soda) == len(native)
    for got, want in zip(soda, native, strict=True):
        for key in keys:
            value = got.get(key)
            if key == "year" and value is not None:
                value = int(value[:4])
            elif isinstance(want[key], bool):
                value = None if value is None else value
            assert value == want[key], (key, got, want)
        assert int(got["count"]) == want["count"], (got, want)
        average = got.get("avg_subject_age")
        if want["avg_subject_age"] is None:
            assert average is None
        else:
            assert float(average) == pytest.approx(want["avg_subject_age"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(CONDITIONS, max_size=3, unique_by=lambda c: c[0][0][0].split("__")[0]), GROUPINGS)
def test_soda_answers_equal_the_native_answers(
    http: httpx.Client, conditions: list[tuple[list[tuple[str, str]], str]], keys: list[str] | None
) -> None:
    native = [pair for params, _ in conditions for pair in params]
    where = " AND ".join(soql for _, soql in conditions)
    soda = [("$where", where)] if where else []
    if keys is None:
        counted = http.get(f"/resource/{DALLAS}.json", params=[*soda, ("$select", "count(*)")])
        total = http.get(
            "/api/v1/datasets/use_of_force/rows",
            params=[*native, ("_count", "true"), ("_size", "40")],
        ).json()
        assert counted.json() == [{"count": str(total["total"])}], (where, native)
        rows = http.get(
            f"/resource/{DALLAS}.json",
            params=[
                *soda,
                ("$order", ":id"),
                ("$limit", "40"),
                ("$select", "record_id, force_number"),
            ],
        ).json()
        sorted_native = http.get(
            "/api/v1/datasets/use_of_force/rows",
            params=[*native, ("_sort", "record_id,force_number"), ("_size", "40")],
        ).json()["rows"]
        assert [(r["record_id"], int(r["force_number"])) for r in rows] == [
            (r["record_id"], r["force_number"]) for r in sorted_native
        ]
        return
    select = ", ".join(_soda_group(k) for k in keys) + ", count(*), avg(subject_age)"
    soda_groups = http.get(
        f"/resource/{DALLAS}.json",
        params=[*soda, ("$select", select), ("$group", ", ".join(keys)), ("$limit", "50000")],
    )
    assert soda_groups.status_code == 200, soda_groups.text
    answer = http.get(
        "/api/v1/datasets/use_of_force/aggregate",
        params=[*native, ("_group", ",".join(keys)), ("_agg", "count,avg:subject_age")],
    )
    assert answer.status_code == 200, (native, answer.text)
    native_groups = answer.json()["groups"]
    assert len(soda_groups.json()) == len(native_groups), (where, native, keys)
    _same_groups(soda_groups.json(), native_groups, keys)


def test_the_ids_are_listed_in_the_api_metadata_and_on_the_page(http: httpx.Client) -> None:
    detail = http.get("/api/v1/datasets/use_of_force").json()["socrata"]
    assert detail["id"] == DALLAS and detail["resource"] == f"/resource/{DALLAS}.json"
    assert detail["release_ids"] == {
        label: release_soda_id("use_of_force", label) for label in ("2016-Q4", "2017-Q1")
    }
    page = http.get("/datasets/use_of_force", headers={"accept": "text/html"}).text
    assert DALLAS in page and release_soda_id("use_of_force", "2017-Q1") in page
    counted = http.get("/api/v1/datasets/counted").json()["socrata"]
    assert counted["id"] == COUNTED and "resource" not in counted
    view = http.get(f"/api/views/{release_soda_id('use_of_force', '2016-Q4')}.json").json()
    assert view["openblotter"]["release"] == "2016-Q4" and view["openblotter"]["pinned"] is True


def test_browsers_may_read_the_soda_door_from_any_origin(http: httpx.Client) -> None:
    response = http.get(
        f"/resource/{DALLAS}.json?$limit=1", headers={"Origin": "https://x.example"}
    )
    assert response.headers["access-control-allow-origin"] == "*"
    assert "X-SODA2-Fields" in response.headers["access-control-expose-headers"]


def test_a_counts_only_dataset_answers_grouped_counts_from_its_protected_tables(
    http: httpx.Client,
) -> None:
    soda = http.get(
        f"/resource/{COUNTED}.json",
        params={"$select": "subject_race, count(*) AS n", "$group": "subject_race"},
    )
    assert soda.status_code == 200, soda.text
    native = http.get(
        "/api/v1/datasets/counted/aggregate", params={"_group": "subject_race"}
    ).json()
    assert native["suppression"]  # the native answer hides small counts
    expected = [
        {"subject_race": g["subject_race"]}
        | ({"n": str(g["count"])} if g["count"] is not None else {})
        for g in native["groups"]
    ]
    assert soda.json() == expected
    for refused in (
        {"$select": "subject_race, avg(subject_age)", "$group": "subject_race"},
        {"$select": "count(*)", "$where": "subject_age > 20"},
        {"$select": "count(*)", "$q": "taser"},
    ):
        response = http.get(f"/resource/{COUNTED}.json", params=refused)
        assert response.status_code in (400, 403), refused
        assert response.json()["error"] is True and "record_id" not in response.text
