"""The representation index: staff by race and ethnicity against residents (services/community.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from openblotter.services.analyses.base import (
    Analysis,
    CodeMappingRecord,
    CountsOnly,
    Filters,
    Number,
    Params,
    PopulationSource,
    Record,
    Result,
    Suppression,
)
from openblotter.services.community import representation
from openblotter.services.portal import Portal


class RepresentationParams(Params):
    """Which department demographics to compare with the residents."""

    dataset: Annotated[str, Field(description="Department demographics dataset id.")] = (
        "department_demographics"
    )


class RepresentationRow(Record):
    """One census group: its staff, its residents and the index (share of staff / of residents)."""

    group: str
    placement: str
    staff: int | None
    share_of_staff: float | None
    residents: Number | None
    share_of_residents: float | None
    representation_index: float | None
    notes: list[str]
    suppressed: str | None = None


class RepresentationSubset(Record):
    """The index for one subset of staff (all staff, one employee type, one rank)."""

    subset: str
    staff_total: int | None
    staff_known: int | None
    rows: list[RepresentationRow]
    mapping: CodeMappingRecord
    method: str


class RepresentationResult(Result):
    """The representation index for all staff, by sworn status and by rank."""

    as_of: str | None
    population_source: PopulationSource
    results: list[RepresentationSubset]
    event_unit: str | None = None
    suppression: Suppression | None = None


def run(portal: Portal, params: RepresentationParams, filters: Filters) -> RepresentationResult:
    """The representation index of one department demographics dataset."""
    return RepresentationResult.model_validate(
        representation(portal, params.dataset, filters=filters)
    )


ANALYSIS = Analysis(
    order=40,
    name="representation",
    title="Does the department look like the city?",
    summary="Officers and staff by race and ethnicity against the residents of the city: the "
    "representation index, for all staff, by sworn status and by rank.",
    params=RepresentationParams,
    result=RepresentationResult,
    run=run,
    families=("department_demographics",),
    counts_only=CountsOnly(
        "tables",
        "staff are counted from the protected tables of officer race, alone and by employee "
        "type and rank; a group made of a hidden cell is hidden, and the shares with it when "
        "they would tell a sum of hidden cells",
    ),
)
