"""Funnel plots: events per beat or quarter against limits of chance (services/funnel.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from openblotter.domain.errors import InvalidInput
from openblotter.services.analyses.base import (
    Allowed,
    Analysis,
    Caveat,
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
from openblotter.services.analyses.benchmark import EVENT_FAMILIES
from openblotter.services.funnel import FUNNEL_BY, funnel, funnel_by_choices
from openblotter.services.portal import Portal


class FunnelParams(Params):
    """Which events, compared by which unit, over which period."""

    dataset: Annotated[str, Field(description="Dataset id.")]
    by: Annotated[
        str,
        Allowed(FUNNEL_BY),
        Control(
            "Compare",
            (
                ("beat", "Beats"),
                ("sector", "Sectors"),
                ("district", "Districts"),
                ("quarter", "Quarters"),
            ),
        ),
    ] = Field("beat", description="beat, sector, district or quarter.")
    period: Annotated[
        str | None,
        Control(
            "Period (optional)",
            hint="A year (2024), a quarter (2024-Q3), last4q, or blank for every release's "
            "whole span.",
        ),
    ] = Field(None, description="2025, 2025-Q3 or last4q (default: all).")


class FunnelUnit(Record):
    """One beat (sector, district) or quarter: its events, rate, limits and position."""

    unit: str
    events: int | None
    exposure: Number | None
    rate: float | None
    expected_events: float | None
    position: str | None
    limit_95_low: float | None = None
    limit_95_high: float | None = None
    limit_99_8_low: float | None = None
    limit_99_8_high: float | None = None
    small: bool
    suppressed: str | None


class FunnelResult(Result):
    """Each unit's events against exact Poisson control limits around the target rate."""

    release: str
    by: str
    period: str | None
    first_date: str | None = None
    last_date: str | None = None
    filters: list[list[str]]
    basis: str
    rate_unit: str
    population_source: PopulationSource | None
    per: float
    target_rate: float | None
    levels: list[float]
    units: list[FunnelUnit]
    unplaced_events: int | None
    beyond_99_8: int | None
    method: dict[str, str]
    small_number_threshold: int
    suppression_threshold: int
    caveats: list[Caveat]
    recording_changes: list[RecordingChange]
    synthetic: bool
    event_unit: str | None = None
    suppression: Suppression | None = None


def run(portal: Portal, params: FunnelParams, filters: Filters) -> FunnelResult:
    """The funnel plot of one dataset."""
    return FunnelResult.model_validate(
        funnel(portal, params.dataset, by=params.by, period=params.period, filters=filters)
    )


def page_run(
    portal: Portal, params: FunnelParams, filters: Filters, given: set[str]
) -> FunnelResult:
    """The page compares by the first unit the dataset fills in (not every dataset has beats)."""
    if "by" in given:
        return run(portal, params, filters)
    usable = funnel_by_choices(portal, params.dataset, filters)
    for by in usable[:-1]:
        try:
            return run(portal, params.model_copy(update={"by": by}), filters)
        except InvalidInput:
            continue
    chosen = params.model_copy(update={"by": usable[-1]}) if usable else params
    return run(portal, chosen, filters)


def csv_rows(result: FunnelResult | Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per unit, with its limits."""
    return plain_rows(result["units"])


ANALYSIS = Analysis(
    order=20,
    name="funnel",
    title="Beats and quarters compared",
    summary="Which beats, districts or quarters have more or fewer events than chance alone "
    "would give, with control limits that widen where numbers are small (a funnel plot).",
    params=FunnelParams,
    result=FunnelResult,
    run=run,
    page_run=page_run,
    csv_rows=csv_rows,
    families=EVENT_FAMILIES,
    counts_only=CountsOnly(
        "tables",
        "events per unit come from the release's protected tables; a hidden unit has no count, "
        "and the target rate (with the limits) is hidden when it would tell a sum of hidden cells",
    ),
)
