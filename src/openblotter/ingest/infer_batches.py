"""A custom dataset's schema inferred chunk by chunk, as ``infer.infer_schema`` would.

``infer_type`` looks only at distinct values, so a column's distinct values
(kept while there are at most ``DISTINCT_LIMIT``) give exactly the type the
whole column gives. A column with more distinct values (an ID, a timestamp)
keeps the type every chunk agrees on; where chunks disagree, the type of the
distinct values kept plus those of the disagreeing chunk decides. Counts for
categorical and free-text columns are exact sums over the chunks. Memory is
bounded by the limit, whatever the row count.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from openblotter.domain.schema import DEFAULT_MISSING_VALUES, FieldType, SchemaField, TableSchema
from openblotter.ingest.conform import ROW, cleaned_cells
from openblotter.ingest.infer import (
    CATEGORICAL_MAX_DISTINCT,
    FREE_TEXT_MIN_MEAN_LENGTH,
    field_names,
    infer_type,
)
from openblotter.ingest.variants import column_spellings, merge_spellings

#: Distinct values kept per column to decide its type exactly (above: chunk by chunk).
DISTINCT_LIMIT = 100_000
#: Distinct values of a disagreeing chunk added to those kept.
DISAGREEING_SAMPLE = 5_000
_KEY_NAME = re.compile(r"(^|_)(id|number|num|no|key)$")


@dataclass
class ColumnProfile:
    """What the chunks seen so far say about one column (cleaned text)."""

    header: str
    name: str
    #: Once the column has more than ``DISTINCT_LIMIT`` distinct values: those its type is
    #: judged by. Until then every distinct value is kept with its rows (``spelled``).
    sample: pl.Series | None = None
    chunk_type: FieldType | None = None
    #: The chunks' spellings not merged yet (blank cells as the null ``value``), and their
    #: rows: merged only when they could hold more than the limit, or when asked.
    _parts: list[pl.DataFrame] = field(default_factory=list)
    _held: int = 0
    #: Cells counted one by one (after the limit) or folded in from the spellings.
    _cells: Counter[str] = field(default_factory=Counter)

    @property
    def overflow(self) -> bool:
        return self.sample is not None

    @property
    def spelled(self) -> pl.DataFrame | None:
        """Every distinct value with its rows ``n`` and ``first`` row (``variants.column_spellings``),
        while there are at most ``DISTINCT_LIMIT``; None before any chunk and after."""
        merged = self._merged()
        return None if merged is None else merged.drop_nulls("value")

    @property
    def distinct(self) -> pl.Series | None:
        """Every distinct value (None before any), or the sample kept once there are more."""
        spelled = self.spelled
        return spelled["value"] if spelled is not None else self.sample

    @property
    def present(self) -> int:
        return self.cells()["present"]

    @property
    def nulls(self) -> int:
        return self.cells()["nulls"]

    def add_spellings(self, spelled: pl.DataFrame, zone: str | None) -> None:
        """Count a chunk's values from its spellings (blank cells: the null ``value``).

        Counting each distinct value once gives the blanks, characters and spaced cells
        without reading every cell again, and pass 2 reports spelling variants from
        ``spelled`` instead of grouping every chunk again. The chunks' spellings are
        merged only once they could hold more distinct values than the limit."""
        self._parts.append(spelled)
        self._held += spelled.height
        if self._held <= DISTINCT_LIMIT:
            return  # an upper bound of the distinct values: within the limit
        merged = self._merged()
        assert merged is not None
        values = merged.drop_nulls("value")
        if values.height <= DISTINCT_LIMIT:
            return
        self._cells.update(_spelled_counts(merged))
        self._parts, self._held = [], 0
        self.sample = values["value"].head(DISTINCT_LIMIT)
        self.chunk_type = infer_type(self.sample, zone)
        self._judge(spelled.drop_nulls("value")["value"], zone)

    def _merged(self) -> pl.DataFrame | None:
        if len(self._parts) > 1:
            self._parts = [merge_spellings(self._parts)]
            self._held = self._parts[0].height
        return self._parts[0] if self._parts else None

    def cells(self) -> Counter[str]:
        """The cells seen: ``present``, ``nulls`` (blank), their ``length`` in characters and
        those ``spaced`` (with a space)."""
        merged = self._merged()
        return self._cells if merged is None else self._cells + _spelled_counts(merged)

    def add_cells(self, values: pl.Series, zone: str | None, counts: dict[str, int]) -> None:
        """Count a chunk's ``values`` once the column has more distinct values than are kept;
        ``counts``: its ``nulls``, ``length`` and ``spaced`` cells (``_counted``)."""
        self._cells.update(
            present=values.len() - counts["nulls"],
            nulls=counts["nulls"],
            length=counts["length"],
            spaced=counts["spaced"],
        )
        if self.chunk_type != "string":
            self._judge(values.unique().drop_nulls(), zone)

    def _judge(self, unique: pl.Series, zone: str | None) -> None:
        """A chunk's distinct values against the type the chunks before agreed on."""
        if self.chunk_type == "string":
            return  # nothing a later chunk holds makes a text column narrower
        here = infer_type(unique, zone)
        if here != self.chunk_type:
            assert self.sample is not None
            self.sample = pl.concat([self.sample, unique.head(DISAGREEING_SAMPLE)]).unique()
            self.chunk_type = infer_type(self.sample, zone)

    def field_type(self, zone: str | None) -> FieldType:
        if self.overflow:
            return self.chunk_type or "string"
        if self.distinct is None:
            return "string"
        return infer_type(self.distinct, zone)

    def categorical(self) -> bool:
        if self.present == 0 or self.overflow or self.distinct is None:
            return False
        count = self.distinct.len()
        return count <= CATEGORICAL_MAX_DISTINCT and count <= max(2, self.present // 2)

    def free_text(self) -> bool:
        cells = self.cells()
        if cells["present"] == 0:
            return False
        mean = cells["length"] / cells["present"]
        return mean >= FREE_TEXT_MIN_MEAN_LENGTH and cells["spaced"] / cells["present"] > 0.5


@dataclass
class SchemaProfile:
    """Every column's profile, the rows seen, and the columns that could be the key."""

    headers: list[str]
    zone: str | None = None
    columns: list[ColumnProfile] = field(default_factory=list)
    rows: int = 0

    def __post_init__(self) -> None:
        renames = field_names(self.headers)
        self.columns = [ColumnProfile(h, renames[h]) for h in self.headers]

    @property
    def renames(self) -> dict[str, str]:
        return {c.header: c.name for c in self.columns}

    def clean(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """A chunk of text trimmed, blanks null, renamed to field names (``__row`` kept)."""
        columns = [
            cleaned_cells(c.header, DEFAULT_MISSING_VALUES).alias(c.name) for c in self.columns
        ]
        if ROW in chunk.columns:
            columns.append(pl.col(ROW))
        return chunk.select(columns)

    def add(self, cleaned: pl.DataFrame) -> None:
        """Count a cleaned chunk (see :meth:`clean`)."""
        self.rows += cleaned.height
        few = [c.name for c in self.columns if not c.overflow]
        many = [c.name for c in self.columns if c.overflow]
        spelled = column_spellings(cleaned, few)
        counts = _counted(cleaned, many)
        for column in self.columns:
            if column.overflow:
                column.add_cells(cleaned[column.name], self.zone, counts[column.name])
            else:
                column.add_spellings(spelled[column.name], self.zone)

    def spellings(self) -> dict[str, pl.DataFrame]:
        """The spellings of every column with at most ``DISTINCT_LIMIT`` distinct values."""
        return {c.name: c.spelled for c in self.columns if c.spelled is not None}

    def key_names(self) -> list[str]:
        """Columns named like an identifier (``id``, ``number``, ``key``...)."""
        return [c.name for c in self.columns if _KEY_NAME.search(c.name)]

    def key_candidates(self) -> list[str]:
        """Columns named like an identifier with a value on every row (uniqueness is checked apart)."""
        return [c.name for c in self.columns if _KEY_NAME.search(c.name) and c.nulls == 0]

    def schema(self, primary_key: list[str]) -> TableSchema:
        """The inferred schema, as ``infer_schema`` gives it for the whole file."""
        fields = []
        for column in self.columns:
            field_type = column.field_type(self.zone)
            categorical = field_type == "string" and column.categorical()
            narrative = field_type == "string" and not categorical and column.free_text()
            fields.append(
                SchemaField.model_validate(
                    {
                        "name": column.name,
                        "type": field_type,
                        "title": column.header,
                        "description": "",
                        "categorical": categorical,
                        "freeText": narrative,
                        "sourceNames": [column.header] if column.header != column.name else [],
                    }
                )
            )
        return TableSchema(fields=fields, primary_key=primary_key)


def _spelled_counts(spelled: pl.DataFrame) -> Counter[str]:
    """The cells that ``spelled`` (value, rows ``n``) stands for: present and blank cells,
    their characters and those with a space, each distinct value weighed by its rows."""
    values = spelled.drop_nulls("value")
    counts = values["n"].cast(pl.Int64)  # a product of 32-bit counts would wrap silently
    present = int(counts.sum())
    return Counter(
        present=present,
        nulls=int(spelled["n"].cast(pl.Int64).sum()) - present,
        length=int((values["value"].str.len_chars().cast(pl.Int64) * counts).sum()),
        spaced=int(counts.filter(values["value"].str.contains(" ", literal=True)).sum()),
    )


def _counted(cleaned: pl.DataFrame, names: list[str]) -> dict[str, dict[str, int]]:
    """Each column's blank cells, characters and cells with a space, in one parallel select."""
    if not names:
        return {}
    parts = {
        "nulls": lambda c: c.null_count(),
        "length": lambda c: c.str.len_chars().cast(pl.Int64).sum(),  # 32 bits would wrap
        "spaced": lambda c: c.str.contains(" ", literal=True).sum(),
    }
    row = cleaned.select(
        part(pl.col(name)).alias(f"{name}\t{key}") for name in names for key, part in parts.items()
    ).row(0, named=True)
    return {name: {key: int(row[f"{name}\t{key}"] or 0) for key in parts} for name in names}
