"""Analyses of datasets published only as counts: from the protected tables, or refused.

An analysis of a counts-only dataset reads the release's protected tables
(:mod:`openblotter.services.disclosure_tables`) and hides every figure made
from a hidden cell (a share, a rate, a ratio, a note that quotes it), and every
figure that would tell a reader a sum of hidden cells (the benchmark's
reference rate). An analysis that cannot be answered from those tables is
refused with a 400.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from openblotter.analysis.suppression import Status
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure, disclosure_serving
from openblotter.services.portal import Portal


def refuse_analysis(portal: Portal, dataset_id: str, analysis: str) -> None:
    """Refuse an analysis that does not yet read a counts-only dataset's protected tables."""
    if not disclosure.aggregates_only(portal, dataset_id):
        return
    raise InvalidInput(
        f"Dataset '{dataset_id}' is published only as counts, and the {analysis} would publish "
        "counts outside its protected tables, which could give hidden counts away. Use the "
        "community benchmark, the race pairs, the representation index, the funnel plots, the "
        "outcome tables, or the dataset's facets and aggregates.",
        detail={"dataset": dataset_id, "access": "aggregates", "analysis": analysis},
    )


def race_pairs(portal: Portal, dataset_id: str, filters: list[tuple[str, str]]) -> dict[str, Any]:
    """Officer race by subject race from the protected two-way table, with hidden cells hidden.

    A share divides by a total; it is hidden when the cell or that total is.
    """
    from openblotter.analysis.representation import race_pair_table

    pair = ["officer_race", "subject_race"]
    counts, hidden = disclosure_serving.analysis_table(portal, dataset_id, pair, filters)
    officers = disclosure_serving.analysis_table(portal, dataset_id, pair[:1], filters)[1]
    subjects = disclosure_serving.analysis_table(portal, dataset_id, pair[1:], filters)[1]
    frame = pl.DataFrame(
        [{"officer_race": o, "subject_race": s, "count": n} for (o, s), n in counts.items()],
        schema={"officer_race": pl.String, "subject_race": pl.String, "count": pl.Int64},
    )
    table = race_pair_table(
        frame, officer_column="officer_race", subject_column="subject_race", count_column="count"
    ).to_dict()
    hidden_officers = {_unknown(k[0]) for k in officers}
    hidden_subjects = {_unknown(k[0]) for k in subjects}
    hidden_cells = {(_unknown(o), _unknown(s)) for o, s in hidden}
    cells = []
    for cell in table["cells"]:
        key = (cell["officer_group"], cell["subject_group"])
        status: Status = "primary" if key in hidden_cells else "published"
        row = disclosure.hidden_row(cell, _PAIR_FIGURES, status)
        if key[0] in hidden_officers:
            row["share_of_officer_group"] = None
        if key[1] in hidden_subjects:
            row["share_of_subject_group"] = None
        cells.append(row)
    return {
        "dataset": dataset_id,
        "event_unit": COUNTS_ONLY_UNIT,
        **table,
        "cells": cells,
        "officer_totals": {
            k: None if k in hidden_officers else v for k, v in table["officer_totals"].items()
        },
        "subject_totals": {
            k: None if k in hidden_subjects else v for k, v in table["subject_totals"].items()
        },
        "suppression": disclosure_serving.suppression(portal, len(hidden_cells)),
    }


def _unknown(value: Any) -> str:
    return "Unknown" if value is None else str(value)


#: The figures of an officer-subject cell that reveal its count.
_PAIR_FIGURES = ("count", "share_of_all", "share_of_officer_group", "share_of_subject_group")


#: The figures of a benchmark row that reveal its count of events.
_BENCHMARK_FIGURES = (
    "events",
    "share_of_events",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "rate_ratio",
    "ci_low",
    "ci_high",
)
#: Figures that divide by the reference group's events.
_RATIO_FIGURES = ("rate_ratio", "ci_low", "ci_high")
COUNTS_ONLY_UNIT = (
    "one row of the dataset (a dataset published only as counts publishes counts of rows, "
    "from its protected tables)"
)


