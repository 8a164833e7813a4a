"""Outcome tests: search, hit and arrest rates of stopped people by group, with exact intervals.

Becker (1957) and Knowles, Persico & Todd (2001): if officers search people
of one group on less evidence, searches of that group find contraband less
often (a lower hit rate). As reported by the Stanford Open Policing Project
(Pierson et al. 2020): per group, the search rate (searches / stops), the
hit rate (searches that found contraband / searches) and the arrest rate
(arrests / stops), each with an exact Clopper-Pearson interval
(``statsmodels.stats.proportion.proportion_confint``, method ``beta``).

The caveat that comes with the method: hit rates compare the average
evidence of the people searched, not the threshold of evidence officers
applied (infra-marginality; Ayres 2002, Simoiu, Corbett-Davies & Goel 2017).
Two groups can be searched on the same threshold and still have different
hit rates, and the other way round.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from statsmodels.stats.proportion import proportion_confint

from openblotter.analysis.caveats import Caveat


def method_text(*, has_hits: bool, has_arrests: bool, level: float = 0.95) -> str:
    """The method of the rates actually computed (no hit rate without a contraband field)."""
    parts = ["search rate = searches / stops"]
    if has_hits:
        parts.append("hit rate = searches that found contraband / searches")
    if has_arrests:
        parts.append("arrest rate = arrests / stops")
    return (
        "; ".join(parts) + f"; exact Clopper-Pearson {level:.0%} intervals "
        "(statsmodels proportion_confint, method 'beta')"
    )


INFRA_MARGINALITY = Caveat(
    "infra_marginality",
    "A hit rate is not the officer's threshold",
    "A lower hit rate for a group suggests its members are searched on less evidence, but it "
    "compares the average evidence of the people searched, not the threshold officers applied. "
    "Groups whose members carry contraband at different rates can have different hit rates "
    "under the same threshold, and equal hit rates under different thresholds "
    "(infra-marginality: Ayres 2002; Simoiu, Corbett-Davies & Goel 2017). The threshold test "
    "of Simoiu et al. models this; these rates do not.",
)
SEARCH_RATE_IS_NOT_A_BENCHMARK = Caveat(
    "search_rate_baseline",
    "Search and arrest rates depend on who was stopped and why",
    "A group with a higher search or arrest rate among stopped people may have been stopped "
    "for different reasons (a warrant, a crash, a drug call) than another group. The rates "
    "compare outcomes among people already stopped; they say nothing about who was stopped.",
)
NO_HIT_FIELD = Caveat(
    "no_hit_field",
    "This dataset does not record what searches found",
    "The dataset has no contraband_found field, so hit rates cannot be computed; search and "
    "arrest rates are shown without the outcome test proper.",
)


@dataclass(frozen=True)
class Rate:
    """A proportion with its exact interval; None (with its count) when the denominator is 0."""

    numerator: int
    denominator: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class GroupOutcomes:
    """One group's stops, searches, hits and arrests, with the three rates."""

    group: str
    stops: int
    searches: int | None
    hits: int | None
    arrests: int | None
    search_rate: Rate | None
    hit_rate: Rate | None
    arrest_rate: Rate | None
    reliable: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def exact_rate(numerator: int, denominator: int, level: float = 0.95) -> Rate:
    """``numerator / denominator`` with its Clopper-Pearson interval."""
    if denominator <= 0:
        return Rate(numerator, denominator, None, None, None)
    low, high = proportion_confint(numerator, denominator, alpha=1 - level, method="beta")
    return Rate(numerator, denominator, numerator / denominator, float(low), float(high))


def group_outcomes(
    group: str,
    stops: int,
    *,
    searches: tuple[int, int] | None,
    hits: tuple[int, int] | None,
    arrests: tuple[int, int] | None,
    min_events: int,
    level: float = 0.95,
) -> GroupOutcomes:
    """The rates of one group. Each outcome is ``(count, denominator)``: searches among stops
    that record whether there was a search, hits among searches that record what was found,
    arrests among stops that record an arrest; None where the dataset does not record it."""
    notes = []
    if stops < min_events:
        notes.append(f"Fewer than {min_events} stops: every rate can move a lot by chance.")
    if hits is not None and 0 < hits[1] < min_events:
        notes.append(f"Fewer than {min_events} searches: the hit rate can move a lot by chance.")
    return GroupOutcomes(
        group=group,
        stops=stops,
        searches=None if searches is None else searches[0],
        hits=None if hits is None else hits[0],
        arrests=None if arrests is None else arrests[0],
        search_rate=None if searches is None else exact_rate(*searches, level),
        hit_rate=None if hits is None else exact_rate(*hits, level),
        arrest_rate=None if arrests is None else exact_rate(*arrests, level),
        reliable=not notes,
        notes=tuple(notes),
    )


def outcome_caveats(
    *, has_hits: bool, has_searches: bool, unreliable: int, min_events: int
) -> list[Caveat]:
    """The caveats the computed figures call for: infra-marginality only with hit rates."""
    chosen = [SEARCH_RATE_IS_NOT_A_BENCHMARK]
    if has_hits:
        chosen.insert(0, INFRA_MARGINALITY)
    elif has_searches:
        chosen.append(NO_HIT_FIELD)
    if unreliable:
        chosen.append(
            Caveat(
                "small_numbers",
                "Small numbers move a lot",
                f"{unreliable} group(s) have fewer than {min_events} stops or searches; their "
                "rates are marked not reliable and their exact intervals are wide.",
            )
        )
    return chosen
