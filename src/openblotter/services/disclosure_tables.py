"""The fixed set of protected tables a counts-only dataset publishes, per release.

A dataset in ``aggregates_only_datasets`` publishes only these tables, built
once per release (deterministically, from the release file, and kept in
memory) and protected together by :mod:`openblotter.analysis.linked_tables`:

- the grand total;
- one table per declared dimension: a coded (categorical) or yes/no column
  with 2 to :data:`MAX_DIMENSION_VALUES` values, never a record or officer ID,
  a privacy-treated column, an exact date or free text; the period dimension
  are ``quarter`` and ``year`` of the main date (audited together: a year is
  the sum of its quarters). The ``aggregates_dimensions`` setting can
  name fewer, per dataset;
- the two-way tables of :data:`PAIRS` whose two columns are both dimensions.

Dimensions that determine one another in the data (beat -> sector ->
district, force detail -> force type) are audited together, as a reader who
knows the hierarchy would combine them. Facets, aggregates and the analyses
answer from these tables only (:mod:`openblotter.services.disclosure_serving`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from threading import Lock
from typing import Any

import polars as pl

from openblotter.analysis.linked_tables import (
    Cell,
    Key,
    ProtectedTables,
    TableName,
    protect_linked_tables,
)
from openblotter.domain.query.filters import main_date_field
from openblotter.domain.query.model import GroupKey
from openblotter.domain.schema import TableSchema
from openblotter.services import reading
from openblotter.services.portal import Portal

#: A coded column with more values than this is not a dimension (too fine to protect).
MAX_DIMENSION_VALUES = 60
#: The period dimensions: the quarter and the year of the main date (never an exact date).
PERIOD = "quarter"
YEAR = "year"
PERIODS = (PERIOD, YEAR)
#: Two-way tables published when both columns are dimensions: what the analyses need.
PAIRS: tuple[TableName, ...] = (
    ("subject_race", "subject_sex"),
    ("subject_race", "subject_ethnicity"),
    ("officer_race", "subject_race"),
    ("officer_race", "officer_ethnicity"),
    ("employee_type", "officer_race"),
    ("rank", "officer_race"),
    (YEAR, "subject_race"),
    (YEAR, "subject_sex"),
    (YEAR, "subject_age_group"),
    (YEAR, "bias_category"),
)
#: A column whose rows are already counts (department demographics).
COUNT_COLUMN = "count"
#: Names that say a column identifies a record or a person, whatever its schema says.
_ID_SUFFIXES = ("_id", "_number", "_name")


@dataclass(frozen=True)
class CountsTables:
    """A release's published tables, protected together."""

    release: str
    dimensions: tuple[str, ...]
    tables: tuple[TableName, ...]
    protected: ProtectedTables
    quarters: frozenset[str] = frozenset()  # every quarter the release's rows fall in

    def table(self, dims: Sequence[str]) -> TableName | None:
        """The published table over ``dims`` (in either order), or None."""
        wanted = tuple(dims)
        for name in self.tables:
            if name == wanted or (len(name) == 2 and name[::-1] == wanted):
                return name
        return None

    def cells(self, name: TableName) -> dict[Key, int | None]:
        """Every seen cell of a table: its count, None when hidden."""
        return {key: self.protected.value(name, key) for key in self.protected.counts[name]}

    def status(self, name: TableName, key: Key) -> str:
        return self.protected.status.get(Cell(name, key), "published")

    def withheld(self, name: TableName) -> bool:
        """A table with a cell the audit could not protect is not published at all."""
        return any(cell.table == name for cell in self.protected.exposed)

    @property
    def total(self) -> int:
        return self.protected.counts[()].get((), 0)


_CACHE: dict[tuple[Any, ...], CountsTables] = {}
_LOCK = Lock()


def counts_tables(portal: Portal, dataset_id: str, label: str | None = None) -> CountsTables:
    """The protected tables of a release (the current one by default), built once per process."""
    t = reading.target(portal, dataset_id, [("_release", label)] if label else [])
    threshold = portal.settings.aggregates_threshold
    interval = portal.settings.aggregates_interval
    declared = tuple(portal.settings.aggregates_dimensions.get(dataset_id, ()))
    key = (t.release.file_key, threshold, interval, declared)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _CACHE[key] = _build(portal, t, threshold, interval)
            if len(_CACHE) > 64:
                _CACHE.pop(next(iter(_CACHE)))
    return cached


