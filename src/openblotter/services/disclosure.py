"""Datasets published only as counts: rows withheld, small counts hidden so they stay hidden.

A portal lists such datasets in the ``aggregates_only_datasets`` setting. For them:

- rows, downloads, release files and row-level diffs are refused (403) with a
  message that points to the counts;
- every count the query API returns (facets, aggregates) from 1 to
  ``threshold - 1`` is hidden (primary suppression), and so is every count that
  would let a reader work a hidden one out from the published totals
  (complementary suppression, :mod:`openblotter.analysis.suppression`); the
  other aggregates of a hidden group (sums, averages) are hidden with it;
- a count under filters is itself a cell: a filtered total below the threshold
  is hidden, and every group under it;
- minimum and maximum, which are one person's value, are refused.

Each response is protected on its own, assuming every total of its table is
published. A reader who combines many differently filtered queries of the same
table may narrow a hidden count down; the response says so in its note.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from openblotter.analysis.suppression import Status, suppress_counts
from openblotter.domain.errors import Forbidden, InvalidInput
from openblotter.domain.query import Aggregate, QuerySpec
from openblotter.domain.schema import TableSchema
from openblotter.services.portal import Portal
from openblotter.storage.engine import QueryEngine

#: Group-by fields an aggregates-only table may have: the complementary method is for two-way tables.
MAX_PROTECTED_GROUPS = 2

NOTE = (
    "Counts from 1 to {last} are hidden, and so are the counts that would let them be worked "
    "out from the totals (complementary suppression). Each response is protected on its own: "
    "combining many differently filtered requests can narrow a hidden count down."
)

Key = tuple[Any, ...]
#: The changelog's counts of rows between two releases.
ROW_CHANGES = ("added", "removed", "changed")


def aggregates_only(portal: Portal, dataset_id: str) -> bool:
    """Whether the dataset is published only as counts."""
    return portal.settings.aggregates_only(dataset_id)


def threshold_for(portal: Portal, dataset_id: str) -> int:
    """The suppression threshold of a dataset's analysis tables (0: no suppression)."""
    if aggregates_only(portal, dataset_id):
        return portal.settings.aggregates_threshold
    return portal.settings.suppression_threshold


def refuse_rows(portal: Portal, dataset_id: str) -> None:
    """Raise :class:`Forbidden` when the dataset's rows are not public."""
    if not aggregates_only(portal, dataset_id):
        return
    api = f"/api/v1/datasets/{dataset_id}"
    raise Forbidden(
        f"Dataset '{dataset_id}' is published only as counts: its rows, downloads and release "
        f"files are not public. Ask for counts instead, e.g. {api}/aggregate?_group=quarter "
        f"or {api}/facets?_facet=FIELD.",
        detail={
            "dataset": dataset_id,
            "access": "aggregates",
            "links": {"aggregate": f"{api}/aggregate", "facets": f"{api}/facets"},
        },
    )


