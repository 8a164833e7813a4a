"""Veil of darkness: is a group's share of stopped drivers different in daylight and after dark?

Grogger & Ridgeway (2006), "Testing for racial profiling in traffic stops
from behind a veil of darkness", *JASA* 101:878-887; in the form of Pierson
et al. (2020), "A large-scale analysis of racial disparities in police stops
across the United States", *Nature Human Behaviour* 4:736-745.

The idea: after dark, officers can see a driver's race less well. Comparing
stops at the same clock time on days when that time is light with days when
it is dark (the seasons and daylight saving time move sunset across the
clock) separates the effect of visibility from that of the time of day.

Steps: for each date, sunset and the end of civil dusk (sun 6 degrees below
the horizon) at the city's coordinates, from ``astral``; keep stops in the
inter-twilight window, the clock times that are light (before sunset) on
some of the data's days and dark (after dusk) on others; drop stops between
sunset and dusk on their day (neither light nor dark); fit a logistic
regression of "driver is in the group" on darkness, controlling for clock
time with a natural cubic regression spline (patsy ``cr``, as in mgcv) and,
optionally, day of week. The darkness coefficient, exponentiated, is the odds
ratio; its interval is the Wald interval on the log-odds scale.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import statsmodels.api as sm
from astral import Observer
from astral.sun import dusk, sunset
from patsy import dmatrix

from openblotter.analysis.intervals import Interval, z_value
from openblotter.domain.errors import InvalidInput

METHOD = (
    "logistic regression (statsmodels Logit) of group membership on darkness with a natural "
    "cubic spline of clock time; Wald interval on the log-odds scale (Grogger & Ridgeway 2006; "
    "Pierson et al. 2020)"
)

ASSUMPTIONS: tuple[str, ...] = (
    "Officers can tell a driver's race less well after dark than in daylight. If they can still "
    "tell (street lights, slow traffic), the test finds less difference than there is.",
    "At a given clock time and day of week, the drivers on the road are the same kind of people "
    "on light days as on dark days; only the light differs. Seasonal changes in who drives "
    "(school terms, holidays, weather) break this.",
    "Officers stop drivers at the same rate, for the same reasons, in light and in dark at a "
    "given clock time; stops that are not the officer's choice (crashes, calls for service) "
    "weaken the comparison.",
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
    """The darkness odds ratio with its interval, p-value, counts and stated assumptions."""

    place: Place
    group_of_interest: tuple[str, ...]
    odds_ratio: float
    ci: Interval
    p_value: float
    log_odds_ratio: float
    standard_error: float
    n: int
    n_dark: int
    n_light: int
    share_in_group_dark: float
    share_in_group_light: float
    window_start: str
    window_end: str
    excluded: dict[str, int]
    controls: tuple[str, ...]
    converged: bool
    method: str = METHOD
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Sample:
    minute: np.ndarray
    dark: np.ndarray
    in_group: np.ndarray
    weekday: np.ndarray
    window: tuple[float, float]
    excluded: dict[str, int]


def veil_of_darkness(
    stop_times: Sequence[datetime | None],
    driver_groups: Sequence[str | None],
    *,
    group_of_interest: str | Collection[str],
    place: Place = NORMAN_OK,
    unknown_values: Collection[str] = ("Unknown", ""),
    spline_df: int = 6,
    day_of_week: bool = True,
    level: float = 0.95,
) -> DarknessResult:
    """Odds ratio of a stopped driver being in ``group_of_interest`` after dark vs in daylight.

    ``stop_times`` are local clock times (naive) or aware datetimes (converted
    to the place's time zone); ``driver_groups`` the recorded groups, one per
    stop. Stops with no time or an unknown group are counted in ``excluded``.
    """
    if len(stop_times) != len(driver_groups):
        raise InvalidInput(
            f"Got {len(stop_times)} stop times but {len(driver_groups)} driver groups; "
            "give one group per stop.",
        )
    wanted = {group_of_interest} if isinstance(group_of_interest, str) else set(group_of_interest)
    sample = _sample(stop_times, driver_groups, wanted, place, set(unknown_values))
    return _fit(sample, place, tuple(sorted(wanted)), spline_df, day_of_week, level)


def sun_times(days: Collection[date], place: Place) -> dict[date, tuple[float, float]]:
    """Sunset and end of civil dusk per date, as minutes after local midnight (clock time).

    Dates on which the sun does not set or dusk never ends (far north or south)
    are left out.
    """
    zone = ZoneInfo(place.timezone)
    observer = Observer(latitude=place.latitude, longitude=place.longitude)
    times: dict[date, tuple[float, float]] = {}
    for day in days:
        try:
            times[day] = (
                _clock_minutes(sunset(observer, day, tzinfo=zone)),
                _clock_minutes(dusk(observer, day, tzinfo=zone)),
            )
        except ValueError:  # astral: the sun never reaches the needed depression that day
            continue
    return times


def _sample(
    stop_times: Sequence[datetime | None],
    driver_groups: Sequence[str | None],
    wanted: set[str],
    place: Place,
    unknown: set[str],
) -> _Sample:
    zone = ZoneInfo(place.timezone)
    excluded = {
        "missing_time": 0,
        "unknown_group": 0,
        "no_sunset": 0,
        "outside_window": 0,
        "between_sunset_and_dusk": 0,
    }
    local: list[tuple[datetime, str]] = []
    for moment, group in zip(stop_times, driver_groups, strict=True):
        if moment is None:
            excluded["missing_time"] += 1
        elif group is None or group.strip() in unknown:
            excluded["unknown_group"] += 1
        else:
            local.append((moment.astimezone(zone) if moment.tzinfo else moment, group.strip()))
    suns = sun_times({m.date() for m, _ in local}, place)
    if not suns:
        raise InvalidInput("No stop has a known time, a known group and a date with a sunset.")
    window = (min(d for _, d in suns.values()), max(s for s, _ in suns.values()))
    rows: list[tuple[float, int, int, int]] = []
    for moment, group in local:
        if moment.date() not in suns:
            excluded["no_sunset"] += 1
            continue
        minute, (set_at, dusk_at) = _clock_minutes(moment), suns[moment.date()]
        if not window[0] <= minute <= window[1]:
            excluded["outside_window"] += 1
        elif set_at <= minute <= dusk_at:
            excluded["between_sunset_and_dusk"] += 1
        else:
            rows.append((minute, int(minute > dusk_at), int(group in wanted), moment.weekday()))
    table = np.array(rows, dtype=float).reshape(-1, 4)
    return _Sample(table[:, 0], table[:, 1], table[:, 2], table[:, 3].astype(int), window, excluded)


def _fit(
    sample: _Sample,
    place: Place,
    wanted: tuple[str, ...],
    spline_df: int,
    day_of_week: bool,
    level: float,
) -> DarknessResult:
    _check_enough(sample, spline_df)
    formula = f"dark + cr(minute, df={spline_df}, constraints='center')"
    controls = [f"clock time: natural cubic regression spline, {spline_df} degrees of freedom"]
    if day_of_week:
        formula += " + C(weekday)"
        controls.append("day of week")
    design = dmatrix(
        formula, {"dark": sample.dark, "minute": sample.minute, "weekday": sample.weekday}
    )
    fitted = sm.Logit(sample.in_group, np.asarray(design)).fit(disp=0, maxiter=200)
    position = design.design_info.column_names.index("dark")
    beta, se = float(fitted.params[position]), float(fitted.bse[position])
    z = z_value(level)
    dark, light = sample.dark == 1, sample.dark == 0
    return DarknessResult(
        place=place,
        group_of_interest=wanted,
        odds_ratio=math.exp(beta),
        ci=Interval(
            math.exp(beta - z * se), math.exp(beta + z * se), level, "Wald, log-odds scale"
        ),
        p_value=float(fitted.pvalues[position]),
        log_odds_ratio=beta,
        standard_error=se,
        n=int(sample.dark.size),
        n_dark=int(dark.sum()),
        n_light=int(light.sum()),
        share_in_group_dark=float(sample.in_group[dark].mean()),
        share_in_group_light=float(sample.in_group[light].mean()),
        window_start=_clock_label(sample.window[0]),
        window_end=_clock_label(sample.window[1]),
        excluded=sample.excluded,
        controls=tuple(controls),
        converged=bool(fitted.mle_retvals.get("converged", False)),
    )


def _check_enough(sample: _Sample, spline_df: int) -> None:
    problems = []
    if sample.window[0] >= sample.window[1]:
        problems.append(
            "the data's dates give no clock time that is light on some days and dark on others"
        )
    if not (sample.dark == 1).any() or not (sample.dark == 0).any():
        problems.append("there must be stops both in daylight and after dark in the window")
    if not (sample.in_group == 1).any() or not (sample.in_group == 0).any():
        problems.append("there must be drivers both in and out of the group")
    if sample.dark.size < 10 * (spline_df + 2):
        problems.append(f"too few stops in the window ({sample.dark.size}) for the model")
    if problems:
        raise InvalidInput(
            "The veil-of-darkness test cannot be run: " + "; ".join(problems) + ". Use more "
            "dates (ideally a full year) so the window between earliest dusk and latest sunset "
            "is wide.",
            detail={"excluded": sample.excluded, "stops_in_window": int(sample.dark.size)},
        )


def _clock_minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def _clock_label(minutes: float) -> str:
    whole = int(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"
