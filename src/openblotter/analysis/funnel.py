"""Funnel plots: which beats or periods have rates beyond what chance alone would give?

Spiegelhalter (2005), "Funnel plots for comparing institutional performance",
*Statistics in Medicine* 24:1185-1202. Each unit (a beat, a quarter) has an
event count and an exposure (residents, or 1 per period). Under the
hypothesis that every unit has the target rate, a unit's count is Poisson
with mean target x exposure. The control limits at probability p are the
exact Poisson quantiles, made continuous by the interpolation in
Spiegelhalter's appendix: with r the p-quantile and F the Poisson
distribution function, ``alpha = (F(r) - p) / (F(r) - F(r - 1))`` and the
limit is ``(r - alpha) / exposure``. The limits shown are 95% (about 2
standard errors) and 99.8% (about 3).

No allowance for over-dispersion is made (Spiegelhalter 2005 discusses it):
when many units fall outside the 99.8% limits, the units differ for more
reasons than chance, and the limits are too narrow to judge them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import poisson

from openblotter.domain.errors import InvalidInput

METHOD = "exact Poisson control limits with interpolation (Spiegelhalter 2005)"


@dataclass(frozen=True)
class ControlLimit:
    """Lower and upper control limits (rate per ``per``) at one level."""

    level: float
    lower: float
    upper: float


@dataclass(frozen=True)
class FunnelUnit:
    """One unit: its rate, what the target predicts, its limits, and where it falls."""

    unit: str
    events: int
    exposure: float
    rate: float
    expected_events: float
    limits: tuple[ControlLimit, ...]
    position: str


@dataclass(frozen=True)
class FunnelPoint:
    """Limits at one exposure, for drawing the funnel."""

    exposure: float
    limits: tuple[ControlLimit, ...]


@dataclass(frozen=True)
class FunnelResult:
    """All units against the target, and the funnel curve."""

    target_rate: float
    per: float
    levels: tuple[float, ...]
    units: tuple[FunnelUnit, ...]
    curve: tuple[FunnelPoint, ...]
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def poisson_control_limits(
    target_rate: float, exposure: float | np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of the rate (events per unit of exposure) at ``level``.

    Exact Poisson quantiles with Spiegelhalter's (2005) interpolation.
    """
    if not 0 < level < 1:
        raise ValueError(f"a level is between 0 and 1; got {level}")
    exposures = np.asarray(exposure, dtype=float)
    mean = target_rate * exposures
    lower = _interpolated_quantile((1 - level) / 2, mean)
    upper = _interpolated_quantile(1 - (1 - level) / 2, mean)
    return lower / exposures, upper / exposures


def _interpolated_quantile(p: float, mean: np.ndarray) -> np.ndarray:
    r = poisson.ppf(p, mean)
    at_r, below_r = poisson.cdf(r, mean), poisson.cdf(r - 1, mean)
    alpha = (at_r - p) / (at_r - below_r)
    limit: np.ndarray = np.maximum(r - alpha, 0.0)
    return limit


def funnel_plot(
    units: Mapping[str, tuple[int, float]],
    *,
    per: float = 1000.0,
    target_rate: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    curve_points: int = 60,
) -> FunnelResult:
    """Funnel plot data for ``{unit: (events, exposure)}``.

    The target defaults to the pooled rate (all events / all exposure). Rates
    and limits are per ``per`` units of exposure (per 1,000 residents by
    default). ``position`` says whether a unit is within the 95% limits, or
    above / below the 95% or 99.8% limits.
    """
    names, events, exposure = _validate(units)
    if target_rate is None and events.sum() == 0:
        raise InvalidInput(
            "No unit has any events and no target rate was given: nothing to compare."
        )
    target = float(events.sum() / exposure.sum()) if target_rate is None else target_rate / per
    ordered = tuple(sorted(levels))
    limits = {level: poisson_control_limits(target, exposure, level) for level in ordered}
    rates = events / exposure
    rows = tuple(
        FunnelUnit(
            unit=name,
            events=int(events[i]),
            exposure=float(exposure[i]),
            rate=float(rates[i] * per),
            expected_events=float(target * exposure[i]),
            limits=tuple(
                ControlLimit(
                    level, float(limits[level][0][i] * per), float(limits[level][1][i] * per)
                )
                for level in ordered
            ),
            position=_position(
                rates[i], [(lv, limits[lv][0][i], limits[lv][1][i]) for lv in ordered]
            ),
        )
        for i, name in enumerate(names)
    )
    return FunnelResult(
        target * per, per, ordered, rows, _curve(target, exposure, ordered, per, curve_points)
    )


def _position(rate: float, limits: list[tuple[float, float, float]]) -> str:
    for level, lower, upper in sorted(limits, reverse=True):
        if rate > upper:
            return f"above the {_percent(level)} limit"
        if rate < lower:
            return f"below the {_percent(level)} limit"
    return f"within the {_percent(min(limits)[0])} limits"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"


def _curve(
    target: float, exposure: np.ndarray, levels: tuple[float, ...], per: float, points: int
) -> tuple[FunnelPoint, ...]:
    grid = (
        np.geomspace(exposure.min(), exposure.max(), points)
        if exposure.min() < exposure.max()
        else exposure[:1]
    )
    limits = {level: poisson_control_limits(target, grid, level) for level in levels}
    return tuple(
        FunnelPoint(
            float(x),
            tuple(
                ControlLimit(lv, float(limits[lv][0][i] * per), float(limits[lv][1][i] * per))
                for lv in levels
            ),
        )
        for i, x in enumerate(grid)
    )


def _validate(units: Mapping[str, tuple[int, float]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not units:
        raise InvalidInput("A funnel plot needs at least one unit with events and an exposure.")
    names = list(units)
    events = np.array([units[n][0] for n in names], dtype=float)
    exposure = np.array([units[n][1] for n in names], dtype=float)
    bad = [
        n for n, e, x in zip(names, events, exposure, strict=True) if e < 0 or x <= 0 or e != int(e)
    ]
    if bad:
        raise InvalidInput(
            "Each unit needs a whole number of events (0 or more) and an exposure above 0; "
            f"check {', '.join(bad[:10])}.",
            detail={"units": bad[:10], "more": max(len(bad) - 10, 0)},
        )
    return names, events, exposure
