"""Issue 14: one registry of export formats; adding one is an entry and its writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import InvalidInput
from openblotter.domain.formats import EXPORT_FORMATS, XLSX_MAX_ROWS, export_format
from openblotter.storage import exports
from openblotter.web import presenters, summaries
from openblotter.web.app import create_app
from tests.factories import make_settings, publish_file, write_csv

NAMES = [fmt.name for fmt in EXPORT_FORMATS]


def test_every_format_has_one_writer_and_every_writer_a_format() -> None:
    assert sorted(exports.EXPORTS) == sorted(NAMES)


def test_page_links_list_the_registry() -> None:
    links = presenters.format_links("/api/v1/datasets/x/rows", [], 10)
    assert [link["format"] for link in links] == NAMES
    assert [link["label"] for link in links] == [fmt.label for fmt in EXPORT_FORMATS]


def test_every_door_lists_and_serves_the_registry(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    path = write_csv(tmp_path / "x.csv", ["case_id", "kind"], [["C1", "stop"], ["C2", "arrest"]])
    publish_file(app.state.portal, path, "ledger", "2026-Q1")
    with TestClient(app) as client:
        links = client.get("/api/v1/datasets/ledger").json()["links"]["downloads"]
        assert list(links) == NAMES
        (entry,) = client.get("/data.json").json()["dataset"]
        assert [d["format"] for d in entry["distribution"]] == [f.title for f in EXPORT_FORMATS]
        assert [d["mediaType"] for d in entry["distribution"]] == [
            f.bare_media_type for f in EXPORT_FORMATS
        ]
        for fmt in EXPORT_FORMATS:
            response = client.get(links[fmt.name])
            assert response.status_code == 200
            assert response.headers["content-type"] == fmt.media_type
            assert f'.{fmt.extension}"' in response.headers["content-disposition"]


def test_a_format_with_a_row_limit_is_not_offered_beyond_it() -> None:
    links = presenters.format_links("/rows", [], XLSX_MAX_ROWS + 1)
    assert [link["format"] for link in links if not link["available"]] == ["xlsx"]
    assert summaries.xlsx_note(XLSX_MAX_ROWS + 1)
    assert not summaries.xlsx_note(XLSX_MAX_ROWS)


def test_an_unknown_format_names_the_formats() -> None:
    with pytest.raises(InvalidInput) as raised:
        export_format("pdf")
    assert raised.value.detail == {"parameter": "format", "allowed": NAMES}
