"""Funnel plot control limits (Spiegelhalter 2005, exact Poisson with interpolation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, poisson

from openblotter.analysis.funnel import funnel_plot, poisson_control_limits
from openblotter.domain.errors import InvalidInput


def test_interpolated_limit_for_an_expected_count_of_ten():
    # Poisson(10): F(3) = 0.010336, F(4) = 0.029253, so the 2.5% point is
    # 4 - (0.029253 - 0.025) / (0.029253 - 0.010336) = 3.7752 events.
    lower, upper = poisson_control_limits(target_rate=1.0, exposure=10.0, level=0.95)
    assert float(lower) * 10 == pytest.approx(3.7752, abs=1e-3)
    # 97.5% point: F(16) = 0.97296 < 0.975 <= F(17) = 0.98572 -> 17 - 0.8400 = 16.160.
    assert float(upper) * 10 == pytest.approx(16.160, abs=2e-3)


@pytest.mark.parametrize("mean", [0.5, 3.0, 12.0, 75.0, 400.0])
@pytest.mark.parametrize("level", [0.95, 0.998])
def test_limits_sit_between_the_discrete_quantile_and_the_count_below(mean, level):
    lower, upper = poisson_control_limits(target_rate=mean / 1000, exposure=1000.0, level=level)
    for limit, p in (
        (float(lower) * 1000, (1 - level) / 2),
        (float(upper) * 1000, 1 - (1 - level) / 2),
    ):
        r = poisson.ppf(p, mean)
        assert max(r - 1, 0) <= limit <= r
        assert poisson.cdf(r, mean) >= p and (r == 0 or poisson.cdf(r - 1, mean) < p)


def test_large_units_approach_the_normal_approximation():
    target, exposure = 0.004, 5_000_000.0
    lower, upper = poisson_control_limits(target, exposure, 0.998)
    half_width = norm.ppf(0.999) * math.sqrt(target / exposure)
    assert float(upper) == pytest.approx(target + half_width, rel=2e-3)
    assert float(lower) == pytest.approx(target - half_width, rel=2e-3)


def test_units_are_placed_against_the_limits():
    result = funnel_plot(
        {
            "Beat 1": (40, 10_000),  # on target: 4 per 1,000
            "Beat 2": (90, 10_000),  # far above
            "Beat 3": (55, 10_000),  # above 95% (about 52.4) but not 99.8% (about 59.5)
            "Beat 4": (8, 10_000),  # far below
            "Beat 5": (0, 200),  # small: zero is within the limits
        },
        per=1000,
        target_rate=4.0,
    )
    positions = {u.unit: u.position for u in result.units}
    assert positions["Beat 1"] == "within the 95% limits"
    assert positions["Beat 2"] == "above the 99.8% limit"
    assert positions["Beat 3"] == "above the 95% limit"
    assert positions["Beat 4"] == "below the 99.8% limit"
    assert positions["Beat 5"] == "within the 95% limits"
    beat2 = next(u for u in result.units if u.unit == "Beat 2")
    assert beat2.rate == 9.0 and beat2.expected_events == pytest.approx(40.0)
    assert [lim.level for lim in beat2.limits] == [0.95, 0.998]


def test_the_target_defaults_to_the_pooled_rate():
    result = funnel_plot({"a": (40, 10_000), "b": (90, 10_000), "c": (0, 200)})
    assert result.target_rate == pytest.approx(130 / 20_200 * 1000)


def test_the_funnel_narrows_as_exposure_grows():
    result = funnel_plot({"a": (5, 500), "b": (400, 100_000)}, target_rate=4.0, curve_points=40)
    first, last = result.curve[0], result.curve[-1]
    assert first.exposure == pytest.approx(500) and last.exposure == pytest.approx(100_000)
    width = [p.limits[1].upper - p.limits[1].lower for p in result.curve]
    assert width[0] > 4 * width[-1]
    uppers = np.array([p.limits[0].upper for p in result.curve])
    assert np.all(uppers >= 4.0) and result.target_rate == 4.0
    assert result.to_dict()["method"].startswith("exact Poisson")


def test_bad_units_are_named():
    with pytest.raises(InvalidInput, match="Beat 9"):
        funnel_plot({"Beat 9": (3, 0)})
    with pytest.raises(InvalidInput, match="no target rate"):
        funnel_plot({"Beat 1": (0, 100)})
