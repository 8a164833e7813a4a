"""Analysis results of datasets published only as counts, with their small counts hidden.

The same rules as the query API's (:mod:`openblotter.services.disclosure`):
counts from 1 to the threshold minus one are hidden, with the counts that would
give them away from the published totals, and every figure made from a hidden
count (a share, a rate, a ratio, a note that quotes it) is hidden with it.
"""

from __future__ import annotations

from typing import Any

from openblotter.services import disclosure
from openblotter.services.portal import Portal

#: The figures of an officer-subject cell that reveal its count.
_PAIR_FIGURES = ("count", "share_of_all", "share_of_officer_group", "share_of_subject_group")


def protect_pairs(portal: Portal, table: dict[str, Any]) -> dict[str, Any]:
    """An officer-by-subject table (``PairTable.to_dict()``) with small cells and totals hidden."""
    threshold = portal.settings.aggregates_threshold
    counts = {(c["officer_group"], c["subject_group"]): int(c["count"]) for c in table["cells"]}
    statuses = disclosure.cell_statuses(counts, 2, threshold)
    cells = [
        disclosure.hidden_row(
            cell,
            _PAIR_FIGURES,
            statuses.get((cell["officer_group"], cell["subject_group"]), "published"),
        )
        for cell in table["cells"]
    ]

    def margins(totals: dict[str, int]) -> dict[str, int | None]:
        return {k: None if 0 < v < threshold else v for k, v in totals.items()}

    hidden = sum(s != "published" for s in statuses.values())
    return {
        **table,
        "cells": cells,
        "total": None if 0 < table["total"] < threshold else table["total"],
        "officer_totals": margins(table["officer_totals"]),
        "subject_totals": margins(table["subject_totals"]),
        "suppression": disclosure.suppression(portal, hidden),
    }


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


def protect_benchmark(portal: Portal, result: dict[str, Any]) -> dict[str, Any]:
    """A benchmark with each small group's events, and every figure made from them, hidden."""
    threshold = portal.settings.aggregates_threshold
    total = int(result["events_total"])
    counts = [int(row["events"]) for row in result["rows"]]
    statuses = disclosure.list_statuses(counts, threshold, total)
    rows = [
        # The notes quote the count ("Fewer than 20 events (3)").
        disclosure.hidden_row(row, _BENCHMARK_FIGURES, status, reliable=False, notes=[])
        for row, status in zip(result["rows"], statuses, strict=True)
    ]
    hidden_groups = {row["group"] for row in rows if "suppressed" in row}
    protected = {
        **result,
        "rows": rows,
        "suppression": disclosure.suppression(portal, len(hidden_groups)),
    }
    if 0 < total < threshold:
        protected["events_total"] = None
    if result.get("reference") in hidden_groups:
        # The reference rate is that group's rate, and every ratio divides by it.
        protected["reference_rate_per_1000"] = None
        protected["rows"] = [
            {**row, "rate_ratio": None, "ci_low": None, "ci_high": None} for row in rows
        ]
    return protected


#: The figures of a representation row that reveal its count of staff.
_REPRESENTATION_FIGURES = ("staff", "share_of_staff", "representation_index")


def protect_representation(portal: Portal, result: dict[str, Any]) -> dict[str, Any]:
    """Representation tables with each subset's small staff counts (and complements) hidden.

    Each subset (all staff, sworn, one rank) is protected as a list with its
    total; subsets are nested, so combining them can narrow a hidden count: the
    note says so.
    """
    threshold = portal.settings.aggregates_threshold
    hidden = 0
    results = []
    for subset in result["results"]:
        counts = [int(row["staff"]) for row in subset["rows"]]
        small_subset = 0 < subset["staff_total"] < threshold
        statuses = disclosure.list_statuses(counts, threshold, subset["staff_total"])
        rows = [
            disclosure.hidden_row(row, _REPRESENTATION_FIGURES, status, notes=[])
            for row, status in zip(subset["rows"], statuses, strict=True)
        ]
        hidden += sum(status != "published" for status in statuses)
        totals = {"staff_total": None, "staff_known": None} if small_subset else {}
        results.append({**subset, **totals, "rows": rows})
    protected = disclosure.suppression(portal, hidden)
    protected["note"] += " Subsets of staff (all staff, sworn, a rank) are protected one by one."
    return {**result, "results": results, "suppression": protected}


def protect_darkness(portal: Portal, result: dict[str, Any]) -> dict[str, Any]:
    """Veil of darkness without the group's shares when they stand for small counts of stops.

    The model's odds ratio and interval stay: they are not counts. The shares of
    the group among stops in darkness and in daylight are hidden when the stops
    they stand for (of the group, or of everyone else) are fewer than the threshold,
    and so are small counts of excluded stops.
    """
    threshold = portal.settings.aggregates_threshold
    cells = []
    for share, n in (
        (result["share_in_group_dark"], result["n_dark"]),
        (result["share_in_group_light"], result["n_light"]),
    ):
        in_group = round(share * n) if share is not None else 0
        cells += [in_group, n - in_group]
    small = any(0 < c < threshold for c in cells)
    excluded = {k: None if 0 < v < threshold else v for k, v in result["excluded"].items()}
    hidden = 2 * small + sum(v is None for v in excluded.values())
    protected = {
        **result,
        "excluded": excluded,
        "suppression": disclosure.suppression(portal, hidden),
    }
    if small:
        protected.update(share_in_group_dark=None, share_in_group_light=None)
    return protected
