"""Protect a fixed set of linked count tables together: suppression and a linear-programming audit.

A dataset published only as counts publishes a fixed set of tables: the grand
total, one table per declared dimension and a few two-way tables. Every table
is a margin of one unknown table, the counts of each combination of the
dimensions (the "cube"); a reader who collects every published number can
solve for a hidden cell with a linear program. This module hides cells until
none can be pinned down:

1. primary suppression: every count from 1 to ``threshold - 1``;
2. the audit (the linear-programming audit of tabular statistical disclosure
   control, Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 4):
   for every hidden cell, the smallest and the largest value it can take given
   every published cell of every table, that counts are not negative, and that
   a hidden group a response lists has at least one event — two linear
   programs (``scipy.optimize.linprog``, HiGHS);
3. when that range is narrower than the protection interval, the smallest
   published cell of the same line (then table, then linked table) is hidden
   too, and the cell is audited again. Hiding a cell only removes a constraint,
   so a cell that passed the audit stays protected: one pass suffices.

The unknowns are the counts of every combination of values a reader cannot
rule out, per group of dimensions linked by two-way tables (dimensions that
share only the grand total are independent: any margins with the same total
fit together): a combination is ruled out when a two-way table publishes one
of its pairs as zero, or when a hierarchy (``links``: beat -> district)
excludes it. The audit's reader knows every published cell, that counts are
whole and not negative, and that a listed group has at least one event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from openblotter.domain.checkpoints import checkpoint

Key = tuple[Any, ...]
TableName = tuple[str, ...]
Status = Literal["published", "primary", "complementary"]
#: The most unknowns one audit's linear programs hold (beyond: the combinations seen).
MAX_UNKNOWNS = 20_000
#: Feasible ranges are compared with this slack (the solver's floating point).
_SLACK = 1e-6


@dataclass(frozen=True)
class Cell:
    """One cell of one published table."""

    table: TableName
    key: Key


@dataclass
class ProtectedTables:
    """Every table's counts, which cells are hidden (and why), and each hidden cell's range."""

    threshold: int
    interval: int
    counts: dict[TableName, dict[Key, int]]
    status: dict[Cell, Status] = field(default_factory=dict)
    ranges: dict[Cell, tuple[float, float]] = field(default_factory=dict)
    exposed: set[Cell] = field(default_factory=set)

    def hidden(self, cell: Cell) -> bool:
        return self.status.get(cell, "published") != "published"

    def value(self, table: TableName, key: Key) -> int | None:
        """The published count of a cell, None when hidden (0 for a combination not seen)."""
        if self.hidden(Cell(table, key)):
            return None
        return self.counts[table].get(key, 0)


def protect_linked_tables(
    cube: Sequence[tuple[Mapping[str, Any], int]],
    tables: Iterable[TableName],
    *,
    threshold: int,
    interval: int,
    links: Iterable[TableName] = (),
) -> ProtectedTables:
    """Hide cells of ``tables`` (margins of ``cube``) so no hidden cell is pinned down.

    ``cube`` lists each combination of the dimensions with its count; each name
    of ``tables`` is a tuple of 0 (the grand total), 1 or 2 dimensions.
    ``links`` are pairs of dimensions audited together though no table of the
    pair is published (one determines the other).
    """
    # The same counts in any order give the same pattern: two processes never publish
    # different cells of one release (together they would show more than either).
    cube = sorted(cube, key=lambda item: repr(sorted(item[0].items())))
    names = [tuple(t) for t in dict.fromkeys(tuple(t) for t in tables)]
    if () not in names:
        names.insert(0, ())
    counts = {name: _margin(cube, name) for name in names}
    result = ProtectedTables(threshold, interval, counts)
    total = counts[()].get((), 0)
    if 0 < total < threshold:
        # Every cell is a part of a small total: hide them all.
        for name in names:
            for key in counts[name]:
                result.status[Cell(name, key)] = "primary"
        return result
    linked = [tuple(link) for link in links]
    for component in _components([*names, *linked]):
        _protect_component(cube, names, component, linked, result)
    return result


def _margin(cube: Sequence[tuple[Mapping[str, Any], int]], name: TableName) -> dict[Key, int]:
    out: dict[Key, int] = {}
    for combination, n in cube:
        key = tuple(combination[d] for d in name)
        out[key] = out.get(key, 0) + n
    return out


def _components(names: list[TableName]) -> list[list[str]]:
    """Dimensions linked by two-way tables, as groups (union-find)."""
    parent: dict[str, str] = {}

    def find(d: str) -> str:
        while parent.setdefault(d, d) != d:
            d = parent[d]
        return d

    for name in names:
        for d in name:
            find(d)
        if len(name) == 2:
            parent[find(name[0])] = find(name[1])
    groups: dict[str, list[str]] = {}
    for d in parent:
        groups.setdefault(find(d), []).append(d)
    return list(groups.values())


@dataclass
class _Program:
    """The audit's linear constraints for one group of linked dimensions."""

    dims: list[str]
    members: dict[Cell, np.ndarray]  # 0/1 row: which combinations make up a cell
    counts: dict[Cell, int]

    def bounds(self, cell: Cell, hidden: set[Cell]) -> tuple[float, float]:
        """The smallest and largest value of ``cell`` given every published cell."""
        low, high, _ = self.solve(cell, hidden)
        return low, high

    def solve(self, cell: Cell, hidden: set[Cell]) -> tuple[float, float, list[Cell]]:
        """The range of ``cell`` and the published cells that bound it (by the duals)."""
        from scipy.optimize import linprog  # SciPy: imported on first use

        published = [c for c in self.members if c not in hidden]
        listed = [c for c in hidden if self.counts[c] > 0]
        a_eq = np.array([self.members[c] for c in published]) if published else None
        b_eq = np.array([self.counts[c] for c in published], dtype=float) if published else None
        a_ub = np.array([-self.members[c] for c in listed]) if listed else None
        b_ub = -np.ones(len(listed)) if listed else None
        target = self.members[cell].astype(float)
        options = {"A_ub": a_ub, "b_ub": b_ub, "A_eq": a_eq, "b_eq": b_eq, "bounds": (0, None)}
        low = linprog(target, method="highs", **options)
        high = linprog(-target, method="highs", **options)
        if low.status != 0 or high.status == 1:
            raise RuntimeError(f"the audit's linear program failed: {low.message} {high.message}")
        upper = float("inf") if high.status == 3 else float(-high.fun)
        blocking = [
            c
            for result in (low, high)
            if result.status == 0
            for c, dual in zip(published, result.eqlin.marginals, strict=True)
            if abs(dual) > _SLACK
        ]
        return float(low.fun), upper, list(dict.fromkeys(blocking))


