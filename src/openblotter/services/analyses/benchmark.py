"""The community benchmark: events by group against residents by group (services/analysis.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from openblotter.services.analyses.base import (
    Allowed,
    Analysis,
    Caveat,
    CodeMappingRecord,
    Control,
    CountsOnly,
    Filters,
    Number,
    Params,
    PopulationSource,
    Record,
    RecordingChange,
    Result,
    Suppression,
    plain_rows,
)
from openblotter.services.analysis import BY_DIMENSIONS, benchmark
from openblotter.services.families import event_families
from openblotter.services.portal import Portal

#: The families analyses count events of (``eventFields`` in their schema files).
EVENT_FAMILIES = event_families()


def _reference_options(result: Any) -> list[tuple[str, str]]:
    return [(r.group, r.group) for r in result.rows if r.placement == "category"]


class BenchmarkParams(Params):
    """What to count and what to compare it with."""

    dataset: Annotated[str, Field(description="Dataset id (use of force, contacts, complaints).")]
    by: Annotated[
        str,
        Allowed(tuple(BY_DIMENSIONS)),
        Control(
            "Compare by",
            (
                ("subject_race", "Race and ethnicity"),
                ("subject_sex", "Sex"),
                ("subject_age_group", "Age group"),
            ),
        ),
    ] = Field("subject_race", description="subject_race, subject_sex or subject_age_group.")
    period: Annotated[
        str,
        Control(
            "Period",
            hint="A year (2024), a quarter (2024-Q3), last4q for the four quarters to the "
            "data’s latest date, or all.",
        ),
    ] = Field("last4q", description="2025, 2025-Q3 or last4q.")
    reference: Annotated[
        str | None,
        Control(
            "Compare each group's rate with",
            (("", "All residents"),),
            result_options=_reference_options,
        ),
    ] = Field(None, description="Reference group (default: all residents).")


class BenchmarkRow(Record):
    """One group: its events, residents, rate, ratio to the reference and their intervals."""

    group: str
    placement: str
    department_codes: list[str | int | float | None]
    events: int | None
    share_of_events: float | None
    population: Number | None
    population_moe: Number | None = None
    share_of_population: float | None
    rate_per_1000: float | None
    rate_ci_low: float | None
    rate_ci_high: float | None
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    reliable: bool | None
    notes: list[str]
    recording_change: bool | None = None
    suppressed: str | None = None


class BenchmarkResult(Result):
    """Rates per 1,000 residents by group, rate ratios, 95% intervals, the mapping and caveats."""

    release: str
    by: str
    period: str
    first_date: str | None = None
    last_date: str | None = None
    filters: list[list[str]]
    event_unit: str
    reference: str
    reference_rate_per_1000: float | None
    events_total: int | None
    population_total: Number | None
    population_source: PopulationSource
    rows: list[BenchmarkRow]
    method: dict[str, str]
    mapping: CodeMappingRecord
    caveats: list[Caveat]
    recording_changes: list[RecordingChange]
    synthetic: bool
    suppression: Suppression | None = None


def run(portal: Portal, params: BenchmarkParams, filters: Filters) -> BenchmarkResult:
    """The community benchmark of one dataset and period."""
    return BenchmarkResult.model_validate(
        benchmark(
            portal,
            params.dataset,
            by=params.by,
            period=params.period,
            reference=params.reference,
            filters=filters,
        )
    )


def csv_rows(result: BenchmarkResult | Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per group."""
    return plain_rows(result["rows"])


ANALYSIS = Analysis(
    order=10,
    name="benchmark",
    title="Community benchmark",
    summary="How often people of each race, ethnicity, sex or age group are stopped, cited, "
    "arrested, subjected to force or file complaints, per 1,000 residents of the same group, "
    "with the range the numbers could plausibly take.",
    params=BenchmarkParams,
    result=BenchmarkResult,
    run=run,
    csv_rows=csv_rows,
    families=EVENT_FAMILIES,
    counts_only=CountsOnly(
        "tables",
        "events are counted from the release's protected tables; a group made of a hidden cell "
        "is hidden, and the reference rate (with the ratios) when it would tell a sum of hidden "
        "cells",
    ),
)
