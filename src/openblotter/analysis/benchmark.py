"""Community benchmark: events by group measured against the residents of each group.

For each census category: events, share of events, residents, share of
residents, rate per 1,000 residents with a confidence interval, and the rate
ratio against a reference (all residents, or one group) with a confidence
interval. The interval methods are in :mod:`openblotter.analysis.intervals`:
exact Poisson (Garwood 1936) for a rate, the exact conditional binomial method
for a rate ratio, and MOVER (Zou & Donner 2008) to add an ACS margin of error.

Events whose group is unknown, or whose code the mapping does not know, are
counted in their own rows and never dropped; they have no rate because there
are no residents to divide by. A rate "against all residents" uses the events
with a known group, so the ratios of the groups average to 1 (weighted by
residents) and are comparable with each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from numbers import Integral
from typing import Any

from openblotter.analysis.caveats import BENCHMARK_CAVEATS, Caveat, benchmark_caveats
from openblotter.analysis.census_mapping import CodeMapping, Placement
from openblotter.analysis.intervals import (
    CONDITIONAL,
    GARWOOD,
    MOVER,
    Interval,
    rate_interval,
    ratio_to_group_interval,
    ratio_to_whole_interval,
)
from openblotter.analysis.population import PopulationEstimate, sum_estimates
from openblotter.domain.errors import InvalidInput

ALL_RESIDENTS = "All residents"
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class GroupBenchmark:
    """One row of a benchmark. ``reliable`` is None for a row without a rate."""

    group: str
    placement: Placement
    department_codes: tuple[str, ...]
    events: int
    share_of_events: float | None
    share_of_known_events: float | None = None
    population: float | None = None
    population_moe: float | None = None
    share_of_population: float | None = None
    rate: float | None = None
    rate_ci: Interval | None = None
    rate_ratio: float | None = None
    rate_ratio_ci: Interval | None = None
    reliable: bool | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchmarkResult:
    """A whole benchmark: rows, the reference, the mapping used, the methods and caveats."""

    dimension: str
    reference: str
    reference_rate: float | None
    per: int
    level: float
    min_events: int
    event_unit: str
    events_total: int
    events_known: int
    population_total: float
    population_total_moe: float | None
    groups: tuple[GroupBenchmark, ...]
    mapping: dict[str, Any]
    methods: dict[str, str]
    caveats: tuple[Caveat, ...] = field(default=BENCHMARK_CAVEATS)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (numbers unrounded)."""
        return asdict(self)


@dataclass(frozen=True)
class _Tally:
    by_category: dict[str, int]
    codes_by_category: dict[str, list[str]]
    unknown: int
    unknown_codes: list[str]
    not_in_mapping: dict[str, int]


@dataclass(frozen=True)
class _Context:
    total_events: int
    known_events: int
    total_population: PopulationEstimate
    reference: str | None
    reference_events: int
    reference_population: PopulationEstimate
    per: int
    level: float
    min_events: int
    max_population_cv: float


def community_benchmark(
    events: Mapping[str | None, int],
    population: Mapping[str, PopulationEstimate],
    *,
    mapping: CodeMapping,
    total_population: PopulationEstimate | None = None,
    reference: str | None = None,
    min_events: int = 20,
    max_population_cv: float = 0.30,
    level: float = 0.95,
    per: int = 1000,
    event_unit: str = "one row of the dataset",
) -> BenchmarkResult:
    """Compare event counts by department code with residents by census category.

    ``events`` maps department codes (None or blank = unknown) to counts;
    ``population`` maps census categories to estimates. ``total_population``
    defaults to the sum of ``population`` (pass the table's Total when the
    categories do not cover everyone). ``reference`` is None for all residents
    or one of ``mapping.categories``. A rate is marked not reliable when it
    rests on fewer than ``min_events`` events or on a population estimate whose
    coefficient of variation is over ``max_population_cv``; it is shown anyway.
    """
    tally = _tally(events, mapping)
    total = total_population or sum_estimates(population.values())
    if total.estimate <= 0:
        raise InvalidInput(
            "The total population must be greater than 0.", detail={"total": total.estimate}
        )
    categories = list(mapping.categories) + [c for c in population if c not in mapping.categories]
    context = _context(
        tally, population, total, reference, categories, per, level, min_events, max_population_cv
    )
    rows = [_category_row(c, tally, population.get(c), mapping, context) for c in categories]
    rows.append(_unknown_row(tally, context))
    rows += [_unmapped_row(code, count, context) for code, count in tally.not_in_mapping.items()]
    moe_used = _has_moe(population, total)
    caveats = benchmark_caveats(
        dimension=mapping.dimension,
        moe_used=moe_used,
        min_events=min_events,
        unreliable_rows=sum(1 for r in rows if r.reliable is False),
        unknown_events=tally.unknown,
        unmapped_events=sum(tally.not_in_mapping.values()),
    )
    return BenchmarkResult(
        dimension=mapping.dimension,
        reference=reference or ALL_RESIDENTS,
        reference_rate=context.reference_events / context.reference_population.estimate * per,
        per=per,
        level=level,
        min_events=min_events,
        event_unit=event_unit,
        events_total=context.total_events,
        events_known=context.known_events,
        population_total=total.estimate,
        population_total_moe=total.margin_of_error,
        groups=tuple(rows),
        mapping=mapping.to_dict(),
        methods=_methods(moe_used),
        caveats=caveats,
    )