def benchmark_events(
    portal: Portal, dataset_id: str, by: str, filters: list[tuple[str, str]]
) -> tuple[Counter[str | None], set[str | None]]:
    """Events per department code from the release's protected tables, and the hidden codes.

    A code made of several cells (race with a separate ethnicity) is hidden when
    any of them is: publishing the sum of hidden cells would tell a reader more.
    """
    from openblotter.analysis.census_mapping import combine_race_ethnicity

    ethnicity = by == "subject_race" and "subject_ethnicity" in _dimensions(portal, dataset_id)
    group = [by, "subject_ethnicity"] if ethnicity else [by]
    counts, hidden = disclosure_serving.analysis_table(portal, dataset_id, group, filters)
    events: Counter[str | None] = Counter()
    hidden_codes: set[str | None] = set()
    for key, n in counts.items():
        code = key[0]
        if ethnicity:
            code = combine_race_ethnicity(key[0], key[1]) or key[0]
        events[code] += n
        if key in hidden:
            hidden_codes.add(code)
    return events, hidden_codes


def _dimensions(portal: Portal, dataset_id: str) -> tuple[str, ...]:
    from openblotter.services.disclosure_tables import counts_tables

    return counts_tables(portal, dataset_id).dimensions


def protect_benchmark(
    portal: Portal, result: dict[str, Any], hidden_codes: set[str | None]
) -> dict[str, Any]:
    """A benchmark with every figure made from a hidden cell hidden.

    A row is hidden when any of its department codes is. The reference rate of
    all residents divides the events of every group compared with residents:
    it is published only when it is a sum a reader can already work out (the
    hidden codes all inside the compared groups, or all outside them); the
    rate ratios and their intervals divide by it and go with it.
    """
    rows = []
    for row in result["rows"]:
        hidden = any(code in hidden_codes for code in row["department_codes"])
        status: Status = "primary" if hidden else "published"
        rows.append(
            disclosure.hidden_row(row, _BENCHMARK_FIGURES, status, reliable=False, notes=[])
        )
    compared = {
        c
        for row in result["rows"]
        if row["placement"] == "category"
        for c in row["department_codes"]
    }
    inside = {code in compared for code in hidden_codes}
    reference_row = next((r for r in rows if r["group"] == result.get("reference")), None)
    reference_hidden = len(inside) > 1 if reference_row is None else "suppressed" in reference_row
    protected = {
        **result,
        "event_unit": COUNTS_ONLY_UNIT,
        "rows": rows,
        "suppression": disclosure_serving.suppression(
            portal, sum("suppressed" in row for row in rows)
        ),
    }
    if reference_hidden:
        protected["reference_rate_per_1000"] = None
        protected["rows"] = [{**row, **dict.fromkeys(_RATIO_FIGURES)} for row in rows]
    return protected


#: A funnel unit's figures that show its count.
_UNIT_FIGURES = ("events", "rate", "position")
#: Values of a funnel's ``by`` that place an event nowhere (services/funnel.py).
_UNPLACED = (None, "", "Unknown")


def funnel_groups(
    portal: Portal, dataset_id: str, by: str, filters: list[tuple[str, str]]
) -> tuple[list[dict[str, Any]], set[str]]:
    """Events per unit (the aggregate's shape) from the protected table, and the hidden units."""
    counts, hidden = disclosure_serving.analysis_table(portal, dataset_id, [by], filters)
    groups = [{by: key[0], "count": n} for key, n in counts.items()]
    return groups, {str(key[0]) for key in hidden}


