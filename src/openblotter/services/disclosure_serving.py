"""Facets and aggregates of a counts-only dataset, answered from its protected tables only.

A request is answered when it reads one published table
(:mod:`openblotter.services.disclosure_tables`): a facet or a group of one
dimension, a group of two dimensions that form a two-way table, or one of
those under one ``dimension=value`` filter that picks a row of a two-way
table. Anything else (other filters, ``_q``, sums, averages, extremes, a
column that is not a dimension) is refused with a 400 that lists what can be
asked. Hidden cells come last, in alphabetical order, without counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import Filter, GroupKey, QuerySpec
from openblotter.domain.query.parse import parse_query
from openblotter.services import reading
from openblotter.services.disclosure_tables import (
    PERIODS,
    YEAR,
    CountsTables,
    counts_tables,
)
from openblotter.services.portal import Portal

Params = list[tuple[str, str]]

NOTE = (
    "Counts from 1 to {last} are hidden, and so are the counts that would let a reader work "
    "them out from everything else this dataset publishes: its fixed set of tables is protected "
    "together, so no hidden count can be narrowed to fewer than {interval} values."
)


def suppression(portal: Portal, hidden: int) -> dict[str, Any]:
    """What a protected response says about its hidden counts."""
    settings = portal.settings
    return {
        "threshold": settings.aggregates_threshold,
        "interval": settings.aggregates_interval,
        "hidden": hidden,
        "method": "primary and complementary cell suppression, audited by linear programming "
        "over every published table",
        "note": NOTE.format(
            last=settings.aggregates_threshold - 1, interval=settings.aggregates_interval + 1
        ),
    }


def _refuse(dataset_id: str, what: str, tables: CountsTables) -> InvalidInput:
    pairs = [",".join(t) for t in tables.tables if len(t) == 2]
    return InvalidInput(
        f"Dataset '{dataset_id}' is published only as counts, from a fixed set of tables; {what} "
        f"Group or facet by one of: {', '.join(tables.dimensions)}; or by two that form a table: "
        f"{'; '.join(pairs) or 'none'}; with at most one filter dimension=value on the other "
        "column of such a table.",
        detail={
            "dataset": dataset_id,
            "dimensions": list(tables.dimensions),
            "tables": pairs,
            "filters": "one dimension=value",
        },
    )


def _dimension(key: GroupKey, tables: CountsTables, dataset_id: str) -> str:
    name = key.name if key.part is not None else key.column
    if name not in tables.dimensions or (key.part not in (None, *PERIODS)):
        raise _refuse(dataset_id, f"'{key.name}' is not one of its dimensions.", tables)
    return name


def _filter(spec: QuerySpec, tables: CountsTables, dataset_id: str) -> tuple[str, Any] | None:
    """The one ``dimension=value`` filter of a request, or None."""
    if spec.search:
        raise _refuse(dataset_id, "_q (text search) reads rows, so it is not available.", tables)
    if len(spec.filters) > 1:
        raise _refuse(dataset_id, "give at most one filter.", tables)
    if not spec.filters:
        return None
    item: Filter = spec.filters[0]
    if (
        item.operator not in ("eq", "in")
        or len(item.values) != 1
        or item.part not in (None, *PERIODS)
    ):
        raise _refuse(dataset_id, "a filter must be dimension=one value.", tables)
    name = item.part if item.part is not None else item.column
    if name not in tables.dimensions:
        raise _refuse(
            dataset_id, f"'{item.parameter or name}' is not one of its dimensions.", tables
        )
    value = item.values[0]
    if item.part == "quarter":
        start = value[0]
        value = f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    elif item.part == YEAR:
        value = value[0].year
    return name, value


def _slice(
    tables: CountsTables, dataset_id: str, group: list[str], where: tuple[str, Any] | None
) -> tuple[dict[tuple[Any, ...], int | None], dict[tuple[Any, ...], str], int | None]:
    """The cells of ``group`` under ``where``: counts (None hidden), statuses, and their total."""
    if where is not None and where[0] in group:
        raise _refuse(dataset_id, "a filter on a grouped column is not available.", tables)
    dims = [*group, where[0]] if where else group
    if len(dims) > 2:
        raise _refuse(dataset_id, "its tables have at most two columns.", tables)
    name = tables.table(dims)
    if name is None or tables.withheld(name):
        raise _refuse(dataset_id, f"there is no published table of {', '.join(dims)}.", tables)
    at = [name.index(d) for d in group]
    cells, statuses = {}, {}
    for key, value in tables.cells(name).items():
        if where is not None and key[name.index(where[0])] != where[1]:
            continue
        if tables.protected.counts[name][key] == 0:
            continue
        cells[tuple(key[i] for i in at)] = value
        statuses[tuple(key[i] for i in at)] = tables.status(name, key)
    if where is None:
        total: int | None = tables.total
    else:
        margin = tables.table([where[0]])
        total = tables.protected.value(margin, (where[1],)) if margin else None
    return cells, statuses, total


def _ordered(
    cells: dict[tuple[Any, ...], int | None], order: list[tuple[int | None, bool]]
) -> list[tuple[Any, ...]]:
    """Published cells sorted by ``order`` ((position or None for the count, descending)),
    then by value; hidden cells last, alphabetically (their place would hint at their size)."""
    shown = sorted((k for k, v in cells.items() if v is not None), key=_alphabetical)
    hidden = sorted((k for k, v in cells.items() if v is None), key=_alphabetical)
    for position, descending in reversed(order):
        if position is None:
            shown.sort(key=lambda k: cells[k] or 0, reverse=descending)
        else:
            at = position
            present = [k for k in shown if k[at] is not None]
            blank = [k for k in shown if k[at] is None]
            present.sort(key=lambda k: _sortable(k[at]), reverse=descending)
            shown = present + blank
    return shown + hidden


def _alphabetical(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_sortable(v) for v in key)


def _sortable(value: Any) -> tuple[int, str]:
    return (1, "") if value is None else (0, str(value))


def facets(
    portal: Portal, dataset_id: str, params: Params, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """Facet counts (the query service's shape) from the protected tables.

    ``columns`` (a page's chart candidates) are kept when they are dimensions;
    a ``_facet`` the reader asks for must be one.
    """
    t = reading.target(portal, dataset_id, params)
    tables = counts_tables(portal, dataset_id, t.release.label)
    extra = [("_facet", c) for c in columns or () if c in tables.dimensions]
    spec = parse_query([*params, *extra], t.schema)
    where = _filter(spec, tables, dataset_id)
    out: dict[str, Any] = {}
    hidden = 0
    total: int | None = tables.total
    for key in spec.facets:
        name = _dimension(key, tables, dataset_id)
        cells, statuses, total = _slice(tables, dataset_id, [name], where)
        order = _ordered(cells, [(None, True)])
        values = [_facet_value(k[0], cells[k], statuses[k]) for k in order]
        hidden += sum(v is None for v in cells.values())
        out[key.name] = {
            "values": values,
            "distinct": len(values),
            "truncated_values": 0,
            "truncated": False,
        }
    if not spec.facets and where is not None:
        margin = tables.table([where[0]])
        total = tables.protected.value(margin, (where[1],)) if margin else None
    return {
        "facets": out,
        "total": total,
        "release": t.release.label,
        "synthetic": t.dataset.synthetic,
        "suppression": suppression(portal, hidden + (total is None)),
    }


def _facet_value(value: Any, count: int | None, status: str) -> dict[str, Any]:
    if count is None:
        return {"value": value, "count": None, "suppressed": status}
    return {"value": value, "count": count}


def aggregate(portal: Portal, dataset_id: str, params: Params) -> dict[str, Any]:
    """Grouped counts (the query service's shape) from the protected tables."""
    t = reading.target(portal, dataset_id, params)
    tables = counts_tables(portal, dataset_id, t.release.label)
    spec = parse_query(params, t.schema)
    other = [a.name for a in spec.aggregates if a.function != "count"]
    if other:
        raise _refuse(dataset_id, f"only counts are published, not {', '.join(other)}.", tables)
    where = _filter(spec, tables, dataset_id)
    group = [_dimension(k, tables, dataset_id) for k in spec.group]
    names = [k.name for k in spec.group]
    cells, statuses, total = _slice(tables, dataset_id, group, where)
    if not group:
        cells, statuses = {(): total}, {(): "published" if total is not None else "primary"}
    order = [
        (None if k.column == "count" else names.index(k.column), k.descending) for k in spec.sort
    ]
    groups = [_group(names, key, cells[key], statuses[key]) for key in _ordered(cells, order)]
    shown = groups[: spec.size] if spec.size_given else groups
    return {
        "groups": shown,
        "total_groups": len(groups),
        "truncated": len(shown) < len(groups),
        "release": t.release.label,
        "synthetic": t.dataset.synthetic,
        "suppression": suppression(portal, sum(v is None for v in cells.values())),
    }


def _group(
    names: list[str], key: tuple[Any, ...], count: int | None, status: str
) -> dict[str, Any]:
    row: dict[str, Any] = {**dict(zip(names, key, strict=True)), "count": count}
    if count is None:
        row["suppressed"] = status
    return row


# --- analyses ------------------------------------------------------------------------------

#: Period parameters of the analyses that cover a whole release are not filters.
_PERIODS = ("year", "quarter")


def analysis_table(
    portal: Portal, dataset_id: str, group: list[str], filters: Params
) -> tuple[dict[tuple[Any, ...], int], set[tuple[Any, ...]]]:
    """The true counts of a published table for an analysis, and which of its cells are hidden.

    The analysis must hide every figure made from a hidden cell. A period that
    covers the whole release is no filter; one ``dimension=value`` filter (a
    year: ``period=2025``) reads a row of a two-way table; other filters are
    refused.
    """
    label = next((v for k, v in filters if k == "_release"), None)
    t = reading.target(portal, dataset_id, [("_release", label)] if label else [])
    tables = counts_tables(portal, dataset_id, t.release.label)
    rest = [(k, v) for k, v in filters if k != "_release"]
    periods = [(k, v) for k, v in rest if k in PERIODS]
    if periods and _covers_release(tables, periods):
        rest = [(k, v) for k, v in rest if k not in PERIODS]
    where = _filter(parse_query(rest, t.schema), tables, dataset_id) if len(rest) == 1 else None
    if len(rest) > 1:
        raise _refuse(
            dataset_id,
            "its analyses read the published tables, so at most one filter (a year, or one "
            "dimension=value) is available, and periods of several quarters only when they "
            "cover the whole release.",
            tables,
        )
    for name in group:
        if name not in tables.dimensions:
            raise _refuse(dataset_id, f"'{name}' is not one of its dimensions.", tables)
    dims = [*group, where[0]] if where else group
    table = tables.table(dims)
    if table is None or tables.withheld(table):
        raise _refuse(dataset_id, f"there is no published table of {', '.join(dims)}.", tables)
    at = [table.index(d) for d in group]
    counts: dict[tuple[Any, ...], int] = {}
    hidden: set[tuple[Any, ...]] = set()
    for key, n in tables.protected.counts[table].items():
        if where is not None and key[table.index(where[0])] != where[1]:
            continue
        mine = tuple(key[i] for i in at)
        counts[mine] = n
        if tables.protected.value(table, key) is None:
            hidden.add(mine)
    return counts, hidden


def _covers_release(tables: CountsTables, periods: Params) -> bool:
    """Whether period filters (year=2016, quarter=2016-Q1 ...) take in every quarter of the release."""
    quarters = tables.quarters
    if not quarters:
        return False
    years = {v for k, v in periods if k == "year"}
    chosen = {v for k, v in periods if k == "quarter"}
    return all(q[:4] in years or q in chosen for q in quarters)