def _program(
    cube: Sequence[tuple[Mapping[str, Any], int]],
    names: list[TableName],
    dims: list[str],
    links: list[TableName],
) -> _Program:
    joint: dict[Key, int] = {}
    for combination, n in cube:
        key = tuple(combination[d] for d in dims)
        joint[key] = joint.get(key, 0) + n
    keys = _grid(list(joint), dims, [p for p in [*names, *links] if len(p) == 2])
    members: dict[Cell, np.ndarray] = {}
    counts: dict[Cell, int] = {}
    for name in names:
        if not name or set(name) <= set(dims):
            at = [dims.index(d) for d in name]
            for index, key in enumerate(keys):
                cell = Cell(name, tuple(key[i] for i in at))
                members.setdefault(cell, np.zeros(len(keys)))[index] = 1.0
                counts[cell] = counts.get(cell, 0) + joint.get(key, 0)
    return _Program(dims, members, counts)


def _grid(seen: list[Key], dims: list[str], pairs: list[TableName]) -> list[Key]:
    """Every combination a reader cannot rule out: any values of the dimensions, except
    pairs a two-way table publishes as zero or a hierarchy excludes (the unknowns of the audit).

    When that grid is too large, the combinations seen in the data are used: the audit
    then knows more than a reader, so its ranges are never wider than theirs.
    """
    values = [sorted({k[i] for k in seen}, key=repr) for i in range(len(dims))]
    allowed = {
        (dims.index(a), dims.index(b)): {(k[dims.index(a)], k[dims.index(b)]) for k in seen}
        for a, b in pairs
        if a in dims and b in dims
    }
    grid: list[Key] = [()]
    for i in range(len(dims)):
        checks = [(a, b) for (a, b) in allowed if max(a, b) == i]
        grid = [
            (*partial, v)
            for partial in grid
            for v in values[i]
            if all((((*partial, v))[a], ((*partial, v))[b]) in allowed[(a, b)] for a, b in checks)
        ]
        if len(grid) > MAX_UNKNOWNS:
            return seen
    return grid


def _protect_component(
    cube: Sequence[tuple[Mapping[str, Any], int]],
    names: list[TableName],
    dims: list[str],
    links: list[TableName],
    result: ProtectedTables,
) -> None:
    program = _program(cube, names, dims, links)
    hidden = {c for c, n in program.counts.items() if 0 < n < result.threshold}
    for cell in hidden:
        result.status[cell] = "primary"
    queue = sorted(hidden, key=_order)
    while queue:
        checkpoint()
        cell = queue.pop(0)
        low, high, blocking = program.solve(cell, hidden)
        while high - low < result.interval - _SLACK:
            extra = _complement(program, cell, hidden, blocking)
            if extra is None:
                result.exposed.add(cell)
                break
            hidden.add(extra)
            result.status[extra] = "complementary"
            queue.append(extra)
            low, high, blocking = program.solve(cell, hidden)
        result.ranges[cell] = (low, high)


def _order(cell: Cell) -> tuple[int, str, str]:
    return (len(cell.table), repr(cell.table), repr(cell.key))


def _complement(
    program: _Program, cell: Cell, hidden: set[Cell], blocking: list[Cell]
) -> Cell | None:
    """The published cell to hide next to protect ``cell``: the smallest one nearest to it.

    The cells that bound its range (non-zero duals of the linear programs) come
    first, cells of two-way tables before margins; among them, or among all when
    none can be hidden, nearest means the
    same row or column of the same table, then the same table, then a cell of
    another table that overlaps it, then any cell of the group. The grand total
    is never hidden: every group of dimensions shares it.
    """
    overlap = program.members[cell] > 0

    def hideable(c: Cell) -> bool:
        return c not in hidden and program.counts[c] > 0 and c.table != ()

    def nearness(c: Cell) -> int:
        if c.table == cell.table:
            same_line = len(c.key) == 2 and (c.key[0] == cell.key[0] or c.key[1] == cell.key[1])
            return 0 if same_line or len(c.key) == 1 else 1
        return 2 if bool((program.members[c] > 0)[overlap].any()) else 3

    candidates = [c for c in blocking if hideable(c)] or [c for c in program.members if hideable(c)]
    if not candidates:
        return None
    # A margin (a one-way count) is what most readers look at: hide inner cells first.
    return min(
        candidates, key=lambda c: (len(c.table) < 2, nearness(c), program.counts[c], _order(c))
    )
