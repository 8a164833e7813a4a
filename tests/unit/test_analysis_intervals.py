"""Rate and rate-ratio intervals, checked against scipy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, chi2
from statsmodels.stats import rates as sm_rates

from openblotter.analysis.intervals import (
    rate_interval,
    ratio_to_group_interval,
    ratio_to_whole_interval,
    z_value,
)
from openblotter.analysis.population import (
    PopulationEstimate,
    moe_of_proportion,
    moe_of_ratio,
    moe_of_sum,
)
from openblotter.domain.errors import InvalidInput


@pytest.mark.parametrize("events", [0, 1, 4, 19, 20, 250, 5000])
def test_rate_interval_is_garwood_exact_poisson(events):
    population = PopulationEstimate(12_345)
    interval = rate_interval(events, population, per=1000)
    low = chi2.ppf(0.025, 2 * events) / 2 if events else 0.0
    high = chi2.ppf(0.975, 2 * events + 2) / 2
    assert interval.low == pytest.approx(low / 12_345 * 1000, rel=1e-9)
    assert interval.high == pytest.approx(high / 12_345 * 1000, rel=1e-9)
    assert "Garwood" in interval.method and "MOVER" not in interval.method


def test_zero_events_have_lower_bound_zero_and_the_closed_form_upper_bound():
    interval = rate_interval(0, PopulationEstimate(2000), per=1000)
    assert interval.low == 0.0
    assert interval.high == pytest.approx(-math.log(0.025) / 2000 * 1000)  # 3.689 events


def test_rate_ratio_to_a_group_inverts_the_exact_conditional_test():
    x1, n1, x2, n2 = 30, 5000.0, 200, 90000.0
    interval = ratio_to_group_interval(x1, PopulationEstimate(n1), x2, PopulationEstimate(n2))
    at_low = sm_rates.test_poisson_2indep(
        x1, n1, x2, n2, value=interval.low, method="exact-cond", alternative="larger"
    )
    at_high = sm_rates.test_poisson_2indep(
        x1, n1, x2, n2, value=interval.high, method="exact-cond", alternative="smaller"
    )
    assert at_low.pvalue == pytest.approx(0.025, abs=1e-9)
    assert at_high.pvalue == pytest.approx(0.025, abs=1e-9)
    # Close to statsmodels' large-sample log-Wald interval, and a little wider (exact).
    wald_low, wald_high = sm_rates.confint_poisson_2indep(x1, n1, x2, n2, method="wald-log")
    assert interval.low < wald_low < wald_high < interval.high
    assert interval.low == pytest.approx(wald_low, rel=0.06)
    assert interval.high == pytest.approx(wald_high, rel=0.06)


def test_rate_ratio_to_the_whole_is_clopper_pearson_share_over_population_share():
    interval = ratio_to_whole_interval(
        60, 425, PopulationEstimate(5_000), PopulationEstimate(124_400)
    )
    share = binomtest(60, 425).proportion_ci(confidence_level=0.95, method="exact")
    assert interval.low == pytest.approx(share.low / (5_000 / 124_400), rel=1e-9)
    assert interval.high == pytest.approx(share.high / (5_000 / 124_400), rel=1e-9)


def test_a_ratio_needs_reference_events():
    with pytest.raises(ValueError, match="reference group"):
        ratio_to_group_interval(3, PopulationEstimate(100), 0, PopulationEstimate(100))


def test_controlled_margin_of_error_changes_nothing_and_a_real_one_widens():
    exact = rate_interval(40, PopulationEstimate(9_000))
    controlled = rate_interval(40, PopulationEstimate(9_000, 0.0))
    wider = rate_interval(40, PopulationEstimate(9_000, 900.0))
    assert (controlled.low, controlled.high) == (exact.low, exact.high)
    assert wider.low < exact.low and wider.high > exact.high
    assert "MOVER" in wider.method


def test_with_huge_counts_only_the_population_error_is_left():
    # With a million events the Poisson part is negligible: the interval is the
    # population's log-normal interval, rate * exp(-/+ z * SE / n).
    population = PopulationEstimate(50_000, 1_645 * 2)  # SE 2,000, CV 4%
    interval = rate_interval(1_000_000, population, per=1)
    rate = 1_000_000 / 50_000
    assert interval.low == pytest.approx(rate * math.exp(-1.96 * 0.04), rel=2e-3)
    assert interval.high == pytest.approx(rate * math.exp(1.96 * 0.04), rel=2e-3)


def test_mover_interval_covers_the_true_rate_about_95_percent_of_the_time():
    # A city of 8,000 (ACS SE 600) with a true rate of 5 per 1,000: both the count
    # and the census estimate are random. The exact interval alone under-covers.
    rng = np.random.default_rng(20260101)
    true_population, se, true_rate = 8_000.0, 600.0, 0.005
    covered_mover = covered_exact = 0
    trials = 1500
    for _ in range(trials):
        events = int(rng.poisson(true_rate * true_population))
        estimate = max(rng.normal(true_population, se), 1.0)
        with_moe = rate_interval(events, PopulationEstimate(estimate, se * 1.645), per=1)
        without = rate_interval(events, PopulationEstimate(estimate), per=1)
        covered_mover += with_moe.low <= true_rate <= with_moe.high
        covered_exact += without.low <= true_rate <= without.high
    assert 0.93 <= covered_mover / trials <= 0.99
    assert covered_exact < covered_mover


def test_zero_events_with_a_margin_of_error_divide_by_the_population_lower_limit():
    population = PopulationEstimate(400, 329)  # SE 200, CV 0.5
    interval = rate_interval(0, population, per=1)
    assert interval.low == 0.0
    expected = -math.log(0.025) / 400 * math.exp(1.96 * 0.5)
    assert interval.high == pytest.approx(expected, rel=1e-3)


def test_census_error_formulas():
    assert moe_of_sum([3.0, 4.0]) == 5.0
    assert moe_of_sum([None, None]) is None
    # Census handbook example shape: proportion of a subset.
    assert moe_of_proportion(100, 30, 1000, 40) == pytest.approx(
        math.sqrt(30**2 - 0.01 * 40**2) / 1000
    )
    # Negative radicand falls back to the ratio formula.
    assert moe_of_proportion(900, 10, 1000, 40) == pytest.approx(
        math.sqrt(10**2 + 0.81 * 40**2) / 1000
    )
    assert moe_of_ratio(200, 20, 100, 10) == pytest.approx(math.sqrt(400 + 4 * 100) / 100)


def test_bad_inputs_are_refused():
    with pytest.raises(InvalidInput):
        PopulationEstimate(-1)
    with pytest.raises(InvalidInput):
        PopulationEstimate(100, -5)
    with pytest.raises(ValueError):
        z_value(95)
