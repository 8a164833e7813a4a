"""Population estimates with their margins of error, and the Census Bureau's error formulas.

American Community Survey (ACS) estimates come with a margin of error (MOE) at
the 90 per cent level; the decennial census has none. The formulas below are
the approximations the Census Bureau publishes for estimates derived from
ACS estimates (sums, proportions, ratios): U.S. Census Bureau (2020),
*Understanding and Using American Community Survey Data: What All Data Users
Need to Know*, chapter 8, "Calculating Measures of Error for Derived
Estimates". They ignore the covariance between the estimates, as the
handbook says, so they are approximations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from openblotter.domain.errors import InvalidInput

#: The z value behind a published ACS margin of error (ACS MOEs are at the 90% level).
ACS_MOE_Z = 1.645


@dataclass(frozen=True)
class PopulationEstimate:
    """A count of residents; ``margin_of_error`` is the ACS 90% MOE, None when there is none.

    A decennial count has no margin of error (None). An ACS MOE shown as
    ``*****`` (a controlled estimate, no sampling error) is 0.
    """

    estimate: float
    margin_of_error: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.estimate) or self.estimate < 0:
            raise InvalidInput(
                "A population estimate must be a number of people, 0 or more; "
                f"got {self.estimate}.",
                detail={"value": self.estimate},
            )
        if self.margin_of_error is not None and (
            not math.isfinite(self.margin_of_error) or self.margin_of_error < 0
        ):
            raise InvalidInput(
                "A margin of error must be 0 or more (use None when there is none); "
                f"got {self.margin_of_error}.",
                detail={"value": self.margin_of_error},
            )

    @property
    def standard_error(self) -> float:
        """The standard error behind the MOE (MOE / 1.645); 0 without a MOE."""
        return standard_error(self.margin_of_error)

    @property
    def coefficient_of_variation(self) -> float | None:
        """Standard error / estimate; None for an estimate of 0."""
        if self.estimate == 0:
            return None
        return self.standard_error / self.estimate

    def to_dict(self) -> dict[str, float | None]:
        return {"estimate": self.estimate, "margin_of_error": self.margin_of_error}


def standard_error(margin_of_error: float | None) -> float:
    """Standard error from an ACS 90% margin of error: MOE / 1.645 (0 when there is no MOE)."""
    return 0.0 if margin_of_error is None else margin_of_error / ACS_MOE_Z


def moe_of_sum(margins: Iterable[float | None]) -> float | None:
    """MOE of a sum of estimates: the square root of the sum of squared MOEs.

    Census handbook (2020), ch. 8, formula for aggregated count data. None if
    no part has a MOE (decennial counts); parts without one count as exact.
    """
    values = list(margins)
    if all(m is None for m in values):
        return None
    return math.sqrt(sum((m or 0.0) ** 2 for m in values))


def moe_of_proportion(
    part: float, part_moe: float | None, whole: float, whole_moe: float | None
) -> float | None:
    """MOE of ``part / whole`` where the part is a subset of the whole.

    Census handbook (2020), ch. 8: ``sqrt(MOE_part^2 - p^2 * MOE_whole^2) / whole``;
    when the value under the root is negative the handbook says to use the
    ratio formula (a plus sign) instead, which is what this does.
    """
    if part_moe is None and whole_moe is None:
        return None
    if whole <= 0:
        raise InvalidInput("A proportion needs a whole greater than 0.", detail={"whole": whole})
    p = part / whole
    a, b = (part_moe or 0.0) ** 2, (p * (whole_moe or 0.0)) ** 2
    radicand = a - b if a - b >= 0 else a + b
    return math.sqrt(radicand) / whole


def moe_of_ratio(
    numerator: float, numerator_moe: float | None, denominator: float, denominator_moe: float | None
) -> float | None:
    """MOE of ``numerator / denominator`` for estimates that are not subsets of each other.

    Census handbook (2020), ch. 8: ``sqrt(MOE_num^2 + R^2 * MOE_den^2) / denominator``.
    """
    if numerator_moe is None and denominator_moe is None:
        return None
    if denominator <= 0:
        raise InvalidInput(
            "A ratio needs a denominator greater than 0.", detail={"denominator": denominator}
        )
    r = numerator / denominator
    return (
        math.sqrt((numerator_moe or 0.0) ** 2 + (r * (denominator_moe or 0.0)) ** 2) / denominator
    )


def sum_estimates(parts: Iterable[PopulationEstimate]) -> PopulationEstimate:
    """Add estimates; the MOE by :func:`moe_of_sum`."""
    values = list(parts)
    return PopulationEstimate(
        estimate=sum(p.estimate for p in values),
        margin_of_error=moe_of_sum(p.margin_of_error for p in values),
    )
