"""Veil of darkness: is a group's share of stopped drivers different in daylight and after dark?

Grogger & Ridgeway (2006), "Testing for racial profiling in traffic stops
from behind a veil of darkness", *JASA* 101:878-887; specified as in Pierson
et al. (2020), "A large-scale analysis of racial disparities in police stops
across the United States", *Nature Human Behaviour* 4:736-745 (Methods,
"Veil-of-darkness test").

The idea: after dark, officers can see a driver's race less well. Comparing
stops at the same clock time on days when that time is light with days when
it is dark (the seasons and daylight saving time move sunset across the
clock) separates the effect of visibility from that of the time of day.

The published specification, which is the default here:

- the sample is the stops of drivers in the group of interest and in the
  reference group (White), nobody else;
- sunset and the end of civil dusk (sun 6 degrees below the horizon) per
  date at the city's coordinates, from ``astral``; only stops in the
  inter-twilight window (clock times that are light on some of the data's
  days and dark on others: from the earliest dusk to the latest sunset) are
  kept, and stops between sunset and dusk on their own day are dropped;
- a logistic regression of "driver is in the group" on darkness, a natural
  cubic spline of clock time with six degrees of freedom (patsy ``cr``), and
  fixed effects of the stop's geography (district, beat) and of its year,
  when the data records them. Month (year-month) and day-of-week fixed
  effects can be chosen too.

The darkness coefficient, exponentiated, is the odds ratio; its interval is
the Wald interval on the log-odds scale. The same model without the fixed
effects (clock time only) is fitted on the same stops and shown beside it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from astral import Observer
from astral.sun import dusk, sunset

from openblotter.analysis.darkness_model import Estimate, Sample, fit_darkness
from openblotter.analysis.intervals import Interval
from openblotter.domain.checkpoints import checked
from openblotter.domain.errors import InvalidInput

METHOD = (
    "logistic regression (statsmodels Logit) of group membership on darkness, among stops of "
    "the group and the reference group in the inter-twilight window, with a natural cubic "
    "spline of clock time (patsy cr, 6 degrees of freedom) and the chosen fixed effects; "
    "Wald interval on the log-odds scale (Grogger & Ridgeway 2006; Pierson et al. 2020)"
)
#: Fixed effects a veil of darkness can control for, beside the spline of clock time.
CONTROLS = ("geography", "year", "month", "day_of_week")

ASSUMPTIONS: tuple[str, ...] = (
    "Officers can tell a driver's race less well after dark than in daylight. If they can still "
    "tell (street lights, slow traffic), the test finds less difference than there is.",
    "At a given clock time (and place and year, when controlled for), the drivers on the road "
    "are the same kind of people on light days as on dark days; only the light differs. "
    "Seasonal changes in who drives (school terms, holidays, weather) break this.",
    "Officers stop drivers at the same rate, for the same reasons, in light and in dark at a "
    "given clock time; stops that are not the officer's choice (crashes, calls for service) "
    "weaken the comparison.",
    "Race is recorded the same way throughout the period; a change in how it was recorded "
    "that falls in one season more than another reads as a darkness effect.",
    "Stops between sunset and the end of civil dusk are left out: it is neither light nor dark.",
    "An odds ratio below 1 means the group makes up a smaller share of stopped drivers after "
    "dark than in daylight at the same clock time, which is what would happen if the group is "
    "stopped more when officers can see who is driving. It is evidence, not proof.",
)


@dataclass(frozen=True)
class Place:
    """Where sunset is computed: a city's coordinates and its time zone (IANA name)."""

    name: str
    latitude: float
    longitude: float
    timezone: str


NORMAN_OK = Place("Norman, Oklahoma", 35.2226, -97.4395, "America/Chicago")


