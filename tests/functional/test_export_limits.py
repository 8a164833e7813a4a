"""Downloads of any size (issue 15, item 4): XLSX over Excel's sheet limit is refused with a
message that names the limit, before anything is written; CSV of the same rows streams."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openblotter.storage import exports
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    app = create_app(make_settings(tmp_path_factory.mktemp("exports")))
    publish_file(app.state.portal, REAL_DATA / "seattle/Use_Of_Force.csv", "uof", "2026-Q2")
    return TestClient(app)


def test_xlsx_over_the_sheet_limit_says_so(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 1_000)
    response = api.get("/api/v1/datasets/uof/rows.xlsx")
    assert response.status_code == 413
    error = response.json()
    text = str(error)
    assert "1,001 rows" in text and "1,000 rows of data" in text and "CSV" in text
    assert error["error"]["detail"]["rows"] == 13_886
    assert error["error"]["detail"]["sheet_rows"] == 1_001
    csv = api.get("/api/v1/datasets/uof/rows.csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 13_887


def test_the_real_limit_is_excels() -> None:
    assert exports.XLSX_MAX_ROWS + 1 == 1_048_576
