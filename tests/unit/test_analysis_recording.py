"""Recording changes: a planted step is found at its month, a slow trend and noise are not."""

from __future__ import annotations

import numpy as np

from openblotter.analysis.recording import detect_changes


def _months(n: int) -> list[str]:
    return [f"{2020 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def _series(shares: list[float], per_month: int = 600, seed: int = 1) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed)
    inside = [int(rng.binomial(per_month, s)) for s in shares]
    return {"Hispanic": inside, "White": [per_month - k for k in inside]}


def test_a_step_from_2_to_9_percent_is_found_at_its_month():
    shares = [0.021] * 27 + [0.092] * 21
    changes = detect_changes("subject_race", _months(48), _series(shares))
    found = {(c.category, c.month) for c in changes}
    assert ("Hispanic", "2022-04") in found
    step = next(c for c in changes if c.category == "Hispanic")
    assert step.share_before < 0.03 < 0.08 < step.share_after
    assert step.p_value_adjusted < 0.001


def test_a_slow_trend_and_plain_noise_are_not_changes():
    trend = list(np.linspace(0.05, 0.10, 48))
    assert detect_changes("subject_race", _months(48), _series(trend, seed=2)) == []
    assert detect_changes("subject_race", _months(48), _series([0.05] * 48, seed=3)) == []


def test_too_few_months_or_one_category_give_nothing():
    assert detect_changes("x", _months(10), _series([0.02] * 5 + [0.2] * 5)) == []
    assert detect_changes("x", _months(48), {"Only": [10] * 48}) == []