@dataclass(frozen=True)
class DarknessResult:
    """The darkness odds ratio with and without controls, counts and stated assumptions."""

    place: Place
    group_of_interest: tuple[str, ...]
    reference: tuple[str, ...] | None
    comparison: str
    odds_ratio: float
    ci: Interval
    p_value: float
    log_odds_ratio: float
    standard_error: float
    estimates: tuple[Estimate, ...]
    n: int
    n_dark: int
    n_light: int
    share_in_group_dark: float
    share_in_group_light: float
    window_start: str
    window_end: str
    first_date: str
    last_date: str
    excluded: dict[str, int]
    controls: tuple[str, ...]
    control_keys: tuple[str, ...]
    spline_df: int
    converged: bool
    method: str = METHOD
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def veil_of_darkness(
    stop_times: Sequence[datetime | None],
    driver_groups: Sequence[str | None],
    *,
    group_of_interest: str | Collection[str],
    place: Place,
    reference: str | Collection[str] | None = "White",
    geography: Sequence[str | None] | None = None,
    controls: Collection[str] | None = None,
    geography_name: str = "area",
    unknown_values: Collection[str] = ("Unknown", ""),
    spline_df: int = 6,
    level: float = 0.95,
) -> DarknessResult:
    """Odds ratio of a stopped driver being in ``group_of_interest`` after dark vs in daylight.

    ``stop_times`` are local clock times (naive) or aware datetimes (converted
    to the place's time zone); ``driver_groups`` the recorded groups, one per
    stop; ``reference`` the group compared with (None: every other known group);
    ``geography`` the stop's area (district, beat), one per stop, when recorded.
    ``controls`` are the fixed effects among :data:`CONTROLS`; None chooses the
    published ones the data allows (geography when recorded, year when the
    stops span more than one). Every stop left out is counted in ``excluded``.
    """
    if len(stop_times) != len(driver_groups) or (
        geography is not None and len(geography) != len(stop_times)
    ):
        raise InvalidInput(
            f"Got {len(stop_times)} stop times but {len(driver_groups)} driver groups; "
            "give one group per stop (and one area, when areas are given).",
        )
    wanted = _names(group_of_interest)
    against = None if reference is None else _names(reference) - wanted
    if against is not None and not against:
        raise InvalidInput(
            "The group and the reference group are the same: compare the group with another "
            "group (White, as published) or with every other driver (reference=all).",
            detail={"parameter": "reference"},
        )
    sample = build_sample(
        stop_times, driver_groups, wanted, against, place, geography, unknown_values
    )
    chosen = _controls(controls, sample, geography is not None)
    fits = fit_darkness(sample, chosen, spline_df, level, geography_name)
    main = fits[-1]
    dark, light = sample.dark == 1, sample.dark == 0
    return DarknessResult(
        place=place,
        group_of_interest=tuple(sorted(wanted)),
        reference=None if against is None else tuple(sorted(against)),
        comparison=_comparison(wanted, against),
        odds_ratio=main.odds_ratio,
        ci=main.ci,
        p_value=main.p_value,
        log_odds_ratio=main.log_odds_ratio,
        standard_error=main.standard_error,
        estimates=tuple(fits),
        n=int(sample.dark.size),
        n_dark=int(dark.sum()),
        n_light=int(light.sum()),
        share_in_group_dark=float(sample.in_group[dark].mean()),
        share_in_group_light=float(sample.in_group[light].mean()),
        window_start=_clock_label(sample.window[0]),
        window_end=_clock_label(sample.window[1]),
        first_date=min(sample.days).isoformat(),
        last_date=max(sample.days).isoformat(),
        excluded=sample.excluded,
        controls=main.controls,
        control_keys=tuple(chosen),
        spline_df=spline_df,
        converged=main.converged,
    )


def _names(groups: str | Collection[str]) -> set[str]:
    return {groups} if isinstance(groups, str) else set(groups)


def _comparison(wanted: set[str], against: set[str] | None) -> str:
    group = " or ".join(sorted(wanted))
    if against is None:
        return f"drivers recorded as {group} against every other driver of known race"
    return f"drivers recorded as {group} against drivers recorded as {' or '.join(sorted(against))}"


def _controls(asked: Collection[str] | None, sample: Sample, has_geography: bool) -> list[str]:
    """The fixed effects: the asked ones, or the published default the data allows."""
    if asked is None:
        chosen = ["geography"] if has_geography and len(set(sample.geography)) > 1 else []
        if len({d.year for d in sample.days}) > 1:
            chosen.append("year")
        return chosen
    unknown = [c for c in asked if c not in CONTROLS]
    if unknown:
        raise InvalidInput(
            f"Unknown control {', '.join(unknown)}: choose among {', '.join(CONTROLS)} (or none).",
            detail={"parameter": "controls", "allowed": list(CONTROLS)},
        )
    if "geography" in asked and not has_geography:
        raise InvalidInput(
            "These stops record no district, beat or sector with more than one value, so the "
            "test cannot control for geography; leave 'geography' out of the controls.",
            detail={"parameter": "controls", "allowed": [c for c in CONTROLS if c != "geography"]},
        )
    if "year" in asked and "month" in asked:
        raise InvalidInput(
            "Choose year or month, not both: each month's fixed effect already holds its year.",
            detail={"parameter": "controls", "allowed": list(CONTROLS)},
        )
    return [c for c in CONTROLS if c in asked]


