"""More measurements against the community: staff representation and race pairs (the veil of
darkness is :mod:`openblotter.services.darkness`)."""

from __future__ import annotations

from typing import Any

import polars as pl

from openblotter.analysis.census_mapping import combined_race_ethnicity
from openblotter.analysis.representation import race_pair_table, representation_by
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure, disclosure_analyses, pair_frames, reading, recording
from openblotter.services.portal import Portal
from openblotter.services.requirements import require_fields
from openblotter.services.residents import race_mapping, residents_by_group


def representation(
    portal: Portal, dataset_id: str, *, filters: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Staff by race/ethnicity against residents: the representation index, by sworn status and rank."""
    require_fields(portal, dataset_id, "representation index", ["officer_race"], filters)
    if reading.target(portal, dataset_id, filters or []).schema.field("officer_race") is None:
        raise InvalidInput(
            f"Dataset '{dataset_id}' has no officer_race field, so it cannot be compared with "
            "the residents; choose the department demographics dataset.",
            detail={
                "parameter": "dataset",
                "dataset": dataset_id,
                "fields_needed": ["officer_race"],
            },
        )
    if disclosure.aggregates_only(portal, dataset_id):  # from the protected tables
        return disclosure_analyses.representation(portal, dataset_id, filters or [])
    columns = [
        "officer_race",
        "officer_ethnicity",
        "employee_type",
        "rank",
        "count",
        "measure",
        "as_of_date",
    ]
    staff = reading.table(portal, dataset_id, filters or [], columns)
    if "as_of_date" in staff.columns and staff["as_of_date"].drop_nulls().len():
        # A cumulative release holds a snapshot per date: the newest describes the department now.
        latest = staff["as_of_date"].max()
        staff = staff.filter(pl.col("as_of_date") == latest)
    if "measure" in staff.columns:
        actual = staff.filter(
            pl.col("measure").is_in(["Actual", "Employees", "Current"])
            | pl.col("measure").is_null()
        )
        staff = actual if actual.height else staff
    if "officer_ethnicity" in staff.columns:
        staff = staff.with_columns(combined_race_ethnicity("officer_race", "officer_ethnicity"))
    by = [c for c in ("employee_type", "rank") if c in staff.columns]
    population, total, source = residents_by_group(portal, "race_ethnicity")
    results = representation_by(
        staff.with_columns([pl.col(c).fill_null("Unknown") for c in ["officer_race", *by]]),
        population,
        group_column="officer_race",
        by=by,
        mapping=race_mapping(portal),
        total_population=total,
        count_column="count" if "count" in staff.columns else None,
    )
    as_of = str(staff["as_of_date"][0]) if "as_of_date" in staff.columns and staff.height else None
    body = {
        "dataset": dataset_id,
        "as_of": as_of,
        "population_source": source,
        "results": [r.to_dict() for r in results],
    }
    return body


def race_pairs(
    portal: Portal, dataset_id: str, *, filters: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Officer race by community-member race (use of force, complaints, contacts)."""
    linked = pair_frames.linked_officers(portal, dataset_id, filters or [])
    needs = ["officer_number" if linked else "officer_race", "subject_race"]
    require_fields(portal, dataset_id, "officer and community race pairs", needs, filters)
    if disclosure.aggregates_only(portal, dataset_id):  # from the protected two-way table
        return disclosure_analyses.race_pairs(portal, dataset_id, filters or [])
    frame, unit = pair_frames.pair_frame(portal, dataset_id, filters or [])
    if not {"officer_race", "subject_race"} <= set(frame.columns):
        raise InvalidInput(
            f"Dataset '{dataset_id}' does not record both the officer's and the community member's "
            "race (officer_race, subject_race).",
            detail={"dataset": dataset_id},
        )
    table = race_pair_table(frame, officer_column="officer_race", subject_column="subject_race")
    result = table.to_dict()
    fields = ["officer_race", "officer_ethnicity", "subject_race", "subject_ethnicity"]
    flags = recording.flag_whole(portal, dataset_id, fields, filters or [])
    return {
        "dataset": dataset_id,
        "event_unit": unit,
        **result,
        "recording_changes": flags["recording_changes"],
        "caveats": flags["recording_caveats"],
    }
