"""Hate crimes derived from contacts since 2021: each derived release is a complete snapshot."""

from __future__ import annotations

from datetime import date

import polars as pl

from openblotter.services import releases as release_service
from tests.factories import publish_file, write_csv


def _frame(portal, dataset_id: str, label: str) -> pl.DataFrame:
    return pl.read_parquet(portal.release_path(portal.release(dataset_id, label)))


def test_a_derived_release_carries_the_history_of_the_own_files(portal, tmp_path):
    own = write_csv(
        tmp_path / "hate_2020.csv",
        ["record_id", "bias_number", "incident_date", "bias_motivation"],
        [
            ["H-1", 1, "2019-05-01", "Anti-Black or African American"],
            ["H-2", 1, "2020-11-02", "Anti-Jewish"],
        ],
    )
    publish_file(portal, own, "hate_crimes", "2020-Q4", family="hate_crimes")
    contacts = write_csv(
        tmp_path / "contacts_2021.csv",
        ["record_id", "incident_date", "bias_motivation"],
        [
            ["C-1", "2021-02-01", "Anti-Asian"],
            ["C-2", "2021-02-03", "None (no bias)"],
        ],
    )
    publish_file(portal, contacts, "contacts", "2021-Q1", family="contacts")

    hate = release_service.list_releases(portal, "hate_crimes")
    assert [r.label for r in hate] == ["2020-Q4", "2021-Q1"]
    derived = _frame(portal, "hate_crimes", "2021-Q1")
    assert sorted(derived["record_id"].to_list()) == ["C-1", "H-1", "H-2"]
    before = derived.filter(pl.col("incident_date") < date(2021, 1, 1)).drop("_row_id")
    published = _frame(portal, "hate_crimes", "2020-Q4").drop("_row_id")
    assert before.sort("record_id").equals(published.sort("record_id"))
    assert (hate[1].changelog["added"], hate[1].changelog["removed"]) == (1, 0)
    assert hate[1].report["facts"]["carried_from_own_releases"] == 2
