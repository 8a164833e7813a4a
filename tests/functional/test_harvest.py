"""The doors harvesters and feed readers use, read by their own tools: the POD JSON Schema on
/data.json, `frictionless validate` on each release's Data Package, feedparser on the feeds."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import jsonschema
import polars as pl
import pytest
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from openblotter.services.purge import purge
from openblotter.services.releases import withdraw
from openblotter.web.app import create_app
from tests.factories import DALLAS_USE_OF_FORCE, MAPPINGS, make_settings, publish_file

STANDARDS = Path(__file__).resolve().parents[1] / "data" / "standards" / "dcat-us-1.1"
POD = "https://project-open-data.cio.gov/v1.1/schema/"


@pytest.fixture(scope="module")
def portal_client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("harvest")
    settings = make_settings(
        data_dir,
        agency="Dallas Police Department",
        contact_email="open.data@dallaspolice.example",
        license="CC-BY-4.0",
        city_name="Dallas",
        aggregates_only_datasets=["counted"],
        public_base_url="http://portal.example",
    )
    app = create_app(settings)
    portal = app.state.portal
    mapping = MAPPINGS / "dallas_use_of_force.toml"
    for label in ("2016-Q4", "2017-Q1"):
        publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", label, mapping=mapping)
    publish_file(portal, DALLAS_USE_OF_FORCE, "counted", "2016-Q4", mapping=mapping)
    withdraw(portal, "use_of_force", "2016-Q4", reason="Wrong export")
    publish_file(portal, DALLAS_USE_OF_FORCE, "purged_uof", "2016-Q4", mapping=mapping)
    purge(portal, "purged_uof", "2016-Q4", reason="Published by mistake")
    with TestClient(app, base_url="http://portal.example") as client:
        yield client


def _pod_validator() -> jsonschema.Draft4Validator:
    """The POD catalog schema, non-federal profile: bureauCode and programCode not required."""
    schemas = {p.name: json.loads(p.read_text()) for p in STANDARDS.glob("*.json")}
    schemas["dataset.json"]["required"] = [
        name
        for name in schemas["dataset.json"]["required"]
        if name not in {"bureauCode", "programCode"}
    ]
    registry: Registry = Registry().with_resources(
        (POD + name, Resource.from_contents(schema, default_specification=DRAFT4))
        for name, schema in schemas.items()
    )
    return jsonschema.Draft4Validator(schemas["catalog.json"], registry=registry)


def test_data_json_is_a_valid_dcat_us_catalog(portal_client: TestClient) -> None:
    response = portal_client.get("/data.json")
    assert response.status_code == 200
    catalog = response.json()
    errors = sorted(_pod_validator().iter_errors(catalog), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    records = {record["identifier"]: record for record in catalog["dataset"]}
    uof = records["http://portal.example/datasets/use_of_force"]
    assert uof["accrualPeriodicity"] == "R/P3M"
    assert uof["temporal"] == "2016-01-01/2016-12-31"  # the data's own dates, not the quarters
    assert uof["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert uof["contactPoint"]["hasEmail"] == "mailto:open.data@dallaspolice.example"
    assert uof["publisher"]["name"] == "Dallas Police Department"
    formats = {d["format"]: d for d in uof["distribution"]}
    assert set(formats) == {"CSV", "NDJSON", "Parquet", "XLSX"}
    assert formats["CSV"]["downloadURL"].endswith("/api/v1/datasets/use_of_force/rows.csv")
    assert portal_client.get(formats["CSV"]["downloadURL"]).status_code == 200


def test_a_counts_only_dataset_offers_no_rows_to_harvesters(portal_client: TestClient) -> None:
    records = {
        r["identifier"].rsplit("/", 1)[1]: r
        for r in portal_client.get("/data.json").json()["dataset"]
    }
    counted = records["counted"]
    assert counted["accessLevel"] == "restricted public" and "rights" in counted
    assert all("downloadURL" not in d for d in counted["distribution"])
    response = portal_client.get("/api/v1/datasets/counted/releases/2016-Q4/datapackage.json")
    assert response.status_code == 403 and response.json()["error"]["code"]


def test_data_json_is_stable_until_a_release_changes(portal_client: TestClient) -> None:
    first, second = portal_client.get("/data.json"), portal_client.get("/data.json")
    assert first.content == second.content


def test_every_published_release_has_a_data_package_frictionless_accepts(
    portal_client: TestClient, tmp_path: Path
) -> None:
    base = "/api/v1/datasets/use_of_force/releases/2017-Q1"
    package = portal_client.get(f"{base}/datapackage.json").json()
    assert package["profile"] == "tabular-data-package" and package["version"] == "2017-Q1"
    by_format = {resource["format"]: resource for resource in package["resources"]}
    # Fetch what the package points at, and validate the package against those bytes.
    for fmt, resource in by_format.items():
        body = portal_client.get(resource["path"])
        assert body.status_code == 200, resource["path"]
        local = tmp_path / f"release.{fmt}"
        local.write_bytes(body.content)
        resource["path"] = local.name
    parquet = by_format["parquet"]
    assert parquet["bytes"] == (tmp_path / "release.parquet").stat().st_size
    manifest = portal_client.get(base).json()
    assert package["openblotter"]["rows"] == manifest["row_count"] > 2383  # a row per force used
    assert parquet["hash"] == f"sha256:{manifest['checksum']['value']}"
    digest = hashlib.sha256((tmp_path / "release.parquet").read_bytes()).hexdigest()
    assert parquet["hash"] == f"sha256:{digest}"
    # Every row of the CSV, all checks; the Parquet file's structure and first rows (frictionless
    # cannot measure the bytes or hash of a Parquet source: the two lines above do).
    csv_report = _frictionless(tmp_path, {**package, "resources": [by_format["csv"]]})
    assert csv_report["tasks"][0]["stats"]["rows"] == manifest["row_count"]
    parquet_report = _frictionless(
        tmp_path, {**package, "resources": [parquet]}, "--limit-rows", "300",
        "--skip-errors", "byte-count,hash-count",
    )  # fmt: skip
    for report in (csv_report, parquet_report):
        problems = [
            error["message"]
            for task in report["tasks"]
            for error in task["errors"]
            if not _reader_nan(task, error, tmp_path / "release.parquet")
        ]
        assert problems == [], problems[:10]


def _frictionless(folder: Path, package: dict, *options: str) -> dict:
    (folder / "datapackage.json").write_text(json.dumps(package))
    frictionless = Path(sys.executable).parent / "frictionless"
    done = subprocess.run(
        [str(frictionless), "validate", "datapackage.json", "--json", *options],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report: dict = json.loads(done.stdout)
    return report


def _reader_nan(task: dict, error: dict, parquet: Path) -> bool:
    """frictionless reads Parquet through pandas, which turns an integer column holding only
    nulls into floats: its cells come back as "nan". That, and only that, is forgiven, for
    columns the stored file really holds no value in (docs/interop.md says so)."""
    if not task["name"].endswith("-parquet") or error["type"] != "type-error":
        return False
    column = pl.read_parquet(parquet, columns=[error["fieldName"]]).to_series()
    return error["cell"] == "nan" and column.null_count() == len(column)


def test_a_withdrawn_release_has_no_data_package(portal_client: TestClient) -> None:
    response = portal_client.get("/api/v1/datasets/use_of_force/releases/2016-Q4/datapackage.json")
    assert response.status_code == 404
    assert "withdrawn" in response.json()["error"]["message"]


def test_feeds_list_publications_and_withdrawals(portal_client: TestClient) -> None:
    portal_feed = portal_client.get("/feed.atom")
    assert portal_feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(portal_feed.content)
    assert not parsed.bozo, parsed.bozo_exception
    titles = [entry.title for entry in parsed.entries]
    assert len(titles) == 6  # four publications, one withdrawal, one purge
    assert titles[0].endswith("release 2016-Q4 purged")
    assert "Published by mistake" in parsed.entries[0].summary
    assert titles[2] == "Use of force: release 2016-Q4 withdrawn"  # after purged_uof's publication
    assert "Wrong export" in parsed.entries[2].summary
    dataset_feed = feedparser.parse(portal_client.get("/datasets/use_of_force/feed.atom").content)
    assert {e.title.split(":")[0] for e in dataset_feed.entries} == {"Use of force"} or all(
        "counted" not in e.link for e in dataset_feed.entries
    )
    assert len(dataset_feed.entries) == 3
    assert len({entry.id for entry in parsed.entries}) == 6
    # Nothing in a feed depends on the request: readers see an entry once.
    assert portal_client.get("/feed.atom").content == portal_feed.content


def test_pages_link_their_feeds(portal_client: TestClient) -> None:
    page = portal_client.get("/datasets/use_of_force").text
    assert 'type="application/atom+xml" href="/datasets/use_of_force/feed.atom"' in page
    assert "/api/v1/datasets/use_of_force/releases/2017-Q1/datapackage.json" in page
    assert 'href="/data.json"' in portal_client.get("/").text


def test_a_purged_release_has_a_410_for_its_package(portal_client: TestClient) -> None:
    response = portal_client.get("/api/v1/datasets/purged_uof/releases/2016-Q4/datapackage.json")
    assert response.status_code == 410 and response.json()["error"]["code"] == "gone"
    assert "purged_uof" not in {
        r["identifier"].rsplit("/", 1)[1] for r in portal_client.get("/data.json").json()["dataset"]
    }


def test_unknown_dataset_feed_is_a_404_with_the_error_shape(portal_client: TestClient) -> None:
    response = portal_client.get("/datasets/nope/feed.atom")
    assert response.status_code == 404


def test_dataset_pages_describe_themselves_to_search_engines(portal_client: TestClient) -> None:
    import extruct

    page = portal_client.get("/datasets/use_of_force")
    found = extruct.extract(page.text, base_url=str(page.url), syntaxes=["json-ld"])["json-ld"]
    (dataset,) = [item for item in found if item.get("@type") == "Dataset"]
    assert dataset["name"] == "Use of force"
    assert dataset["version"] == "2017-Q1" and dataset["license"].startswith(
        "https://creativecommons"
    )
    assert dataset["temporalCoverage"].startswith("2016-01-01/")
    assert dataset["spatialCoverage"]["name"].startswith("Dallas")
    assert dataset["creator"]["name"] == "Dallas Police Department"
    assert dataset["includedInDataCatalog"]["@type"] == "DataCatalog"
    formats = {d["encodingFormat"] for d in dataset["distribution"]}
    assert {"text/csv", "application/vnd.apache.parquet"} <= formats
    assert all(
        d["contentUrl"].startswith("http://portal.example/") for d in dataset["distribution"]
    )
    assert "police" in dataset["keywords"]


def test_without_a_public_address_links_are_relative_never_the_host_header(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    publish_file(
        app.state.portal, DALLAS_USE_OF_FORCE, "use_of_force", "2016-Q4",
        mapping=MAPPINGS / "dallas_use_of_force.toml",
    )  # fmt: skip
    with TestClient(app, base_url="http://attacker.example") as client:
        catalog = client.get("/data.json").text
        feed = client.get("/feed.atom").text
    assert "attacker.example" not in catalog + feed
    assert '"identifier":"/datasets/use_of_force"' in catalog.replace(" ", "")
