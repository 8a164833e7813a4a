"""A packed value left in a coded field stops the publish, with where and how to fix it."""

from __future__ import annotations

from pathlib import Path

from openblotter.services.publishing import PublishRequest, publish
from tests.factories import write_csv


def test_a_packed_race_stops_the_publish_and_names_file_row_column_and_fix(
    portal, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "uof.csv",
        ["Case", "Date", "Race"],
        [["A", "2019-01-01", "White"], ["B", "2019-01-02", "White | Black"]],
    )
    mapping = tmp_path / "uof.toml"
    mapping.write_text(
        'family = "use_of_force"\n[columns]\nrecord_id = "Case"\nincident_id = "Case"\n'
        'incident_date = "Date"\nforce_number = { row_number = true }\nsubject_race = "Race"\n',
        encoding="utf-8",
    )
    for allow_invalid in (False, True):
        result = publish(
            portal,
            PublishRequest(
                path=path,
                dataset_id="uof",
                label="2019-Q1",
                mapping=mapping,
                allow_invalid=allow_invalid,
                accept_privacy=True,
            ),
        )
        assert result.release is None
        report = result.report.to_dict()
        assert report["source"] == "uof.csv"
        [packed] = result.report.groups["packed_value"].examples
        assert (packed.row, packed.column, packed.value) == (3, "subject_race", "White | Black")
        assert packed.severity == "error" and "[[people]]" in packed.message
    assert portal.catalog.dataset("uof") is None
