"""Small-cell suppression for published counts, with complementary suppression.

Primary suppression hides every count from 1 to ``threshold - 1`` (and zeros
if asked). That alone is not enough when totals are published: a row with one
hidden cell gives it away (row total minus the others). Complementary
(secondary) suppression hides more cells until no hidden cell can be worked
out from what is published.

For a two-way table with published row, column and grand totals this module:

1. audits the pattern: the hidden cells, given the published cells and totals
   and that counts are not negative, form a transportation polytope; a hidden
   cell can be derived exactly when it cannot move inside it, which a search
   for a cycle through the cell in the residual graph decides;
2. protects a derivable cell by hiding the cheapest "rectangle" through it
   (cells (r, c), (r, c2), (r2, c), (r2, c2), least total count first) that
   lets its value move while all totals stay fixed: the hypercube method of
   secondary suppression for two-way tables (Repsilber 1994; Hundepool et al.
   2012, *Statistical Disclosure Control*, Wiley);
3. repeats until the audit finds no derivable cell.

The result reports each hidden cell's feasible range, the smallest and
largest value a reader could work out for it, from the two linear programs
(scipy ``linprog``, HiGHS) of :func:`feasible_range`. Protection here means "not exactly derivable";
a range can still be narrow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from openblotter.domain.checkpoints import checkpoint
from openblotter.domain.errors import InvalidInput

#: Counts from 1 to 9 are hidden by default, a common rule; a portal sets its own threshold.
DEFAULT_THRESHOLD = 10

Status = Literal["published", "primary", "complementary"]


@dataclass(frozen=True)
class SuppressedCount:
    """One item of a list of counts; ``count`` is None when hidden."""

    label: str
    count: int | None
    status: Status


@dataclass(frozen=True)
class SuppressedList:
    """A list of counts with its total; hidden items cannot be derived from the total."""

    threshold: int
    total: int
    items: tuple[SuppressedCount, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SuppressedCell:
    """One cell of a two-way table; hidden cells carry the range a reader could derive."""

    row: str
    column: str
    count: int | None
    status: Status
    feasible_low: float | None = None
    feasible_high: float | None = None


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table with all totals published and small cells hidden safely."""

    threshold: int
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    row_totals: dict[str, int]
    column_totals: dict[str, int]
    total: int
    cells: tuple[SuppressedCell, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def suppress_counts(
    counts: Mapping[str, int], *, threshold: int = DEFAULT_THRESHOLD, suppress_zeros: bool = False
) -> SuppressedList:
    """Hide small counts in a list whose total is published.

    A single hidden count could be recovered from the total, so when exactly
    one is hidden the smallest other count is hidden too.
    """
    _check_counts(list(counts.values()))
    primary = {k for k, v in counts.items() if _is_small(v, threshold, suppress_zeros)}
    complementary: set[str] = set()
    if len(primary) == 1:
        others = sorted((v == 0, v, k) for k, v in counts.items() if k not in primary)
        if others:
            complementary.add(others[0][2])
    items = tuple(
        SuppressedCount(
            label,
            None if label in primary | complementary else value,
            "primary"
            if label in primary
            else "complementary"
            if label in complementary
            else "published",
        )
        for label, value in counts.items()
    )
    return SuppressedList(threshold, sum(counts.values()), items)


def suppress_table(
    counts: Sequence[Sequence[int]],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
    suppress_zeros: bool = False,
    with_ranges: bool = True,
) -> SuppressedTable:
    """Hide small cells of a two-way table (rows x columns) whose totals are all published.

    ``with_ranges=False`` skips the feasible ranges (two linear programs per hidden cell).
    """
    table = np.asarray(counts, dtype=np.int64)
    if table.shape != (len(rows), len(columns)):
        raise InvalidInput(
            f"The table is {table.shape[0]} x {table.shape[1]} but {len(rows)} row and "
            f"{len(columns)} column labels were given.",
        )
    _check_counts(table.ravel().tolist())
    primary = ((table > 0) & (table < threshold)) | ((table == 0) & suppress_zeros)
    hidden = primary.copy()
    while (exposed := _first_derivable_cell(table, hidden)) is not None:
        checkpoint()
        _add_rectangle(table, hidden, exposed, rows, columns)
    ranges = _feasible_ranges(table, hidden) if with_ranges else {}
    cells = tuple(
        SuppressedCell(
            rows[r],
            columns[c],
            None if hidden[r, c] else int(table[r, c]),
            "primary" if primary[r, c] else "complementary" if hidden[r, c] else "published",
            *(ranges.get((r, c), (None, None))),
        )
        for r in range(len(rows))
        for c in range(len(columns))
    )
    return SuppressedTable(
        threshold=threshold,
        rows=tuple(rows),
        columns=tuple(columns),
        row_totals={rows[r]: int(table[r].sum()) for r in range(len(rows))},
        column_totals={columns[c]: int(table[:, c].sum()) for c in range(len(columns))},
        total=int(table.sum()),
        cells=cells,
    )


def feasible_range(
    table: np.ndarray, hidden: np.ndarray, cell: tuple[int, int]
) -> tuple[float, float]:
    """Smallest and largest value a hidden cell can take given published cells and all totals."""
    # SciPy is imported here: the web process needs it only for these ranges.
    from scipy.optimize import linprog

    positions = list(zip(*np.nonzero(hidden), strict=True))
    if cell not in positions:
        raise ValueError(f"cell {cell} is not hidden")
    a_eq, b_eq = _constraints(table, hidden, positions)
    target = np.zeros(len(positions))
    target[positions.index(cell)] = 1.0
    low = linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    high = linprog(-target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    return float(low.fun), float(-high.fun)


def _constraints(
    table: np.ndarray, hidden: np.ndarray, positions: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    n_rows, n_cols = table.shape
    a_eq = np.zeros((n_rows + n_cols, len(positions)))
    for k, (r, c) in enumerate(positions):
        a_eq[r, k] = 1.0
        a_eq[n_rows + c, k] = 1.0
    visible = np.where(hidden, 0, table)
    b_eq = np.concatenate(
        [table.sum(axis=1) - visible.sum(axis=1), table.sum(axis=0) - visible.sum(axis=0)]
    )
    return a_eq, b_eq.astype(float)


def _feasible_ranges(
    table: np.ndarray, hidden: np.ndarray
) -> dict[tuple[int, int], tuple[float, float]]:
    return {
        (int(r), int(c)): feasible_range(table, hidden, (int(r), int(c)))
        for r, c in zip(*np.nonzero(hidden), strict=True)
    }


def _first_derivable_cell(table: np.ndarray, hidden: np.ndarray) -> tuple[int, int] | None:
    """A hidden cell whose value a reader could work out, or None."""
    graph = _Residual.of(table, hidden)  # built once per audit, not once per cell
    for r, c in zip(*np.nonzero(hidden), strict=True):
        if graph.derivable(int(r), int(c)):
            return int(r), int(c)
    return None


def is_derivable(table: np.ndarray, hidden: np.ndarray, cell: tuple[int, int]) -> bool:
    """Whether a reader can work out a hidden cell from the published cells and all totals.

    The hidden cells with their totals form a transportation polytope; a cell
    is derivable iff it cannot move inside it, that is iff it lies on no cycle
    of the residual graph (rows and columns as nodes; a hidden cell can always
    go up, and can go down if it is above 0). This decides what the linear
    programs of :func:`feasible_range` would, without solving them.
    """
    return _Residual.of(table, hidden).derivable(*cell)


@dataclass(frozen=True)
class _Residual:
    """The residual graph of a suppression pattern: rows 0..n-1, then columns n.."""

    n_rows: int
    hidden_columns: list[list[int]]  # per row: its hidden cells' columns (can go up)
    lowerable_rows: list[list[int]]  # per column: rows of its hidden cells above 0 (can go down)
    positive: np.ndarray

    @classmethod
    def of(cls, table: np.ndarray, hidden: np.ndarray) -> _Residual:
        lowerable = hidden & (table > 0)
        return cls(
            n_rows=table.shape[0],
            hidden_columns=[np.nonzero(row)[0].tolist() for row in hidden],
            lowerable_rows=[np.nonzero(column)[0].tolist() for column in lowerable.T],
            positive=table > 0,
        )

    def derivable(self, r: int, c: int) -> bool:
        n_rows = self.n_rows

        def successors(node: int) -> list[int]:
            if node < n_rows:  # row -> column: raise a hidden cell of the row
                return [n_rows + j for j in self.hidden_columns[node] if (node, j) != (r, c)]
            j = node - n_rows  # column -> row: lower a hidden, non-zero cell of the column
            return [i for i in self.lowerable_rows[j] if (i, j) != (r, c)]

        can_rise = _reachable(n_rows + c, r, successors)
        can_fall = bool(self.positive[r, c]) and _reachable(r, n_rows + c, successors)
        return not (can_rise or can_fall)


def _reachable(start: int, goal: int, successors: Callable[[int], list[int]]) -> bool:
    seen, frontier = {start}, deque([start])
    while frontier:
        node = frontier.popleft()
        if node == goal:
            return True
        for following in successors(node):
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return False


def _add_rectangle(
    table: np.ndarray,
    hidden: np.ndarray,
    cell: tuple[int, int],
    rows: Sequence[str],
    columns: Sequence[str],
) -> None:
    """Hide the cheapest rectangle through ``cell`` along which its value can move."""
    r, c = cell
    best: tuple[int, int, list[tuple[int, int]]] | None = None
    for r2 in range(table.shape[0]):
        for c2 in range(table.shape[1]):
            if r2 == r or c2 == c:
                continue
            a, b, d, opposite = table[r, c], table[r, c2], table[r2, c], table[r2, c2]
            if not ((a > 0 and opposite > 0) or (b > 0 and d > 0)):
                continue  # the value could not move along this rectangle without going negative
            new = [p for p in ((r, c2), (r2, c), (r2, c2)) if not hidden[p]]
            cost = (int(sum(table[p] for p in new)), len(new), new)
            if new and (best is None or cost[:2] < best[:2]):
                best = cost
    if best is None:
        raise InvalidInput(
            f"The cell ({rows[r]}, {columns[c]}) cannot be hidden: its value follows from the "
            "published totals whatever else is hidden. Publish fewer totals, or merge rows or "
            "columns so no cell is this small.",
            detail={"row": rows[r], "column": columns[c]},
        )
    for p in best[2]:
        hidden[p] = True


def _is_small(value: int, threshold: int, suppress_zeros: bool) -> bool:
    return (0 < value < threshold) or (suppress_zeros and value == 0)


def _check_counts(values: list[int]) -> None:
    bad = [v for v in values if int(v) != v or v < 0]
    if bad:
        raise InvalidInput(
            f"Counts must be whole numbers, 0 or more; found {bad[:5]}.", detail={"values": bad[:5]}
        )