def protect_funnel(portal: Portal, result: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """A funnel with hidden units hidden, and its target hidden when it would give a sum away.

    The target rate is the placed events over the exposure: a sum of cells. It
    is published only when it is one a reader can already work out (the hidden
    cells all placed, or all unplaced); the expected events, the limits and the
    positions are made from it and go with it.
    """
    units = []
    for unit in result["units"]:
        if unit["unit"] in hidden:
            unit = {**unit, **dict.fromkeys(_UNIT_FIGURES), "suppressed": "primary"}
        units.append(unit)
    placed = {name not in {str(u) for u in _UNPLACED} for name in hidden}
    protected = {
        **result,
        "event_unit": COUNTS_ONLY_UNIT,
        "units": units,
        "suppression": disclosure_serving.suppression(
            portal, sum("suppressed" in u and u["suppressed"] is not None for u in units)
        ),
    }
    if False in placed:
        protected["unplaced_events"] = None
    if len(placed) > 1:
        protected.update(target_rate=None, beyond_99_8=None)
        protected["units"] = [
            {
                k: (None if k.startswith("limit_") or k in ("expected_events", "position") else v)
                for k, v in u.items()
            }
            for u in units
        ]
    return protected


#: The subsets of staff a representation shows beside all staff, when they are dimensions.
_STAFF_SUBSETS = ("employee_type", "rank")
#: Figures of a representation row that divide by the subset's staff with a known group.
_SHARE_FIGURES = ("share_of_staff", "representation_index")


def representation(
    portal: Portal, dataset_id: str, filters: list[tuple[str, str]]
) -> dict[str, Any]:
    """Staff by race against residents from the protected tables, hidden figures hidden.

    All staff is the one-way table of officer race; each employee type and rank
    is a row of its two-way table with officer race. A group is hidden when any
    of its codes is. Every share divides by the subset's staff with a known
    group, so the shares, the indexes and ``staff_known`` are published only
    when that sum is one a reader can already work out (the hidden codes all
    inside the compared groups, or all outside).
    """
    from openblotter.analysis.representation import representation_index
    from openblotter.services.residents import race_mapping, residents_by_group

    dims = _dimensions(portal, dataset_id)
    if "officer_ethnicity" in dims or "measure" in dims or "quarter" in dims:
        # Its tables would add up several snapshots, or authorized and actual staff.
        raise InvalidInput(
            f"Dataset '{dataset_id}' records ethnicity apart from race, several measures "
            "(authorized, actual) or several snapshot dates; its published tables do not keep "
            "them apart by rank, so the representation index is not available as counts. "
            "Publish one snapshot of actual staff per release.",
            detail={"dataset": dataset_id, "access": "aggregates"},
        )
    mapping = race_mapping(portal)
    population, total, source = residents_by_group(portal, "race_ethnicity")
    subsets = _staff_subsets(portal, dataset_id, dims, filters)
    results = []
    hidden_rows = 0
    for subset, staff, codes, total_hidden in subsets:
        result = representation_index(
            staff,
            population,
            mapping=mapping,
            total_population=total,
            **({"subset": subset} if subset else {}),
        ).to_dict()
        protected = _protect_subset(result, mapping, codes, total_hidden)
        hidden_rows += sum("suppressed" in row for row in protected["rows"])
        results.append(protected)
    return {
        "dataset": dataset_id,
        "as_of": None,
        "population_source": source,
        "event_unit": COUNTS_ONLY_UNIT,
        "results": results,
        "suppression": disclosure_serving.suppression(portal, hidden_rows),
    }


Subset = tuple[str | None, dict[str | None, int], set[str | None], bool]


def _staff_subsets(
    portal: Portal, dataset_id: str, dims: tuple[str, ...], filters: list[tuple[str, str]]
) -> list[Subset]:
    """(subset label, staff by code, hidden codes, total hidden) for all staff and each
    employee type and rank, from the protected tables."""
    counts, hidden = disclosure_serving.analysis_table(
        portal, dataset_id, ["officer_race"], filters
    )
    subsets: list[Subset] = [
        (None, {k[0]: n for k, n in counts.items()}, {k[0] for k in hidden}, False)
    ]
    for column in (c for c in _STAFF_SUBSETS if c in dims):
        pairs, hidden_pairs = disclosure_serving.analysis_table(
            portal, dataset_id, [column, "officer_race"], filters
        )
        margin = disclosure_serving.analysis_table(portal, dataset_id, [column], filters)[1]
        for value in dict.fromkeys(k[0] for k in pairs):
            name = f"{column}: {'Unknown' if value is None else value}"
            staff = {k[1]: n for k, n in pairs.items() if k[0] == value}
            codes = {k[1] for k in hidden_pairs if k[0] == value}
            subsets.append((name, staff, codes, (value,) in margin))
    return subsets


def _protect_subset(
    result: dict[str, Any], mapping: Any, codes: set[str | None], total_hidden: bool
) -> dict[str, Any]:
    places = {code: mapping.place(code) for code in codes}
    groups = {
        category
        if placement == "category" and category
        else ("Unknown" if placement == "unknown" else str(code))
        for code, (placement, category) in places.items()
    }
    rows = [
        disclosure.hidden_row(
            row,
            ("staff", *_SHARE_FIGURES),
            "primary" if row["group"] in groups else "published",
            notes=[],
        )
        for row in result["rows"]
    ]
    inside = {placement == "category" for placement, _ in places.values()}
    protected = {**result, "rows": rows}
    if total_hidden:
        protected["staff_total"] = None
    if len(inside) > 1 or total_hidden:
        protected["staff_known"] = None
        protected["rows"] = [{**row, **dict.fromkeys(_SHARE_FIGURES)} for row in rows]
    return protected
