"""Recording changes: abrupt shifts in how a coded field was filled in, month by month.

A department that starts recording Hispanic drivers as Hispanic (Rhode Island
State Police, April 2007: 2.1% of stops before, 9.2% after) changes the
numbers overnight without any change in who is stopped. An analysis whose
period spans such a change compares two ways of recording.

The test, per field and category, at every month boundary with ``window``
months of data on each side: the category's share of records in the
``window`` months before against the ``window`` months after, by a
likelihood-ratio (G) test of the 2x2 table (``scipy.stats.power_divergence``,
1 degree of freedom), with a Bonferroni correction over every boundary and
category of the field. A
change is listed when it is significant at ``alpha`` after correction and
material: the share moves by at least ``min_points`` (percentage points, as
a fraction) and either by a factor of at least ``min_ratio`` or by
``min_shift`` or more (a large category losing ten points is a change too). Neighbouring
boundaries that pass are one change, placed at the boundary with the largest
G statistic. Comparing adjacent windows (not the whole series before and
after) keeps a slow trend from reading as a break.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import power_divergence

METHOD = (
    "per category, share of records in the {window} months before each month boundary against "
    "the {window} months after: likelihood-ratio (G) test of the 2x2 table (scipy "
    "power_divergence, 1 df), Bonferroni correction over all boundaries and categories of the "
    "field, alpha {alpha}; listed when the share also moves by at least "
    "{points:g} percentage points and by a factor of {ratio:g} or more (or by {shift:g} "
    "points or more)"
)


@dataclass(frozen=True)
class RecordingChange:
    """One abrupt shift in a category's share of a coded field, at the start of ``month``."""

    field: str
    category: str
    month: str
    share_before: float
    share_after: float
    records_before: int
    records_after: int
    in_category_before: int
    in_category_after: int
    g_statistic: float
    p_value_adjusted: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One sentence: what moved, when, from what to what."""
        return (
            f"{self.field} '{self.category}': {self.share_before:.1%} of records in the months "
            f"before {self.month}, {self.share_after:.1%} from {self.month}"
        )


def detect_changes(
    field: str,
    months: list[str],
    counts: dict[str, list[int]],
    *,
    window: int = 6,
    alpha: float = 0.001,
    min_points: float = 0.02,
    min_ratio: float = 1.5,
    min_records: int = 100,
    min_shift: float = 0.05,
) -> list[RecordingChange]:
    """Abrupt changes in the shares of ``counts`` (category -> records per month, aligned
    with ``months``, consecutive calendar months with zeros where nothing was recorded)."""
    categories = sorted(counts)
    if len(months) < 2 * window or len(categories) < 2:
        return []
    table = np.array([counts[c] for c in categories], dtype=float)  # categories x months
    totals = table.sum(axis=0)
    boundaries = np.arange(window, len(months) - window + 1)
    before = np.stack([table[:, b - window : b].sum(axis=1) for b in boundaries], axis=1)
    after = np.stack([table[:, b : b + window].sum(axis=1) for b in boundaries], axis=1)
    n_before = np.array([totals[b - window : b].sum() for b in boundaries])
    n_after = np.array([totals[b : b + window].sum() for b in boundaries])
    g, p = _g_test(before, after, n_before, n_after)
    enough = (n_before >= min_records) & (n_after >= min_records)
    tested = np.isfinite(p) & enough[np.newaxis, :]
    adjusted = np.ones_like(p)
    if tested.any():
        # Bonferroni: every boundary and category of the field is one test.
        adjusted[tested] = np.minimum(1.0, p[tested] * int(tested.sum()))
    share_before = before / np.maximum(n_before, 1)
    share_after = after / np.maximum(n_after, 1)
    low = np.minimum(share_before, share_after)
    high = np.maximum(share_before, share_after)
    material = (high - low >= min_points) & ((high >= min_ratio * low) | (high - low >= min_shift))
    passed = tested & (adjusted < alpha) & material
    changes = []
    for row, category in enumerate(categories):
        for run in _runs(np.flatnonzero(passed[row])):
            best = run[int(np.argmax(g[row, run]))]
            changes.append(
                RecordingChange(
                    field=field,
                    category=category,
                    month=months[boundaries[best]],
                    share_before=float(share_before[row, best]),
                    share_after=float(share_after[row, best]),
                    records_before=int(n_before[best]),
                    records_after=int(n_after[best]),
                    in_category_before=int(before[row, best]),
                    in_category_after=int(after[row, best]),
                    g_statistic=float(g[row, best]),
                    p_value_adjusted=float(adjusted[row, best]),
                )
            )
    return sorted(changes, key=lambda c: (c.month, c.category))


def _g_test(
    before: np.ndarray, after: np.ndarray, n_before: np.ndarray, n_after: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """G statistic and p-value of every (category, boundary) 2x2 table, vectorised."""
    observed = np.stack([before, n_before - before, after, n_after - after], axis=-1)
    in_category = before + after
    total = n_before + n_after
    share = in_category / np.maximum(total, 1)
    expected = np.stack(
        [n_before * share, n_before * (1 - share), n_after * share, n_after * (1 - share)],
        axis=-1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        g, p = power_divergence(observed, expected, ddof=2, axis=-1, lambda_="log-likelihood")
    degenerate = (in_category == 0) | (in_category == total)
    return np.where(degenerate, 0.0, g), np.where(degenerate, np.nan, p)


def _runs(indices: np.ndarray) -> list[np.ndarray]:
    """Consecutive indices grouped: each run is one change."""
    if indices.size == 0:
        return []
    return np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)


def method_text(
    window: int = 6,
    alpha: float = 0.001,
    min_points: float = 0.02,
    min_ratio: float = 1.5,
    min_shift: float = 0.05,
) -> str:
    """The method as stated beside the list of changes."""
    return METHOD.format(
        window=window, alpha=alpha, points=min_points * 100, ratio=min_ratio, shift=min_shift * 100
    )
