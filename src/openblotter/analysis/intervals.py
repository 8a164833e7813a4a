"""Confidence intervals for a rate and for a rate ratio, with or without census error.

Methods (all central, two-sided, at ``level``):

- Rate (events / residents): the exact Poisson interval of Garwood (1936),
  "Fiducial limits for the Poisson distribution", *Biometrika* 28:437-442,
  computed by statsmodels (``confint_poisson``, method ``exact-c``). With no
  events its lower limit is 0 and its upper limit is finite.
- Rate ratio: the exact conditional (binomial) method. Given the total of the
  two counts, a group's count is binomial, so the Clopper-Pearson (1934)
  interval for its share of the events, transformed, is an exact interval for
  the ratio (Breslow & Day 1987, *Statistical Methods in Cancer Research*
  vol. II; Clopper & Pearson 1934, *Biometrika* 26:404-413). Against
  the whole population the ratio is the group's share of events over its share
  of residents; against another group it is the odds of the share times the
  ratio of the two populations.
- ACS margins of error widen the interval. The count's exact interval and the
  population's interval (log-normal, from the ACS standard error = MOE / 1.645,
  and the Census Bureau's formulas for proportions and ratios) are combined on
  the log scale by MOVER: Zou & Donner (2008), "Construction of confidence
  limits about effect measures: a general approach", *Statistics in Medicine*
  27:1693-1702. With no events the point estimate is 0, MOVER does not apply,
  and the upper limit is the count's upper limit divided by the population's
  lower limit (conservative).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

from openblotter.analysis.population import (
    PopulationEstimate,
    moe_of_proportion,
    moe_of_ratio,
    standard_error,
)

GARWOOD = "exact Poisson (Garwood 1936)"
CONDITIONAL = "exact conditional binomial (Clopper-Pearson 1934 on the group's share of events)"
MOVER = "widened for the census margin of error by MOVER on the log scale (Zou & Donner 2008)"


@dataclass(frozen=True)
class Interval:
    """A confidence interval for an estimate, with the method that produced it."""

    low: float
    high: float
    level: float
    method: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def z_value(level: float) -> float:
    """The two-sided normal quantile for a confidence level (1.96 for 0.95)."""
    _check_level(level)
    return float(norm.ppf(0.5 + level / 2))


def rate_interval(
    events: int, population: PopulationEstimate, *, per: float = 1000.0, level: float = 0.95
) -> Interval:
    """Interval for ``events / population * per`` (Garwood; MOVER when the population has a MOE)."""
    _check_level(level)
    n = population.estimate
    low_count, high_count = (
        float(v) for v in confint_poisson(events, 1.0, method="exact-c", alpha=1 - level)
    )
    cv = _log_cv(population)
    if not cv:
        return Interval(low_count / n * per, high_count / n * per, level, GARWOOD)
    low, high = _mover_log(float(events), low_count, high_count, z_value(level) * cv)
    return Interval(low / n * per, high / n * per, level, f"{GARWOOD}, {MOVER}")


def ratio_to_whole_interval(
    events: int,
    known_events: int,
    population: PopulationEstimate,
    total_population: PopulationEstimate,
    *,
    level: float = 0.95,
) -> Interval:
    """Interval for (events / population) / (known_events / total_population).

    The group is part of the whole, so given the known events its count is
    binomial with share pi; the ratio is pi divided by the group's share of residents.
    """
    low_share, high_share = _share_interval(events, known_events, level)
    share_of_population = population.estimate / total_population.estimate
    moe = moe_of_proportion(
        population.estimate,
        population.margin_of_error,
        total_population.estimate,
        total_population.margin_of_error,
    )
    cv = standard_error(moe) / share_of_population
    if not cv:
        return Interval(
            low_share / share_of_population, high_share / share_of_population, level, CONDITIONAL
        )
    share = events / known_events
    low, high = _mover_log(share, low_share, high_share, z_value(level) * cv)
    return Interval(
        low / share_of_population, high / share_of_population, level, f"{CONDITIONAL}, {MOVER}"
    )


def ratio_to_group_interval(
    events: int,
    population: PopulationEstimate,
    reference_events: int,
    reference_population: PopulationEstimate,
    *,
    level: float = 0.95,
) -> Interval:
    """Interval for (events / population) / (reference_events / reference_population).

    Given the two counts' total, the group's count is binomial with share pi;
    the ratio is pi / (1 - pi) times reference_population / population.
    Needs at least one reference event (otherwise the ratio has no upper bound).
    """
    if reference_events <= 0:
        raise ValueError("a rate ratio needs at least one event in the reference group")
    low_share, high_share = _share_interval(events, events + reference_events, level)
    population_ratio = reference_population.estimate / population.estimate
    low_odds, high_odds = low_share / (1 - low_share), high_share / (1 - high_share)
    moe = moe_of_ratio(
        reference_population.estimate,
        reference_population.margin_of_error,
        population.estimate,
        population.margin_of_error,
    )
    cv = standard_error(moe) / population_ratio
    if not cv:
        return Interval(
            low_odds * population_ratio, high_odds * population_ratio, level, CONDITIONAL
        )
    odds = events / reference_events
    low, high = _mover_log(odds, low_odds, high_odds, z_value(level) * cv)
    return Interval(
        low * population_ratio, high * population_ratio, level, f"{CONDITIONAL}, {MOVER}"
    )


def _share_interval(events: int, total: int, level: float) -> tuple[float, float]:
    """Clopper-Pearson interval for events / total (statsmodels ``beta`` method)."""
    low, high = proportion_confint(events, total, alpha=1 - level, method="beta")
    return float(low), float(high)


def _mover_log(
    estimate: float, low: float, high: float, population_half_width: float
) -> tuple[float, float]:
    """Combine an exact interval for a count-based estimate with a log-symmetric population error.

    ``estimate``, ``low`` and ``high`` are on one scale (a count, a share, odds);
    the population enters as a half-width on the log scale (z times its
    coefficient of variation). MOVER for a ratio on the log scale: each side's
    half-width is the root sum of squares of the two components' half-widths.
    With an estimate of 0 the log scale does not exist: the lower limit stays 0
    and the upper limit is divided by the population's lower limit.
    """
    if estimate == 0:
        return 0.0, high * math.exp(population_half_width)
    log_estimate = math.log(estimate)
    below = math.hypot(log_estimate - math.log(low), population_half_width)
    above = math.hypot(math.log(high) - log_estimate, population_half_width)
    return math.exp(log_estimate - below), math.exp(log_estimate + above)


def _log_cv(population: PopulationEstimate) -> float:
    return population.coefficient_of_variation or 0.0


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"a confidence level is between 0 and 1 (0.95 for 95%); got {level}")
