"""Outcome tables of a dataset's family: what happened next (services/outcomes.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from openblotter.services.analyses.base import (
    Analysis,
    Caveat,
    CountsOnly,
    Filters,
    Params,
    Record,
    RecordingChange,
    Result,
    Suppression,
    plain_rows,
)
from openblotter.services.analyses.benchmark import EVENT_FAMILIES
from openblotter.services.outcomes import outcomes
from openblotter.services.portal import Portal


class OutcomesParams(Params):
    """Which dataset's outcomes to count."""

    dataset: Annotated[
        str, Field(description="Complaints, use of force, contacts or hate crimes dataset id.")
    ]


class OutcomeRow(Record):
    """One row of an outcome table: a value and its count and share (``counts``), a group and
    its sustained rate (``rates``), or a year and bias category and its count (``crosstab``)."""

    value: str | int | float | None = None
    count: int | None = None
    share: float | None = None
    allegations: int | None = None
    sustained: int | None = None
    sustained_rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    reliable: bool | None = None
    year: int | str | None = None
    bias_category: str | None = None
    suppressed: str | None = None
    notes: list[str] = []
    recording_change: bool | None = None


class OutcomeTable(Record):
    """One outcome table: what it counts, in which unit, and its rows."""

    key: str
    title: str
    kind: str
    dimensions: list[str]
    unit: str
    total: int | None
    rows: list[OutcomeRow]
    method: str | None = None
    recording_changes: list[RecordingChange] = []


class OutcomesResult(Result):
    """The family's outcome tables, with suppression and caveats."""

    family: str | None
    release: str
    filters: list[list[str]]
    tables: dict[str, OutcomeTable]
    suppression_threshold: int
    small_number_threshold: int
    suppressed_cells: int
    caveats: list[Caveat]
    recording_changes: list[RecordingChange] = []
    synthetic: bool
    suppression: Suppression | None = None


def run(portal: Portal, params: OutcomesParams, filters: Filters) -> OutcomesResult:
    """The outcome tables of one dataset."""
    return OutcomesResult.model_validate(outcomes(portal, params.dataset, filters=filters))


def csv_rows(result: OutcomesResult | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every table's rows, each named by its table."""
    return [
        {"table": table["key"], **row}
        for table in result["tables"].values()
        for row in plain_rows(table["rows"])
    ]


ANALYSIS = Analysis(
    order=30,
    name="outcomes",
    title="What happened next",
    summary="How complaints arrived and how they ended, with sustained rates by complainant "
    "group; force by type and injury; contacts by role and outcome; hate crimes by bias and "
    "year.",
    params=OutcomesParams,
    result=OutcomesResult,
    run=run,
    csv_rows=csv_rows,
    families=EVENT_FAMILIES,
    counts_only=CountsOnly(
        "tables",
        "the count tables come from the release's protected tables (filters refused; the "
        "sustained rates left out, as no published table holds them)",
    ),
)
