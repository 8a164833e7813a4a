"""An HTTP client over a portal with real files published (module-scoped: publishing is slow)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file, write_csv


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("api")
    settings = make_settings(data_dir)
    app = create_app(settings)
    portal = app.state.portal
    publish_file(portal, REAL_DATA / "seattle/Use_Of_Force.csv", "seattle_uof", "2026-Q2")
    formulas = write_csv(
        data_dir / "formulas.csv",
        ["case_id", "note", "amount"],
        [
            [1, '=HYPERLINK("http://x")', 5],
            [2, "+1+1", -3],
            [3, "@SUM(A1)", 7],
            [4, "plain", 0],
        ],
    )
    publish_file(portal, formulas, "formulas", "2026-Q2")
    with TestClient(app) as client:
        yield client
