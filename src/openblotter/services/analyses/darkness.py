"""The veil of darkness (Pierson et al. 2020) at the portal's city (services/darkness.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from openblotter.services.analyses.base import (
    Analysis,
    Caveat,
    Control,
    CountsOnly,
    Filters,
    Params,
    Record,
    RecordingChange,
    Result,
)
from openblotter.services.darkness import DEFAULT_GROUP, DEFAULT_REFERENCE, darkness, parse_controls
from openblotter.services.portal import Portal

#: The driver groups the page offers (the API takes any group as recorded).
GROUPS = (
    "Black or African American",
    "Hispanic or Latino",
    "White",
    "Asian",
    "American Indian or Alaska Native",
    "Other",
)


class DarknessParams(Params):
    """Which stops, which groups compared, and which fixed effects."""

    dataset: Annotated[str, Field(description="Traffic stops / contacts dataset id.")]
    group: Annotated[str, Control("Driver group", tuple((g, g) for g in GROUPS))] = Field(
        DEFAULT_GROUP, description="The driver group of interest."
    )
    reference: Annotated[
        str,
        Control(
            "Compared with",
            (
                ("White", "White drivers (as published)"),
                ("all", "Every other driver of known race"),
            ),
        ),
    ] = Field(
        DEFAULT_REFERENCE,
        description="The group compared with (White, as published; all: everyone else).",
    )
    controls: Annotated[
        str | None,
        Control(
            "Controls beside the clock-time spline",
            (
                ("", "As published: area and year, when recorded"),
                ("geography,year", "Area and year"),
                ("geography,month", "Area and month"),
                ("year", "Year"),
                ("month", "Month"),
                ("geography,year,day_of_week", "Area, year and day of week"),
                ("none", "None (clock time only)"),
            ),
        ),
    ] = Field(
        None,
        description="Fixed effects: geography,year,month,day_of_week or none "
        "(default: geography and year when the data has them).",
    )
    period: Annotated[
        str, Control("Period", hint="A year (2007), a quarter (2007-Q2), last4q or all.")
    ] = Field("all", description="2025, 2025-Q3, last4q or all.")


class Interval(Record):
    """A 95% interval of an odds ratio."""

    low: float
    high: float
    level: float | None = None
    method: str | None = None


class Estimate(Record):
    """The darkness odds ratio under one set of controls."""

    label: str
    controls: list[str]
    odds_ratio: float
    ci: Interval
    p_value: float
    log_odds_ratio: float | None = None
    standard_error: float | None = None
    converged: bool | None = None


class Place(Record):
    """Where sunset is worked out."""

    name: str
    latitude: float
    longitude: float
    timezone: str


class DarknessResult(Result):
    """The odds ratio of a stopped driver being in the group, dark against light, with the
    sample, exclusions, assumptions and recording flags."""

    period: str | None
    group: str
    reference_group: str
    geography_field: str | None
    stops_without_time: int
    place: Place
    comparison: str
    odds_ratio: float
    ci: Interval
    p_value: float
    estimates: list[Estimate]
    n: int
    n_dark: int
    n_light: int
    share_in_group_dark: float | None
    share_in_group_light: float | None
    window_start: str
    window_end: str
    first_date: str
    last_date: str
    excluded: dict[str, int | None]
    controls: list[str]
    converged: bool
    method: str
    assumptions: list[str]
    available_controls: list[str]
    recording_changes: list[RecordingChange]
    reliable: bool
    caveats: list[Caveat]


def run(portal: Portal, params: DarknessParams, filters: Filters) -> DarknessResult:
    """The veil-of-darkness test of one stops dataset."""
    return DarknessResult.model_validate(
        darkness(
            portal,
            params.dataset,
            group=params.group,
            reference=params.reference,
            controls=parse_controls(params.controls),
            period=params.period,
            filters=filters,
        )
    )


ANALYSIS = Analysis(
    order=60,
    name="darkness",
    api_name="veil-of-darkness",
    title="Veil of darkness",
    summary="Are drivers of a group stopped less often after dark, when officers can less "
    "easily see who is driving? A test of traffic stops at the same clock time in light and "
    "dark.",
    params=DarknessParams,
    result=DarknessResult,
    run=run,
    families=("contacts",),
    counts_only=CountsOnly(
        "refused",
        "refused (400): the model reads every stop, which would publish counts outside the "
        "protected tables",
        noun="veil of darkness",
    ),
)
