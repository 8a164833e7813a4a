"""Which officer-and-community-member pairs a race-pair table counts, per family.

A complaints file has one row per allegation (and per complainant, and per officer):
counted row by row, a complaint against one officer with three allegations is three
pairs. A complaint's pair is one of its officers and one of its complainants, counted
once however many allegations name them. When the officers were gathered into the
complaint's officers table (``from_rows`` in the mapping), each row says which of
them it is about (``officer_number``) and their race is read from that table.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from openblotter.services import reading
from openblotter.services.person_tables import person_dataset_id
from openblotter.services.portal import Portal

PAIR = ["officer_race", "subject_race"]
ROW_UNIT = "one row of the dataset"
COMPLAINT_UNIT = (
    "one officer and one complainant of one complaint (counted once, however many "
    "allegations name them)"
)
_COMPLAINT = ["complaint_id", "complainant_number"]
_LINK = ["complaint_id", "officer_number"]


def linked_officers(portal: Portal, dataset_id: str, filters: Sequence[tuple[str, str]]) -> bool:
    """Whether the dataset's rows point to its officers table instead of holding the race."""
    schema = reading.target(
        portal, dataset_id, [(k, v) for k, v in filters if k == "_release"]
    ).schema
    if schema.field("officer_race") is not None or schema.field("officer_number") is None:
        return False
    return portal.catalog.dataset(person_dataset_id(dataset_id, "officers")) is not None


def pair_frame(
    portal: Portal, dataset_id: str, filters: list[tuple[str, str]]
) -> tuple[pl.DataFrame, str]:
    """One row per counted pair (``officer_race``, ``subject_race``) and what a pair is."""
    if portal.dataset(dataset_id).family != "complaints":
        return reading.table(portal, dataset_id, filters, PAIR), ROW_UNIT
    if linked_officers(portal, dataset_id, filters):
        rows = reading.table(
            portal, dataset_id, filters, [*_COMPLAINT, "officer_number", "subject_race"]
        )
        officers = reading.table(
            portal, person_dataset_id(dataset_id, "officers"), [], [*_LINK, "officer_race"]
        )
        rows = rows.with_columns(pl.col("officer_number").cast(officers["officer_number"].dtype))
        frame = rows.join(officers, on=_LINK, how="left")
        unit = [*_COMPLAINT, "officer_number"]
    else:
        frame = reading.table(portal, dataset_id, filters, [*_COMPLAINT, "officer_id", *PAIR])
        unit = [c for c in [*_COMPLAINT, "officer_id", "officer_race"] if c in frame.columns]
    present = [c for c in unit if c in frame.columns]
    return frame.unique(subset=[*present, *PAIR], keep="first").select(PAIR), COMPLAINT_UNIT