def sun_times(days: Collection[date], place: Place) -> dict[date, tuple[float, float]]:
    """Sunset and end of civil dusk per date, as minutes after local midnight (clock time).

    Dates on which the sun does not set or dusk never ends (far north or south)
    are left out. A date's times at a place never change: they are computed once per
    process (two thirds of the test's time in Python, before).
    """
    zone = ZoneInfo(place.timezone)
    observer = Observer(latitude=place.latitude, longitude=place.longitude)
    known = _SUN_TIMES.setdefault((place.latitude, place.longitude, place.timezone), {})
    times: dict[date, tuple[float, float]] = {}
    for day in checked(days, every=64):
        if day not in known:
            try:
                known[day] = (
                    _clock_minutes(sunset(observer, day, tzinfo=zone)),
                    _clock_minutes(dusk(observer, day, tzinfo=zone)),
                )
            except ValueError:  # astral: the sun never reaches the needed depression that day
                known[day] = None
        sun = known[day]
        if sun is not None:
            times[day] = sun
    return times


#: Sunset and dusk per place and date (a few thousand dates a place: tens of kilobytes).
_SUN_TIMES: dict[tuple[float, float, str], dict[date, tuple[float, float] | None]] = {}


def build_sample(
    stop_times: Sequence[datetime | None],
    driver_groups: Sequence[str | None],
    wanted: set[str],
    against: set[str] | None,
    place: Place,
    geography: Sequence[str | None] | None,
    unknown_values: Collection[str],
) -> Sample:
    """The stops of the two groups in the inter-twilight window, each one left out counted."""
    zone, unknown = ZoneInfo(place.timezone), set(unknown_values)
    excluded = dict.fromkeys(
        (
            "missing_time",
            "unknown_group",
            "other_group",
            "no_sunset",
            "outside_window",
            "between_sunset_and_dusk",
        ),
        0,
    )
    areas = geography if geography is not None else [""] * len(stop_times)
    local: list[tuple[datetime, str, str]] = []
    for moment, group, area in checked(zip(stop_times, driver_groups, areas, strict=True)):
        name = (group or "").strip()
        if moment is None:
            excluded["missing_time"] += 1
        elif name in unknown:
            excluded["unknown_group"] += 1
        elif name not in wanted and against is not None and name not in against:
            excluded["other_group"] += 1
        else:
            clock = moment.astimezone(zone) if moment.tzinfo else moment
            local.append((clock, name, (area or "").strip() or "Not recorded"))
    suns = sun_times({m.date() for m, _, _ in local}, place)
    if not suns:
        raise InvalidInput("No stop has a known time, a known group and a date with a sunset.")
    window = (min(d for _, d in suns.values()), max(s for s, _ in suns.values()))
    kept: list[tuple[float, int, int, date, str]] = []
    for moment, group, area in checked(local):
        if moment.date() not in suns:
            excluded["no_sunset"] += 1
            continue
        minute, (set_at, dusk_at) = _clock_minutes(moment), suns[moment.date()]
        if not window[0] <= minute <= window[1]:
            excluded["outside_window"] += 1
        elif set_at <= minute <= dusk_at:
            excluded["between_sunset_and_dusk"] += 1
        else:
            kept.append((minute, int(minute > dusk_at), int(group in wanted), moment.date(), area))
    return Sample(
        minute=np.array([k[0] for k in kept], dtype=float),
        dark=np.array([k[1] for k in kept], dtype=float),
        in_group=np.array([k[2] for k in kept], dtype=float),
        days=[k[3] for k in kept],
        geography=[k[4] for k in kept],
        window=window,
        excluded=excluded,
    )


def _clock_minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def _clock_label(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"
