"""Publishing a published export again keeps its hashed IDs (issue 17: 929 rows "changed")."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from openblotter.services import query
from tests.factories import make_portal, publish_file, write_csv


def _ids(portal: object, label: str) -> dict[str, str]:
    path = portal.release_path(portal.release("contacts", label))  # type: ignore[attr-defined]
    frame = pl.read_parquet(path)
    return dict(zip(frame["record_id"], frame["officer_id"], strict=True))


def test_an_exported_csv_published_again_keeps_its_officer_hashes(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    rows = [
        [f"C-{i}", f"2026-07-{1 + i % 28:02d}", "None (no bias)", f"P{i % 7}"] for i in range(60)
    ]
    source = write_csv(
        tmp_path / "q3.csv", ["record_id", "incident_date", "bias_motivation", "officer_id"], rows
    )
    publish_file(portal, source, "contacts", "2026-Q3", family="contacts")
    published = _ids(portal, "2026-Q3")
    assert "P1" not in published.values() and len(set(published.values())) == 7

    export = query.export(portal, "contacts", [], "csv")
    again = tmp_path / "contacts-2026-Q3.csv"
    again.write_bytes(b"".join(export.chunks))
    # A new officer in the re-published file is hashed as usual.
    again.write_text(
        again.read_text()
        + again.read_text().splitlines()[1].replace("C-0", "C-99").replace(published["C-0"], "P99")
        + "\n"
    )
    result = publish_file(portal, again, "contacts", "2026-Q4", family="contacts")

    assert result.changelog["changed"] == 0
    assert result.changelog["added"] == 1
    republished = _ids(portal, "2026-Q4")
    assert {k: republished[k] for k in published} == published
    assert republished["C-99"] not in ("P99", *published.values())
    assert len(republished["C-99"]) == len(published["C-0"])
    assert result.report.facts["kept_published_hashes"] == {"officer_id": 60}
