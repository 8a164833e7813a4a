"""Linked tables protected together: the audit's promises on small, known tables."""

from __future__ import annotations

import random

from openblotter.analysis.linked_tables import Cell, protect_linked_tables


def _cube(rows: dict[tuple[str, ...], int], dims: tuple[str, ...]) -> list:
    return [(dict(zip(dims, key, strict=True)), n) for key, n in rows.items()]


def test_two_small_cells_and_their_total_get_a_third_hidden() -> None:
    """The issue's list: {White 40, Asian 1, NHPI 1}, total 42."""
    cube = _cube({("White",): 40, ("Asian",): 1, ("NHPI",): 1}, ("race",))
    protected = protect_linked_tables(cube, [("race",)], threshold=10, interval=9)
    hidden = {c.key[0] for c in protected.status if protected.hidden(c)}
    assert hidden == {"White", "Asian", "NHPI"}
    assert all(high - low >= 9 for low, high in protected.ranges.values())


def test_a_hidden_group_and_a_hidden_unknown_keep_a_wide_range() -> None:
    cube = _cube({("White",): 400, ("Black",): 300, ("Asian",): 3, ("Unknown",): 12}, ("race",))
    protected = protect_linked_tables(cube, [("race",)], threshold=10, interval=9)
    assert protected.ranges[Cell(("race",), ("Asian",))] == (1.0, 14.0)
    assert protected.value(("race",), ("White",)) == 400


def test_a_margin_and_its_two_way_table_are_audited_together() -> None:
    rows = {
        ("A", "F"): 30,
        ("A", "M"): 3,
        ("B", "F"): 25,
        ("B", "M"): 40,
        ("C", "F"): 12,
        ("C", "M"): 50,
    }
    cube = _cube(rows, ("race", "sex"))
    tables = [("race",), ("sex",), ("race", "sex")]
    protected = protect_linked_tables(cube, tables, threshold=10, interval=9)
    assert protected.hidden(Cell(("race", "sex"), ("A", "M")))
    # Publishing race A and its F cell would give the M cell: one of them is hidden too.
    assert protected.hidden(Cell(("race",), ("A",))) or protected.hidden(
        Cell(("race", "sex"), ("A", "F"))
    )
    assert all(high - low >= 9 - 1e-6 for low, high in protected.ranges.values())


def test_a_hierarchy_links_tables_that_share_no_published_pair() -> None:
    """A district is the sum of its sectors: hiding a sector of another district would not do."""
    rows = {("S1", "D1"): 4, ("S2", "D1"): 50, ("S3", "D2"): 20, ("S4", "D2"): 35}
    cube = _cube(rows, ("sector", "district"))
    tables = [("sector",), ("district",)]
    unlinked = protect_linked_tables(cube, tables, threshold=10, interval=9)
    # Audited apart, S3 (the smallest) protects S1; but S1 = D1 - S2 to whoever knows the map.
    assert {c.key for c in unlinked.status if unlinked.hidden(c)} == {("S1",), ("S3",)}
    linked = protect_linked_tables(
        cube, tables, threshold=10, interval=9, links=[("sector", "district")]
    )
    assert linked.hidden(Cell(("sector",), ("S2",))) or linked.hidden(Cell(("district",), ("D1",)))
    assert all(high - low >= 9 - 1e-6 for low, high in linked.ranges.values())


def test_the_same_counts_in_any_order_give_the_same_pattern() -> None:
    rows = {
        (race, sex): n
        for (race, sex), n in zip(
            [(r, s) for r in "ABCDEF" for s in "FMU"],
            [30, 3, 0, 25, 40, 2, 12, 50, 1, 7, 8, 0, 90, 80, 5, 11, 13, 4],
            strict=True,
        )
        if n
    }
    tables = [("race",), ("sex",), ("race", "sex")]
    first = protect_linked_tables(_cube(rows, ("race", "sex")), tables, threshold=10, interval=9)
    shuffled = list(rows.items())
    random.Random(7).shuffle(shuffled)
    second = protect_linked_tables(
        _cube(dict(shuffled), ("race", "sex")), tables, threshold=10, interval=9
    )
    assert first.status == second.status


def test_a_small_total_hides_everything() -> None:
    cube = _cube({("A",): 3, ("B",): 4}, ("race",))
    protected = protect_linked_tables(cube, [("race",)], threshold=10, interval=9)
    assert protected.hidden(Cell((), ())) and protected.hidden(Cell(("race",), ("A",)))
