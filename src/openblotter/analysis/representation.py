"""Officers and community: who serves compared with who lives in the city, and who meets whom.

The representation index of a group is its share of the department's staff
divided by its share of residents: 1 means the department looks like the city
for that group, 0.5 means half as many as the city's make-up would suggest.
It is a plain ratio of shares (a descriptive measure; a department's roster
is a full count, not a sample, so no sampling interval is attached). Staff
whose group is unknown are counted in their own row and left out of the
shares.

The officer-subject pair table counts rows of an incident-level table (for
example one row per officer and subject in a use-of-force file) by the
officer's group and the subject's group, with each cell's share of all rows,
of the officer group's rows, and of the subject group's rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from openblotter.analysis.census_mapping import CodeMapping, Placement
from openblotter.analysis.population import PopulationEstimate, sum_estimates
from openblotter.domain.errors import InvalidInput

ALL_STAFF = "All staff"
REPRESENTATION_METHOD = (
    "representation index = (group's share of staff with a known group) / "
    "(group's share of all residents)"
)


@dataclass(frozen=True)
class RepresentationRow:
    """One group: staff, residents, their shares and the index (None when it cannot be computed)."""

    group: str
    placement: Placement
    staff: int
    share_of_staff: float | None
    residents: float | None
    share_of_residents: float | None
    representation_index: float | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepresentationResult:
    """The index for one subset of staff (all staff, sworn, one rank)."""

    subset: str
    staff_total: int
    staff_known: int
    rows: tuple[RepresentationRow, ...]
    mapping: dict[str, Any]
    method: str = REPRESENTATION_METHOD

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def representation_index(
    staff_counts: Mapping[str | None, int],
    population: Mapping[str, PopulationEstimate],
    *,
    mapping: CodeMapping,
    total_population: PopulationEstimate | None = None,
    subset: str = ALL_STAFF,
) -> RepresentationResult:
    """Representation index per census category for staff counted by department code."""
    total = total_population or sum_estimates(population.values())
    known: dict[str, int] = {}
    other: dict[str, tuple[Placement, int]] = {}
    for code, count in staff_counts.items():
        placement, category = mapping.place(code)
        if placement == "category" and category is not None:
            known[category] = known.get(category, 0) + count
        else:
            label = "Unknown" if placement == "unknown" else str(code)
            other[label] = (placement, other.get(label, (placement, 0))[1] + count)
    staff_known = sum(known.values())
    rows = [
        _category_row(
            category, known.get(category, 0), staff_known, population.get(category), total
        )
        for category in mapping.categories
    ]
    for label, (placement, count) in other.items():
        note = (
            "Group not recorded; not compared with residents."
            if placement == "unknown"
            else f"The code '{label}' is not in the code-to-census mapping."
        )
        rows.append(RepresentationRow(label, placement, count, None, None, None, None, (note,)))
    return RepresentationResult(
        subset=subset,
        staff_total=staff_known + sum(count for _, count in other.values()),
        staff_known=staff_known,
        rows=tuple(rows),
        mapping=mapping.to_dict(),
    )


def _category_row(
    category: str,
    staff: int,
    staff_known: int,
    estimate: PopulationEstimate | None,
    total: PopulationEstimate,
) -> RepresentationRow:
    share_of_staff = staff / staff_known if staff_known else None
    if estimate is None or total.estimate <= 0:
        note = "The census table has no count for this category."
        return RepresentationRow(
            category, "category", staff, share_of_staff, None, None, None, (note,)
        )
    share_of_residents = estimate.estimate / total.estimate
    if share_of_staff is None or share_of_residents == 0:
        note = "No staff with a known group." if share_of_staff is None else "No residents counted."
        return RepresentationRow(
            category,
            "category",
            staff,
            share_of_staff,
            estimate.estimate,
            share_of_residents,
            None,
            (note,),
        )
    return RepresentationRow(
        category,
        "category",
        staff,
        share_of_staff,
        estimate.estimate,
        share_of_residents,
        share_of_staff / share_of_residents,
    )


def representation_by(
    staff: pl.DataFrame,
    population: Mapping[str, PopulationEstimate],
    *,
    group_column: str,
    by: Sequence[str] = ("sworn", "rank"),
    mapping: CodeMapping,
    total_population: PopulationEstimate | None = None,
    count_column: str | None = None,
) -> list[RepresentationResult]:
    """The index for all staff, then for each value of each ``by`` column (sworn, rank, ...).

    ``staff`` has one row per staff member, or one row per group with counts
    in ``count_column``. Subsets are labelled ``"<column>: <value>"``.
    """
    _require_columns(staff, [group_column, *by, *([count_column] if count_column else [])])
    results = [
        representation_index(
            _counts(staff, group_column, count_column),
            population,
            mapping=mapping,
            total_population=total_population,
        )
    ]
    for column in by:
        for value in staff[column].unique(maintain_order=True).to_list():
            subset = staff.filter(
                pl.col(column).is_null() if value is None else pl.col(column) == value
            )
            results.append(
                representation_index(
                    _counts(subset, group_column, count_column),
                    population,
                    mapping=mapping,
                    total_population=total_population,
                    subset=f"{column}: {'Unknown' if value is None else value}",
                )
            )
    return results


@dataclass(frozen=True)
class PairCell:
    """One officer group x subject group cell with its three shares."""

    officer_group: str
    subject_group: str
    count: int
    share_of_all: float
    share_of_officer_group: float | None
    share_of_subject_group: float | None


@dataclass(frozen=True)
class PairTable:
    """Counts by officer group and subject group; every combination listed, zeros included."""

    officer_groups: tuple[str, ...]
    subject_groups: tuple[str, ...]
    total: int
    officer_totals: dict[str, int]
    subject_totals: dict[str, int]
    cells: tuple[PairCell, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def race_pair_table(
    frame: pl.DataFrame,
    *,
    officer_column: str,
    subject_column: str,
    count_column: str | None = None,
    unknown: str = "Unknown",
) -> PairTable:
    """Officer-subject pair table; blank groups are counted as ``unknown``, never dropped."""
    _require_columns(
        frame, [officer_column, subject_column, *([count_column] if count_column else [])]
    )
    weight = pl.col(count_column) if count_column else pl.lit(1)
    grouped = (
        frame.select(
            pl.col(officer_column).cast(pl.String).fill_null(unknown).alias("officer"),
            pl.col(subject_column).cast(pl.String).fill_null(unknown).alias("subject"),
            weight.alias("n"),
        )
        .group_by("officer", "subject")
        .agg(pl.col("n").sum())
    )
    counts = {(r["officer"], r["subject"]): int(r["n"]) for r in grouped.iter_rows(named=True)}
    officers = tuple(sorted({o for o, _ in counts}))
    subjects = tuple(sorted({s for _, s in counts}))
    officer_totals = {o: sum(counts.get((o, s), 0) for s in subjects) for o in officers}
    subject_totals = {s: sum(counts.get((o, s), 0) for o in officers) for s in subjects}
    total = sum(counts.values())
    cells = tuple(
        PairCell(
            officer_group=o,
            subject_group=s,
            count=counts.get((o, s), 0),
            share_of_all=counts.get((o, s), 0) / total if total else 0.0,
            share_of_officer_group=counts.get((o, s), 0) / officer_totals[o]
            if officer_totals[o]
            else None,
            share_of_subject_group=counts.get((o, s), 0) / subject_totals[s]
            if subject_totals[s]
            else None,
        )
        for o in officers
        for s in subjects
    )
    return PairTable(officers, subjects, total, officer_totals, subject_totals, cells)


def _counts(
    frame: pl.DataFrame, group_column: str, count_column: str | None
) -> dict[str | None, int]:
    size = pl.col(count_column).sum() if count_column else pl.len()
    grouped = frame.group_by(group_column).agg(size.alias("n"))
    return {row[group_column]: int(row["n"]) for row in grouped.iter_rows(named=True)}


def _require_columns(frame: pl.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"The table has no column {', '.join(repr(c) for c in missing)}; "
            f"its columns are: {', '.join(frame.columns)}.",
            detail={"missing": missing, "columns": frame.columns},
        )
