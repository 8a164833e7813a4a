"""Small-cell suppression: no hidden cell can be worked out from what is published."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from openblotter.analysis.suppression import (
    feasible_range,
    is_derivable,
    suppress_counts,
    suppress_table,
)
from openblotter.domain.errors import InvalidInput


def published_view(result):
    """What a reader sees: cell values (None when hidden) and every total."""
    grid = {(c.row, c.column): c.count for c in result.cells}
    return grid, result.row_totals, result.column_totals


def attacker_range(result, cell):
    """Smallest and largest value the hidden ``cell`` can take, from the published view only.

    Written independently of the module: unknowns are the hidden cells, each row
    and column of unknowns must sum to its published total minus its published
    cells, and no count is negative.
    """
    grid, row_totals, column_totals = published_view(result)
    hidden = [key for key, value in grid.items() if value is None]
    equations, targets = [], []
    for row, total in row_totals.items():
        equations.append([1.0 if r == row else 0.0 for r, _ in hidden])
        targets.append(total - sum(v for (r, _), v in grid.items() if r == row and v is not None))
    for column, total in column_totals.items():
        equations.append([1.0 if c == column else 0.0 for _, c in hidden])
        targets.append(
            total - sum(v for (_, c), v in grid.items() if c == column and v is not None)
        )
    objective = np.array([1.0 if key == cell else 0.0 for key in hidden])
    low = linprog(objective, A_eq=equations, b_eq=targets, bounds=(0, None), method="highs")
    high = linprog(-objective, A_eq=equations, b_eq=targets, bounds=(0, None), method="highs")
    return low.fun, -high.fun


def assert_protected(result, table, threshold):
    cells = {(c.row, c.column): c for c in result.cells}
    for (r, row), (c, column) in itertools.product(
        enumerate(result.rows), enumerate(result.columns)
    ):
        value, cell = table[r][c], cells[(row, column)]
        if 0 < value < threshold:
            assert cell.status == "primary" and cell.count is None
        if cell.count is not None:
            assert cell.count == value  # published cells are the true counts
        else:
            low, high = attacker_range(result, (row, column))
            assert high - low >= 1, f"{row}/{column} = {value} is derivable: [{low}, {high}]"
            assert low <= value <= high
            assert (cell.feasible_low, cell.feasible_high) == pytest.approx((low, high))
    assert result.row_totals == {row: sum(table[r]) for r, row in enumerate(result.rows)}


def test_a_single_small_cell_in_a_two_by_two_hides_all_four():
    table = [[3, 40], [50, 60]]
    result = suppress_table(table, rows=["a", "b"], columns=["x", "y"], threshold=10)
    assert [c.status for c in result.cells] == ["primary", "complementary"] * 1 + [
        "complementary",
        "complementary",
    ]
    assert_protected(result, table, 10)


def test_primary_suppression_alone_would_give_the_cell_away():
    table = np.array([[3, 40, 25], [50, 60, 12], [17, 30, 45]])
    only_primary = np.zeros_like(table, dtype=bool)
    only_primary[0, 0] = True
    assert feasible_range(table, only_primary, (0, 0)) == (3.0, 3.0)
    result = suppress_table(table.tolist(), rows=["a", "b", "c"], columns=["x", "y", "z"])
    assert sum(c.status == "complementary" for c in result.cells) == 3
    assert_protected(result, table.tolist(), 10)


def test_two_small_cells_in_one_column_protect_each_other_with_one_more_column():
    table = [[3, 40, 25], [50, 60, 12], [7, 30, 45]]
    result = suppress_table(table, rows=["a", "b", "c"], columns=["x", "y", "z"])
    hidden = {(c.row, c.column) for c in result.cells if c.count is None}
    assert {("a", "x"), ("c", "x")} <= hidden and len(hidden) == 4
    assert_protected(result, table, 10)


def test_a_row_whose_only_count_is_small_hides_zeros_too():
    table = [[4, 0, 0], [30, 22, 18], [25, 40, 33]]
    result = suppress_table(table, rows=["a", "b", "c"], columns=["x", "y", "z"])
    assert_protected(result, table, 10)


def test_a_single_row_cannot_be_protected_and_says_what_to_do():
    with pytest.raises(InvalidInput, match="merge rows or columns"):
        suppress_table([[3, 40, 25]], rows=["a"], columns=["x", "y", "z"])


def test_shape_and_counts_are_checked():
    with pytest.raises(InvalidInput, match="2 x 2"):
        suppress_table([[1, 2], [3, 4]], rows=["a"], columns=["x", "y"])
    with pytest.raises(InvalidInput, match="whole numbers"):
        suppress_table([[1, -2], [3, 4]], rows=["a", "b"], columns=["x", "y"])


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda n_rows: st.integers(2, 5).flatmap(
            lambda n_cols: st.lists(
                st.lists(st.integers(0, 40), min_size=n_cols, max_size=n_cols),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    ),
    st.booleans(),
)
def test_no_hidden_cell_is_derivable_from_published_cells_and_totals(table, suppress_zeros):
    rows = [f"r{i}" for i in range(len(table))]
    columns = [f"c{j}" for j in range(len(table[0]))]
    try:
        result = suppress_table(table, rows=rows, columns=columns, suppress_zeros=suppress_zeros)
    except InvalidInput as refused:
        # Refusing is right only if the cell is derivable even with every cell hidden.
        cell = (rows.index(refused.detail["row"]), columns.index(refused.detail["column"]))
        everything = np.ones((len(rows), len(columns)), dtype=bool)
        low, high = feasible_range(np.array(table), everything, cell)
        assert high - low < 1
        return
    assert_protected(result, table, 10)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 6), min_size=3, max_size=3), min_size=3, max_size=3),
    st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=3, max_size=3),
)
def test_the_graph_audit_agrees_with_linear_programming(values, mask):
    # Small values and many zeros: the cases where non-negativity decides.
    table, hidden = np.array(values), np.array(mask)
    for r, c in zip(*np.nonzero(hidden), strict=True):
        low, high = feasible_range(table, hidden, (int(r), int(c)))
        assert is_derivable(table, hidden, (int(r), int(c))) == (high - low < 0.5)


def test_list_with_one_small_count_hides_the_next_smallest():
    result = suppress_counts({"White": 40, "Black": 3, "Asian": 12, "Other": 0})
    statuses = {i.label: (i.status, i.count) for i in result.items}
    assert statuses["Black"] == ("primary", None)
    assert statuses["Asian"] == ("complementary", None)
    assert statuses["White"] == ("published", 40) and statuses["Other"] == ("published", 0)
    assert result.total == 55  # the reader learns only that Black + Asian = 15


def test_list_with_two_small_counts_needs_nothing_more():
    result = suppress_counts({"a": 40, "b": 3, "c": 2})
    assert [i.status for i in result.items] == ["published", "primary", "primary"]
    assert suppress_counts({"a": 40, "b": 30}).items[0].status == "published"


def test_list_threshold_and_zeros():
    result = suppress_counts({"a": 4, "b": 0, "c": 50}, threshold=5, suppress_zeros=True)
    assert [i.status for i in result.items] == ["primary", "primary", "published"]
    assert result.to_dict()["threshold"] == 5
