"""Outcome tests: search, hit and arrest rates by group (services/outcome_tests.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from openblotter.services.analyses.base import (
    Allowed,
    Analysis,
    Caveat,
    Control,
    CountsOnly,
    Filters,
    Params,
    Record,
    RecordingChange,
    Result,
    plain_rows,
)
from openblotter.services.outcome_tests import BY, outcome_tests
from openblotter.services.portal import Portal


class OutcomeTestsParams(Params):
    """Which stops, grouped by what, over which period."""

    dataset: Annotated[str, Field(description="Stops / contacts dataset id.")]
    by: Annotated[
        str,
        Allowed(BY),
        Control("Compare by", (("subject_race", "Race and ethnicity"), ("subject_sex", "Sex"))),
    ] = Field("subject_race", description="subject_race or subject_sex.")
    period: Annotated[
        str, Control("Period", hint="A year (2007), a quarter (2007-Q2), last4q or all.")
    ] = Field("all", description="2025, 2025-Q3, last4q or all.")


class OutcomeTestsRow(Record):
    """One group: stops, searches, hits and arrests, each rate with its exact interval."""

    group: str
    stops: int | None
    searches: int | None
    hits: int | None
    arrests: int | None
    search_rate_denominator: int | None
    search_rate: float | None
    search_rate_ci_low: float | None
    search_rate_ci_high: float | None
    hit_rate_denominator: int | None
    hit_rate: float | None
    hit_rate_ci_low: float | None
    hit_rate_ci_high: float | None
    arrest_rate_denominator: int | None
    arrest_rate: float | None
    arrest_rate_ci_low: float | None
    arrest_rate_ci_high: float | None
    reliable: bool
    notes: list[str]
    recording_change: bool | None = None


class OutcomeTestsResult(Result):
    """Search, hit and arrest rates per group with the method, measures and caveats."""

    release: str
    by: str
    period: str | None
    first_date: str | None = None
    last_date: str | None = None
    filters: list[list[str]]
    event_unit: str
    stops_total: int
    rows: list[OutcomeTestsRow]
    method: str
    measures: dict[str, str | None]
    caveats: list[Caveat]
    recording_changes: list[RecordingChange]
    synthetic: bool


def run(portal: Portal, params: OutcomeTestsParams, filters: Filters) -> OutcomeTestsResult:
    """The outcome tests of one stops dataset."""
    return OutcomeTestsResult.model_validate(
        outcome_tests(portal, params.dataset, by=params.by, period=params.period, filters=filters)
    )


def csv_rows(result: OutcomeTestsResult | Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per group."""
    return plain_rows(result["rows"])


ANALYSIS = Analysis(
    order=50,
    name="outcome-tests",
    title="Searches, finds and arrests",
    summary="Of the people stopped in each group, how many were searched, how often a search "
    "found contraband (the outcome test), and how many were arrested, with exact intervals.",
    params=OutcomeTestsParams,
    result=OutcomeTestsResult,
    run=run,
    csv_rows=csv_rows,
    families=("contacts",),
    counts_only=CountsOnly(
        "refused",
        "refused (400): rates per group need counts of searches and finds outside the "
        "protected tables",
        noun="outcome tests",
    ),
)