def _tally(events: Mapping[str | None, int], mapping: CodeMapping) -> _Tally:
    by_category: dict[str, int] = {}
    codes: dict[str, list[str]] = {}
    unknown = 0
    unknown_codes: list[str] = []
    unmapped: dict[str, int] = {}
    for code, count in events.items():
        if not isinstance(count, Integral) or isinstance(count, bool) or count < 0:
            raise InvalidInput(
                f"The event count for '{code}' must be a whole number, 0 or more; got {count!r}.",
                detail={"code": code, "count": count},
            )
        placement, category = mapping.place(code)
        if placement == "category" and category is not None:
            by_category[category] = by_category.get(category, 0) + int(count)
            codes.setdefault(category, []).append(str(code))
        elif placement == "unknown":
            unknown += int(count)
            unknown_codes.append("(blank)" if code is None or not str(code).strip() else str(code))
        else:
            unmapped[str(code)] = unmapped.get(str(code), 0) + int(count)
    return _Tally(by_category, codes, unknown, unknown_codes, unmapped)


def _context(
    tally: _Tally,
    population: Mapping[str, PopulationEstimate],
    total: PopulationEstimate,
    reference: str | None,
    categories: list[str],
    per: int,
    level: float,
    min_events: int,
    max_population_cv: float,
) -> _Context:
    known = sum(tally.by_category.values())
    all_events = known + tally.unknown + sum(tally.not_in_mapping.values())
    usable = [c for c in categories if c in population]
    if reference is not None and reference not in usable:
        raise InvalidInput(
            f"'{reference}' cannot be the reference group: it must be a census category with "
            f"a population count. Choose one of: {', '.join(usable)}.",
            detail={"parameter": "reference", "value": reference, "allowed": usable},
        )
    if reference is None:
        reference_events, reference_population = known, total
    else:
        reference_events = tally.by_category.get(reference, 0)
        reference_population = population[reference]
    return _Context(
        all_events, known, total, reference, reference_events, reference_population,
        per, level, min_events, max_population_cv,
    )  # fmt: skip


def _category_row(
    category: str,
    tally: _Tally,
    estimate: PopulationEstimate | None,
    mapping: CodeMapping,
    context: _Context,
) -> GroupBenchmark:
    events = tally.by_category.get(category, 0)
    codes = tuple(tally.codes_by_category.get(category, mapping.codes_for(category)))
    share = None if estimate is None else estimate.estimate / context.total_population.estimate
    base = GroupBenchmark(
        group=category,
        placement="category",
        department_codes=codes,
        events=events,
        share_of_events=_share(events, context.total_events),
        share_of_known_events=_share(events, context.known_events),
        population=None if estimate is None else estimate.estimate,
        population_moe=None if estimate is None else estimate.margin_of_error,
        share_of_population=share,
    )
    missing = _why_no_rate(category, events, estimate, codes)
    if missing is not None:
        return replace(base, notes=(missing,))
    assert estimate is not None  # _why_no_rate gives a reason when there is no estimate
    rate = events / estimate.estimate * context.per
    rate_ci = rate_interval(events, estimate, per=context.per, level=context.level)
    ratio, ratio_ci, ratio_note = _ratio(category, events, estimate, context)
    notes = _reliability_notes(events, estimate, context)
    return replace(
        base,
        rate=rate,
        rate_ci=rate_ci,
        rate_ratio=ratio,
        rate_ratio_ci=ratio_ci,
        reliable=not notes,
        notes=tuple(notes + ([ratio_note] if ratio_note else [])),
    )


