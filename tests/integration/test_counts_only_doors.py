"""Issue 14: access rules live in the services, so no door reads a row of a counts-only dataset.

Each door (the API, the pages, the harvest doors, the CLI) and each service
function those doors call is asked for rows of a dataset the portal publishes
only as counts; every one refuses with Forbidden (403), and none of them checks
it in the door: a new door that calls the same service functions is refused too.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openblotter.cli import app as cli_app
from openblotter.domain.errors import Forbidden
from openblotter.domain.formats import EXPORT_FORMATS
from openblotter.services import harvest, query, releases, soda
from openblotter.services.soda_ids import dataset_soda_id, release_soda_id
from openblotter.web.app import create_app
from tests.factories import TEST_SALT, make_settings, publish_file, write_csv

DATASET = "ledger"
API = f"/api/v1/datasets/{DATASET}"
HEADER = ["case_id", "district", "kind"]
SODA_ID = dataset_soda_id(DATASET)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    work = tmp_path_factory.mktemp("counts-only-doors")
    app = create_app(make_settings(work, aggregates_only_datasets=[DATASET]))
    portal = app.state.portal
    first = [[f"C{i}", f"D{i % 3}", "stop"] for i in range(40)]
    second = [*first[5:], *[[f"C{i}", "D9", "arrest"] for i in range(40, 50)]]
    for label, rows in (("2026-Q1", first), ("2026-Q2", second)):
        path = write_csv(work / f"{label}.csv", HEADER, rows)
        publish_file(portal, path, DATASET, label)
    with TestClient(app) as test_client:
        yield test_client


def _portal(client: TestClient) -> Any:
    return client.app.state.portal


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/rows",
        *(f"{API}/rows.{fmt.name}" for fmt in EXPORT_FORMATS),
        f"{API}/releases/2026-Q1/file.parquet",
        f"{API}/releases/2026-Q1/diff/2026-Q2",
        f"{API}/releases/2026-Q1/diff/2026-Q2?change=added",
        f"{API}/releases/2026-Q2/datapackage.json",
        f"/datasets/{DATASET}/explore",
        f"/datasets/{DATASET}/releases/2026-Q1/diff/2026-Q2",
        *(f"/resource/{SODA_ID}{suffix}" for suffix in ("", ".json", ".csv", ".geojson")),
        f"/resource/{release_soda_id(DATASET, '2026-Q1')}.csv?$order=:id&$limit=50000",
        f"/resource/{SODA_ID}.json?$query=SELECT case_id, district WHERE kind = 'stop'",
    ],
)
def test_every_web_door_refuses_rows(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 403, response.text[:300]
    assert "C1" not in response.text and "D9" not in response.text


def test_the_counts_stay_open(client: TestClient) -> None:
    response = client.get(f"{API}/aggregate", params={"_group": "district"})
    assert response.status_code == 200, response.text
    assert response.json()["groups"]


def test_the_manifest_keeps_the_rows_report_and_changelog_back(client: TestClient) -> None:
    manifest = client.get(f"{API}/releases/2026-Q2").json()
    assert set(manifest["report"]) == {"withheld"}
    assert not set(manifest["changelog"]) & {"added", "removed", "changed"}
    direct = releases.release_manifest(_portal(client), DATASET, "2026-Q2")
    assert direct == manifest


@pytest.mark.parametrize(
    "call",
    [
        lambda p: query.rows_page(p, DATASET, []),
        *(lambda p, f=fmt.name: query.export(p, DATASET, [], f) for fmt in EXPORT_FORMATS),
        lambda p: releases.diff_releases(p, DATASET, "2026-Q1", "2026-Q2"),
        lambda p: releases.diff_releases(p, DATASET, "2026-Q1", "2026-Q2", change="added", limit=5),
        lambda p: releases.release_file(p, DATASET, "2026-Q1"),
        lambda p: harvest.datapackage(p, "https://portal.example", DATASET, "2026-Q2"),
        lambda p: soda.query(p, SODA_ID, [("$select", "case_id")]),
    ],
    ids=[
        "rows_page",
        *(f"export-{fmt.name}" for fmt in EXPORT_FORMATS),
        "diff_releases",
        "diff_releases-rows",
        "release_file",
        "datapackage",
        "soda",
    ],
)
def test_every_service_a_door_calls_refuses_rows(client: TestClient, call: Any) -> None:
    with pytest.raises(Forbidden, match="published only as counts"):
        call(_portal(client))


def test_the_public_aggregate_cannot_be_asked_to_skip_protection() -> None:
    """The unprotected counts are in services.reading, which doors may not import; a door's
    refinement (offset, where) is refused for a counts-only dataset (tested below)."""
    parameters = list(inspect.signature(query.aggregate).parameters)
    assert parameters[:3] == ["portal", "dataset_id", "params"]
    assert not any("protect" in name for name in parameters)


def test_the_cli_diff_refuses_rows(client: TestClient) -> None:
    settings = _portal(client).settings
    env = {"OPENBLOTTER_DATA_DIR": str(settings.data_dir), "OPENBLOTTER_SALT": TEST_SALT}
    env["OPENBLOTTER_AGGREGATES_ONLY_DATASETS"] = f'["{DATASET}"]'
    result = CliRunner().invoke(cli_app, ["diff", DATASET, "2026-Q1", "2026-Q2"], env=env)
    assert isinstance(result.exception, Forbidden), result.output
    assert "C1" not in result.output


def test_a_rows_public_dataset_still_diffs_from_the_cli(tmp_path: Path) -> None:
    """The same command on a dataset whose rows are public lists the changes."""
    app = create_app(make_settings(tmp_path))
    for label, rows in (("2026-Q1", [["C1", "D1", "stop"]]), ("2026-Q2", [["C2", "D1", "stop"]])):
        path = write_csv(tmp_path / f"{label}.csv", HEADER, rows)
        publish_file(app.state.portal, path, DATASET, label)
    env = {"OPENBLOTTER_DATA_DIR": str(tmp_path), "OPENBLOTTER_SALT": TEST_SALT}
    result = CliRunner().invoke(cli_app, ["diff", DATASET, "2026-Q1", "2026-Q2"], env=env)
    assert result.exit_code == 0, result.output
    assert "added 1" in result.output and "C2" in result.output