def protect_manifest(portal: Portal, dataset_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """A release manifest without what counts or quotes rows, when the rows are not public.

    The validation report quotes rows by number and counts blanks and codes per
    field, and the changelog counts rows added, removed and changed: both stay
    with the publisher (``openblotter publish --report``, ``openblotter releases``).
    """
    if not aggregates_only(portal, dataset_id):
        return manifest
    return {
        **manifest,
        "report": {
            "withheld": "This dataset is published only as counts; its validation report "
            "quotes and counts rows, so it is kept by the publisher."
        },
        "changelog": without_row_changes(manifest.get("changelog")),
    }


def without_row_changes(changelog: dict[str, Any] | None) -> dict[str, Any]:
    """A changelog without its counts of rows added, removed and changed (counts of rows too)."""
    return {k: v for k, v in (changelog or {}).items() if k not in ROW_CHANGES}


def suppression(portal: Portal, hidden: int) -> dict[str, Any]:
    """What a protected response says about its hidden counts."""
    threshold = portal.settings.aggregates_threshold
    return {
        "threshold": threshold,
        "hidden": hidden,
        "method": "primary and complementary cell suppression",
        "note": NOTE.format(last=threshold - 1),
    }


# --- facets ------------------------------------------------------------------------


def protect_facets(portal: Portal, result: dict[str, Any]) -> dict[str, Any]:
    """Facet counts (the engine's shape) with small counts and their complements hidden."""
    threshold = portal.settings.aggregates_threshold
    total = int(result["total"])
    whole_table_small = 0 < total < threshold
    hidden = 0
    facets: dict[str, Any] = {}
    for name, info in result["facets"].items():
        counts = [int(v["count"]) for v in info["values"]]
        statuses = list_statuses(counts, threshold, total)
        values = [
            hidden_row({"value": v["value"], "count": count}, ("count",), status)
            for v, count, status in zip(info["values"], counts, statuses, strict=True)
        ]
        hidden += sum(status != "published" for status in statuses)
        facets[name] = {**info, "values": values}
    return {
        "facets": facets,
        "total": None if whole_table_small else total,
        "suppression": suppression(portal, hidden + whole_table_small),
    }


def list_statuses(counts: list[int], threshold: int, total: int | None = None) -> list[Status]:
    """Which items of a list with a published total to hide; all of them when the total
    (default: the items' sum) is itself a small count."""
    whole = sum(counts) if total is None else total
    if 0 < whole < threshold:
        return ["primary"] * len(counts)
    protected = suppress_counts({str(i): c for i, c in enumerate(counts)}, threshold=threshold)
    return [item.status for item in protected.items]


def hidden_row(
    row: dict[str, Any], figures: tuple[str, ...], status: Status, **extra: Any
) -> dict[str, Any]:
    """``row`` with ``figures`` blanked and marked ``suppressed``; unchanged when published."""
    if status == "published":
        return row
    return {**row, **dict.fromkeys(figures), "suppressed": status, **extra}


# --- aggregates --------------------------------------------------------------------


def check_aggregate(dataset_id: str, spec: QuerySpec) -> None:
    """Refuse what suppression cannot protect: more than two groupings, minimum and maximum."""
    if len(spec.group) > MAX_PROTECTED_GROUPS:
        raise InvalidInput(
            f"Dataset '{dataset_id}' is published only as counts, and this portal protects small "
            f"counts in tables of at most {MAX_PROTECTED_GROUPS} groupings: give at most "
            f"{MAX_PROTECTED_GROUPS} fields in _group.",
            detail={"parameter": "_group", "allowed": f"1..{MAX_PROTECTED_GROUPS} fields"},
        )
    extremes = [a.name for a in spec.aggregates if a.function in ("min", "max")]
    if extremes:
        raise InvalidInput(
            f"Dataset '{dataset_id}' is published only as counts; a minimum or maximum is one "
            f"person's value, so {', '.join(extremes)} is not available. Use count, sum or avg.",
            detail={"parameter": "_agg", "allowed": ["count", "sum:col", "avg:col"]},
        )


def protect_aggregate(
    portal: Portal, engine: QueryEngine, path: Path, schema: TableSchema, spec: QuerySpec
) -> dict[str, Any]:
    """The aggregate result with hidden groups: ``{"groups", "total_groups", "truncated", "suppression"}``."""
    threshold = portal.settings.aggregates_threshold
    names = [k.name for k in spec.group]
    asked = spec.aggregates or (Aggregate("count"),)
    outputs = [a.name for a in asked]
    # One pass: the asked aggregates, the count behind each group, every group (no _size cut).
    counted = asked if "count" in outputs else (*asked, Aggregate("count"))
    result = engine.aggregate(path, schema, replace(spec, aggregates=counted, size_given=False))
    if result.truncated:
        raise InvalidInput(
            f"There are more than {len(result.groups):,} groups, too many to protect small "
            "counts in; filter the rows or group by fewer or coarser fields.",
            detail={"parameter": "_group", "groups": result.total_groups},
        )
    counts = {tuple(g[n] for n in names): int(g["count"]) for g in result.groups}
    statuses = cell_statuses(counts, len(names), threshold)
    groups = []
    for group in result.groups:
        key = tuple(group[n] for n in names)
        status = statuses.get(key, "published")
        if status != "published":
            group = _hidden_group(names, key, outputs, status)
        elif "count" not in outputs:
            group = {k: v for k, v in group.items() if k != "count"}
        groups.append(group)
    zeros = [
        _hidden_group(names, key, outputs, status)
        for key, status in statuses.items()
        if key not in counts and status != "published"
    ]
    if zeros:
        order = [(k.column, k.descending) for k in spec.sort] + [(n, False) for n in names]
        groups = _sorted(groups + zeros, order)
    groups = _hidden_last(groups, spec)
    shown = groups[: spec.size] if spec.size_given else groups
    return {
        "groups": shown,
        "total_groups": result.total_groups + len(zeros),
        "truncated": len(shown) < result.total_groups + len(zeros),
        "suppression": suppression(portal, sum(s != "published" for s in statuses.values())),
    }


def _hidden_group(names: list[str], key: Key, outputs: list[str], status: Status) -> dict[str, Any]:
    return {**dict(zip(names, key, strict=True)), **dict.fromkeys(outputs), "suppressed": status}


def _sorted(groups: list[dict[str, Any]], order: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Groups sorted like the engine sorts them: by each key in turn, blanks last."""
    for name, descending in reversed(order):
        present = [g for g in groups if g.get(name) is not None]
        blank = [g for g in groups if g.get(name) is None]
        present.sort(key=lambda g: g[name], reverse=descending)  # stable: earlier keys hold
        groups = present + blank
    return groups


def cell_statuses(counts: dict[Key, int], width: int, threshold: int) -> dict[Key, Status]:
    """Which cells of a table of ``width`` groupings to publish or hide (and why)."""
    total = sum(counts.values())
    if 0 < total < threshold:
        return dict.fromkeys(counts, "primary")
    if width == 0 or not counts:
        return dict.fromkeys(counts, "published")
    if width == 1:
        keys = list(counts)
        return dict(zip(keys, list_statuses(list(counts.values()), threshold), strict=True))
    return _table_statuses(counts, threshold)


def _table_statuses(counts: dict[Key, int], threshold: int) -> dict[Key, Status]:
    """Two-way protection; a table one row or column wide is a list with its total."""
    rows = list(dict.fromkeys(k[0] for k in counts))
    columns = list(dict.fromkeys(k[1] for k in counts))
    if len(rows) == 1 or len(columns) == 1:
        keys = list(counts)
        return dict(zip(keys, list_statuses(list(counts.values()), threshold), strict=True))
    from openblotter.analysis.suppression import suppress_table

    table = [[counts.get((r, c), 0) for c in columns] for r in rows]
    labels_r, labels_c = [str(i) for i in range(len(rows))], [str(j) for j in range(len(columns))]
    try:
        protected = suppress_table(
            table, rows=labels_r, columns=labels_c, threshold=threshold, with_ranges=False
        )
    except InvalidInput:
        # A small cell that its totals give away whatever else is hidden: hide the whole table.
        return dict.fromkeys(counts, "complementary")
    # A hidden zero is returned too: leaving its group out would say it is zero.
    return {
        (rows[int(cell.row)], columns[int(cell.column)]): cell.status
        for cell in protected.cells
        if cell.status != "published" or (rows[int(cell.row)], columns[int(cell.column)]) in counts
    }


def _hidden_last(groups: list[dict[str, Any]], spec: QuerySpec) -> list[dict[str, Any]]:
    """When sorted by an aggregate, hidden groups go last (their place would hint at their size)."""
    names = {k.name for k in spec.group}
    if not any(key.column not in names for key in spec.sort):
        return groups
    return [g for g in groups if "suppressed" not in g] + [g for g in groups if "suppressed" in g]