def _why_no_rate(
    category: str, events: int, estimate: PopulationEstimate | None, codes: tuple[str, ...]
) -> str | None:
    if not codes:
        return (
            "No department code is compared with this census category, so it has no events to rate."
        )
    if estimate is None:
        return (
            f"The census table has no count for '{category}', so there are no residents to "
            f"divide these {events} events by."
        )
    if estimate.estimate <= 0:
        return f"The census counts no residents in '{category}', so a rate cannot be computed."
    return None


def _ratio(
    category: str, events: int, estimate: PopulationEstimate, context: _Context
) -> tuple[float | None, Interval | None, str | None]:
    if context.reference is not None and category == context.reference:
        return 1.0, None, "This is the reference group (rate ratio 1 by definition)."
    if context.known_events == 0:
        return None, None, "No events have a known group, so there is nothing to compare."
    if context.reference is None:
        ratio = (events / context.known_events) / (
            estimate.estimate / context.total_population.estimate
        )
        interval = ratio_to_whole_interval(
            events, context.known_events, estimate, context.total_population, level=context.level
        )
        return ratio, interval, None
    reference_population = context.reference_population
    if context.reference_events == 0:
        return (
            None,
            None,
            f"The reference group '{context.reference}' has no events, so a ratio to it is "
            "not defined.",
        )
    ratio = (events / estimate.estimate) / (
        context.reference_events / reference_population.estimate
    )
    interval = ratio_to_group_interval(
        events, estimate, context.reference_events, reference_population, level=context.level
    )
    return ratio, interval, None


def _reliability_notes(events: int, estimate: PopulationEstimate, context: _Context) -> list[str]:
    notes = []
    if events < context.min_events:
        notes.append(
            f"Fewer than {context.min_events} events ({events}): the rate can change a lot "
            "by chance."
        )
    cv = estimate.coefficient_of_variation
    if cv is not None and cv > context.max_population_cv:
        notes.append(
            f"The population estimate is imprecise (coefficient of variation {cv:.1%}, over "
            f"{context.max_population_cv:.0%})."
        )
    return notes


def _unknown_row(tally: _Tally, context: _Context) -> GroupBenchmark:
    note = "The group is not recorded, so these events are not compared with any residents."
    share = _share(tally.unknown, context.total_events)
    codes = tuple(tally.unknown_codes)
    return GroupBenchmark(UNKNOWN, "unknown", codes, tally.unknown, share, notes=(note,))


def _unmapped_row(code: str, count: int, context: _Context) -> GroupBenchmark:
    note = (
        f"The code '{code}' is not in the code-to-census mapping; add it to the mapping "
        "to compare these events with residents."
    )
    share = _share(count, context.total_events)
    return GroupBenchmark(code, "not_in_mapping", (code,), count, share, notes=(note,))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _has_moe(population: Mapping[str, PopulationEstimate], total: PopulationEstimate) -> bool:
    return total.margin_of_error is not None or any(
        p.margin_of_error is not None for p in population.values()
    )


def _methods(has_moe: bool) -> dict[str, str]:
    population_error = (
        "The ACS margins of error (90%) are turned into standard errors (MOE / 1.645), carried "
        "to shares and ratios by the Census Bureau's formulas (ACS handbook 2020, ch. 8), and "
        "added to the intervals by MOVER on the log scale (Zou & Donner 2008)."
        if has_moe
        else "The population counts have no margin of error (a census count); the intervals "
        "reflect only the randomness of the event counts."
    )
    return {
        "rate_interval": GARWOOD + (f", {MOVER}" if has_moe else ""),
        "rate_ratio_interval": CONDITIONAL + (f", {MOVER}" if has_moe else ""),
        "population_error": population_error,
        "reliability": "A rate is not reliable when it rests on fewer than min_events events or on "
        "a population estimate with a coefficient of variation over the limit; it is shown anyway.",
    }
