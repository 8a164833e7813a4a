"""Releases: publish, diff, withdraw, rollback, conflicts, layout changes, blocked publishes."""

from __future__ import annotations

import pytest

from openblotter.domain.errors import Conflict, InvalidInput, NotFound
from openblotter.services import releases
from openblotter.services.publishing import PublishRequest, publish
from tests.factories import publish_file, write_csv

HEADER = ["case_id", "incident_date", "subject_race", "force_type"]


def _q2(tmp_path):
    return write_csv(
        tmp_path / "q2.csv",
        HEADER,
        [
            [1, "2026-04-02", "White", "Taser"],
            [2, "2026-05-10", "Black", "Hands"],
            [3, "2026-06-20", "Black", "Hands"],
        ],
    )


def _q3(tmp_path):
    return write_csv(
        tmp_path / "q3.csv",
        HEADER,
        [
            [1, "2026-04-02", "White", "Taser"],
            [2, "2026-05-10", "Black", "Takedown"],  # corrected
            [4, "2026-08-01", "Asian", "Hands"],  # new; 3 removed
        ],
    )


def test_diff_by_primary_key_with_changed_fields(portal, tmp_path):
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    result = publish_file(portal, _q3(tmp_path), "uof", "2026-Q3")
    assert result.changelog["previous"] == "2026-Q2"
    assert (
        result.changelog["added"],
        result.changelog["removed"],
        result.changelog["changed"],
    ) == (1, 1, 1)
    diff = releases.diff_releases(portal, "uof", "2026-Q2", "2026-Q3", change="changed", limit=10)
    assert diff.key == ["case_id"]
    assert diff.changed_fields == {"force_type": 1}
    assert diff.rows == [
        {"case_id": 2, "changes": {"force_type": {"old": "Hands", "new": "Takedown"}}}
    ]
    added = releases.diff_releases(portal, "uof", "2026-Q2", "2026-Q3", change="added", limit=10)
    assert [r["case_id"] for r in added.rows] == [4]


def test_labels_are_immutable_until_withdrawn(portal, tmp_path):
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    with pytest.raises(Conflict, match="already exists"):
        publish(portal, PublishRequest(path=_q3(tmp_path), dataset_id="uof", label="2026-Q2"))
    releases.withdraw(portal, "uof", "2026-Q2", reason="wrong file")
    publish_file(portal, _q3(tmp_path), "uof", "2026-Q2")
    statuses = [(r.label, r.status) for r in releases.list_releases(portal, "uof")]
    assert statuses == [("2026-Q2", "withdrawn"), ("2026-Q2", "published")]


def test_withdraw_current_and_rollback(portal, tmp_path):
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    publish_file(portal, _q3(tmp_path), "uof", "2026-Q3")
    assert portal.release("uof").label == "2026-Q3"
    back = releases.rollback(portal, "uof", reason="bad export")
    assert back.label == "2026-Q2" and portal.release("uof").label == "2026-Q2"
    with pytest.raises(NotFound, match="withdrawn"):
        portal.release("uof", "2026-Q3")
    with pytest.raises(Conflict, match="nothing to roll back"):
        releases.rollback(portal, "uof")
    assert releases.withdraw(portal, "uof", "2026-Q2") is None
    with pytest.raises(NotFound, match="no published release"):
        portal.release("uof")
    actions = [e["action"] for e in portal.catalog.audit_entries("uof")]
    assert actions == ["publish", "publish", "rollback", "withdraw"]


def test_an_older_quarter_published_later_does_not_become_current(portal, tmp_path):
    publish_file(portal, _q3(tmp_path), "uof", "2026-Q3")
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    assert portal.release("uof").label == "2026-Q3"


def test_a_changed_layout_is_reported_and_can_be_accepted(portal, tmp_path):
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    changed = write_csv(
        tmp_path / "new.csv", ["case_id", "incident_date", "race"], [[1, "2026-07-01", "White"]]
    )
    with pytest.raises(InvalidInput) as error:
        publish(portal, PublishRequest(path=changed, dataset_id="uof", label="2026-Q3"))
    assert "subject_race" in error.value.message and "race" in error.value.detail["new_columns"]
    assert error.value.detail["missing_columns"] == ["subject_race", "force_type"]
    result = publish_file(portal, changed, "uof", "2026-Q3", accept_layout_change=True)
    assert result.changelog["removed_columns"] == ["subject_race", "force_type"]


def test_later_release_is_checked_against_the_dataset_schema(portal, tmp_path):
    publish_file(portal, _q2(tmp_path), "uof", "2026-Q2")
    bad = write_csv(tmp_path / "bad.csv", HEADER, [["x1", "not a date", "White", "Taser"]])
    result = publish(portal, PublishRequest(path=bad, dataset_id="uof", label="2026-Q3"))
    assert result.release is None
    codes = result.report.counts()
    assert codes["type_error"] == 2
    assert portal.release("uof").label == "2026-Q2"
    assert [r.label for r in portal.catalog.releases("uof")] == ["2026-Q2"]


def test_bad_labels_ids_and_files_are_clear_errors(portal, tmp_path):
    good = _q2(tmp_path)
    with pytest.raises(InvalidInput, match="2026-Q3"):
        publish(portal, PublishRequest(path=good, dataset_id="uof", label="Q3 2026"))
    with pytest.raises(InvalidInput, match="lowercase"):
        publish(portal, PublishRequest(path=good, dataset_id="Use Of Force", label="2026-Q3"))
    with pytest.raises(InvalidInput, match="not found"):
        publish(
            portal, PublishRequest(path=tmp_path / "missing.csv", dataset_id="uof", label="2026-Q3")
        )
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(InvalidInput, match="CSV and XLSX"):
        publish(portal, PublishRequest(path=pdf, dataset_id="uof", label="2026-Q3"))