def forget(file_key: str) -> None:
    """Drop the tables built from a release file (a purge)."""
    with _LOCK:
        for key in [k for k in _CACHE if k[0] == file_key]:
            del _CACHE[key]


def weight_column(schema: TableSchema) -> str | None:
    """The column that counts what a row stands for (``count``), when rows are counts."""
    field = schema.field(COUNT_COLUMN)
    return COUNT_COLUMN if field is not None and field.type == "integer" else None


def candidate_dimensions(schema: TableSchema) -> list[GroupKey]:
    """Columns that may be dimensions: coded or yes/no, not IDs, not treated, not free text."""
    keys = []
    primary = set(schema.primary_key or [])
    for f in schema.published_fields():
        if f.name in primary or f.privacy is not None or f.free_text:
            continue
        if f.name.endswith(_ID_SUFFIXES) or f.name in PERIODS:
            continue
        if f.coded or f.type == "boolean":
            keys.append(GroupKey(f.name, f.name))
    date = main_date_field(schema)
    if date is not None:
        keys.append(GroupKey(PERIOD, date.name, "quarter"))
        keys.append(GroupKey(YEAR, date.name, "year"))
    return keys


def _build(portal: Portal, t: reading.Target, threshold: int, interval: int) -> CountsTables:
    keys = candidate_dimensions(t.schema)
    declared = portal.settings.aggregates_dimensions.get(t.release.dataset_id)
    if declared:  # the portal names its dimensions; ineligible names are not made eligible
        keys = [k for k in keys if k.name in declared]
    names = [k.name for k in keys]
    cube = _cube(portal, t, keys)
    distinct = {n: len({c[n] for c, _ in cube}) for n in names}
    quarters = frozenset(str(c[PERIOD]) for c, _ in cube if PERIOD in c and c[PERIOD])
    dims = tuple(n for n in names if 2 <= distinct[n] <= MAX_DIMENSION_VALUES)
    cube = _projected(cube, dims)
    tables: list[TableName] = [(), *((d,) for d in dims)]
    tables += [p for p in PAIRS if set(p) <= set(dims)]
    links = _nested_pairs(cube, dims)
    protected = protect_linked_tables(
        cube, tables, links=links, threshold=threshold, interval=interval
    )
    return CountsTables(t.release.label, dims, tuple(tables), protected, quarters)


def _cube(
    portal: Portal, t: reading.Target, keys: list[GroupKey]
) -> list[tuple[dict[str, Any], int]]:
    """Every combination of the candidate dimensions with its count of rows.

    A dataset whose rows are already counts (department demographics: a
    ``count`` column of staff) is counted by that column.
    """
    weight = weight_column(t.schema)
    columns = list(dict.fromkeys([*(k.column for k in keys), *([weight] if weight else [])]))
    frame = reading.table(portal, t.release.dataset_id, [("_release", t.release.label)], columns)
    period = next((k for k in keys if k.part is not None), None)
    if period is not None:
        date = pl.col(period.column)
        label = pl.format("{}-Q{}", date.dt.year().cast(pl.String).str.zfill(4), date.dt.quarter())
        frame = frame.with_columns(label.alias(PERIOD), date.dt.year().cast(pl.Int64).alias(YEAR))
    names = [k.name for k in keys]
    n = pl.col(weight).fill_null(0).sum() if weight else pl.len()
    grouped = frame.group_by(names).agg(n.alias("n")) if names else frame.select(n.alias("n"))
    return [({n: row[n] for n in names}, int(row["n"])) for row in grouped.iter_rows(named=True)]


def _projected(
    cube: list[tuple[dict[str, Any], int]], dims: Sequence[str]
) -> list[tuple[dict[str, Any], int]]:
    out: dict[Key, int] = {}
    for combination, n in cube:
        key = tuple(combination[d] for d in dims)
        out[key] = out.get(key, 0) + n
    return [(dict(zip(dims, key, strict=True)), n) for key, n in out.items()]


def _nested_pairs(cube: list[tuple[dict[str, Any], int]], dims: Sequence[str]) -> list[TableName]:
    """Pairs of dimensions where one determines the other (a hierarchy a reader may know).

    They are audited as linked tables, not published: the audit then knows that
    a district's count is the sum of its sectors' counts.
    """
    links: list[TableName] = []
    for a, b in combinations(dims, 2):
        pairs = {(c[a], c[b]) for c, _ in cube}
        if len(pairs) in (len({p[0] for p in pairs}), len({p[1] for p in pairs})):
            links.append((a, b))
    return links
