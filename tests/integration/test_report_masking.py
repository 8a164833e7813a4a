"""Reports stored before masking existed are masked when the portal opens."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from openblotter.ingest.report_privacy import MASKED_MARK, WITHHELD
from openblotter.services.portal import Portal
from openblotter.storage import tables
from openblotter.web.app import create_app
from tests.factories import make_portal, make_settings, publish_file, write_csv

BIRTH = "1987-03-14"
#: A report as publishes stored it before masking: raw values quoted in examples.
OLD_REPORT = {
    "source": "uof.csv",
    "ok": True,
    "errors": 0,
    "warnings": 2,
    "problems": [
        {
            "code": "type_error",
            "severity": "warning",
            "count": 2,
            "examples": [
                {
                    "code": "type_error",
                    "row": 7,
                    "column": "subject_date_of_birth",
                    "value": BIRTH,
                    "message": f"subject_date_of_birth '{BIRTH}' is not a date of the quarter.",
                },
                {
                    "code": "type_error",
                    "row": 8,
                    "column": "subject_race",
                    "value": "Purple",
                    "message": "subject_race 'Purple' is not a code.",
                },
            ],
        }
    ],
    "facts": {
        "rules_applied": [
            {
                "rule": "dates before 1990",
                "count": 1,
                "examples": [{"row": 9, "column": "subject_date_of_birth", "value": BIRTH}],
            }
        ]
    },
}


def test_an_old_report_is_masked_at_startup_and_left_alone_after(tmp_path: Path) -> None:
    portal = make_portal(tmp_path / "portal")
    path = write_csv(
        tmp_path / "uof.csv",
        ["Case", "Date", "Race", "DOB"],
        [["A", "2019-01-01", "White", "1980-01-01"], ["B", "2019-01-02", "Black", "1990-05-06"]],
    )
    mapping = tmp_path / "uof.toml"
    mapping.write_text(
        'family = "use_of_force"\n[columns]\nrecord_id = "Case"\nincident_id = "Case"\n'
        'incident_date = "Date"\nforce_number = { row_number = true }\n'
        'subject_race = "Race"\nsubject_date_of_birth = "DOB"\n',
        encoding="utf-8",
    )
    release = publish_file(portal, path, "uof", "2019-Q1", mapping=mapping).release
    assert release is not None
    assert release.report[MASKED_MARK] is True  # new publishes are marked
    with portal.catalog.transaction() as conn:  # as a release stored before masking
        conn.execute(
            update(tables.releases)
            .where(tables.releases.c.id == release.id)
            .values(report=OLD_REPORT)
        )
    assert BIRTH in str(portal.catalog.release(release.id).report)

    reopened = Portal.open(make_settings(tmp_path / "portal"))
    stored = reopened.catalog.release(release.id).report
    assert BIRTH not in str(stored) and stored[MASKED_MARK] is True
    birth, race = stored["problems"][0]["examples"]
    assert birth["value"] == WITHHELD and f"'{WITHHELD}'" in birth["message"]
    assert race["value"] == "Purple"  # a published code is shown as recorded
    assert stored["facts"]["rules_applied"][0]["examples"][0]["value"] == WITHHELD
    client = TestClient(create_app(reopened.settings))
    body = client.get("/api/v1/datasets/uof/releases/2019-Q1").text
    assert BIRTH not in body and WITHHELD in body
    # once masked, a report is not selected again
    assert reopened.catalog.reports_without(MASKED_MARK) == []
