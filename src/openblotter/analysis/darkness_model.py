"""The veil-of-darkness model: one logistic regression per set of controls, on the same stops.

Kept apart from :mod:`openblotter.analysis.darkness` (which builds the sample
from dates, clock times and sunsets) so the specification reads in one place:
``in_group ~ dark + cr(minute, df) [+ C(control) ...]``, fitted by
statsmodels ``Logit``. Strata of a fixed effect in which every stop is of one
group carry no information about darkness and make the fit diverge
(separation); they are left out of every fit and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from patsy import dmatrix

# The model's own module, not statsmodels.api: that imports every model statsmodels has
# (time series among them), 24 MiB more in every web process that loads the analyses.
from statsmodels.discrete.discrete_model import Logit
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from openblotter.analysis.intervals import Interval, z_value
from openblotter.domain.checkpoints import checkpoint
from openblotter.domain.errors import InvalidInput

CONTROL_LABELS = {
    "geography": "geography (one fixed effect per {geography})",
    "year": "year (one fixed effect per year)",
    "month": "month (one fixed effect per calendar month of each year)",
    "day_of_week": "day of week",
}


@dataclass(frozen=True)
class Sample:
    """The stops the model sees: clock minute, darkness, membership and the control columns."""

    minute: np.ndarray
    dark: np.ndarray
    in_group: np.ndarray
    days: list[date]
    geography: list[str]
    window: tuple[float, float]
    excluded: dict[str, int]


@dataclass(frozen=True)
class Estimate:
    """The darkness odds ratio of one model (its controls named), with interval and p-value."""

    label: str
    controls: tuple[str, ...]
    odds_ratio: float
    ci: Interval
    p_value: float
    log_odds_ratio: float
    standard_error: float
    converged: bool


def _labels(control: str, geography_name: str) -> str:
    return CONTROL_LABELS[control].format(geography=geography_name)


def control_columns(sample: Sample, controls: list[str]) -> dict[str, np.ndarray]:
    """One label per stop for each fixed effect."""
    columns = {
        "geography": np.array(sample.geography, dtype=object),
        "year": np.array([str(d.year) for d in sample.days], dtype=object),
        "month": np.array([f"{d.year}-{d.month:02d}" for d in sample.days], dtype=object),
        "day_of_week": np.array([str(d.weekday()) for d in sample.days], dtype=object),
    }
    return {c: columns[c] for c in controls}


def informative(sample: Sample, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Stops in strata (of every fixed effect) where both groups occur."""
    keep = np.ones(sample.in_group.size, dtype=bool)
    for values in columns.values():
        for level in np.unique(values):
            members = values == level
            if sample.in_group[members].min() == sample.in_group[members].max():
                keep &= ~members
    return keep


def fit_darkness(
    sample: Sample, controls: list[str], spline_df: int, level: float, geography_name: str
) -> list[Estimate]:
    """The model with clock time only, then (when controls are chosen) with the fixed effects.

    Both are fitted on the same stops; stops in one-group strata of a fixed effect
    are dropped from the sample (and counted in ``excluded``) before either fit.
    """
    columns = control_columns(sample, controls)
    keep = informative(sample, columns)
    if controls:
        sample.excluded["only_one_group_in_fixed_effect"] = int((~keep).sum())
        _keep_only(sample, keep)
        columns = {name: values[keep] for name, values in columns.items()}
    _check_enough(sample, spline_df)
    spline = f"cr(minute, df={spline_df}, constraints='center')"
    spline_label = f"clock time: natural cubic regression spline, {spline_df} degrees of freedom"
    checkpoint()
    fits = [_fit(sample, {}, spline, level, "clock time only", (spline_label,))]
    if controls:
        checkpoint()
        labels = tuple(_labels(c, geography_name) for c in controls)
        fits.append(_fit(sample, columns, spline, level, "with controls", (spline_label, *labels)))
    return fits


def _keep_only(sample: Sample, keep: np.ndarray) -> None:
    # The sample is built for this fit alone; trimming it in place keeps one set of counts.
    object.__setattr__(sample, "minute", sample.minute[keep])
    object.__setattr__(sample, "dark", sample.dark[keep])
    object.__setattr__(sample, "in_group", sample.in_group[keep])
    object.__setattr__(sample, "days", [d for d, k in zip(sample.days, keep, strict=True) if k])
    object.__setattr__(
        sample, "geography", [g for g, k in zip(sample.geography, keep, strict=True) if k]
    )


def _fit(
    sample: Sample,
    columns: dict[str, np.ndarray],
    spline: str,
    level: float,
    label: str,
    controls: tuple[str, ...],
) -> Estimate:
    formula = " + ".join(["dark", spline, *(f"C({name})" for name in columns)])
    data: dict[str, Any] = {"dark": sample.dark, "minute": sample.minute, **columns}
    design = dmatrix(formula, data)
    try:
        fitted = Logit(sample.in_group, np.asarray(design)).fit(disp=0, maxiter=200)
    except (np.linalg.LinAlgError, PerfectSeparationError) as error:
        raise InvalidInput(
            f"The veil-of-darkness model ({label}: {'; '.join(controls)}) cannot be fitted on "
            f"these {sample.dark.size} stops: {error}. Choose fewer controls or a longer period.",
            detail={"controls": list(controls), "stops_in_window": int(sample.dark.size)},
        ) from error
    position = design.design_info.column_names.index("dark")
    beta, se = float(fitted.params[position]), float(fitted.bse[position])
    z = z_value(level)
    return Estimate(
        label=label,
        controls=controls,
        odds_ratio=math.exp(beta),
        ci=Interval(
            math.exp(beta - z * se), math.exp(beta + z * se), level, "Wald, log-odds scale"
        ),
        p_value=float(fitted.pvalues[position]),
        log_odds_ratio=beta,
        standard_error=se,
        converged=bool(fitted.mle_retvals.get("converged", False)),
    )


def _check_enough(sample: Sample, spline_df: int) -> None:
    problems = []
    if sample.window[0] >= sample.window[1]:
        problems.append(
            "the data's dates give no clock time that is light on some days and dark on others"
        )
    if not (sample.dark == 1).any() or not (sample.dark == 0).any():
        problems.append("there must be stops both in daylight and after dark in the window")
    if not (sample.in_group == 1).any() or not (sample.in_group == 0).any():
        problems.append("there must be drivers both in the group and in the reference group")
    if sample.dark.size < 10 * (spline_df + 2):
        problems.append(f"too few stops in the window ({sample.dark.size}) for the model")
    if problems:
        raise InvalidInput(
            "The veil-of-darkness test cannot be run: " + "; ".join(problems) + ". Use more "
            "dates (ideally a full year) so the window between earliest dusk and latest sunset "
            "is wide.",
            detail={"excluded": sample.excluded, "stops_in_window": int(sample.dark.size)},
        )
