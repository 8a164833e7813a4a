"""Field names from a publisher's --schema file reach the CSV header made inert, like the
cells (issue 17: they went into the header as they were, so a spreadsheet ran them)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file, write_csv

NAMES = ["case_id", '=HYPERLINK("http://x.example","open")', "+total", "-delta", "@SUM(A1)"]


def test_formula_field_names_are_inert_in_the_csv_header(tmp_path):
    app = create_app(make_settings(tmp_path / "portal"))
    schema = tmp_path / "schema.json"
    fields = [{"name": NAMES[0], "type": "integer"}] + [
        {"name": name, "type": "string"} for name in NAMES[1:]
    ]
    schema.write_text(json.dumps({"fields": fields, "primaryKey": [NAMES[0]]}))
    data = write_csv(
        tmp_path / "odd.csv", NAMES, [[1, "a", "b", "c", "d"], [2, "e", "f", "g", "h"]]
    )
    publish_file(app.state.portal, data, "odd", "2026-Q2", schema_file=schema)
    expected = (
        '"case_id","\'=HYPERLINK(""http://x.example"",""open"")","\'+total","\'-delta","\'@SUM(A1)"'
    )
    with TestClient(app) as client:
        rows = client.get("/api/v1/datasets/odd/rows.csv")
        assert rows.status_code == 200
        lines = rows.text.splitlines()
        assert lines[0] == expected and len(lines) == 3
        assert lines[1].startswith("1,")
        empty = client.get("/api/v1/datasets/odd/rows.csv", params={"case_id": 99})
        assert empty.text.splitlines() == [expected]  # nothing matched: still an inert header
