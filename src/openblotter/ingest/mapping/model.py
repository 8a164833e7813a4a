"""A parsed mapping and what applying it gives (the format is in ingest.mapping.apply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any, Protocol

import polars as pl

from openblotter.domain.report import Problem
from openblotter.domain.schema import TableSchema
from openblotter.ingest.mapping import rules as rule_ops
from openblotter.ingest.mapping.continuation import Continuation
from openblotter.ingest.mapping.people import People
from openblotter.ingest.mapping.rules import Rule
from openblotter.ingest.mapping.spec import ColumnSpec, Explode, Join, Skip, Unpivot


class RawTableLike(Protocol):
    """What apply_mapping needs of a read file (ingest.read.readers.RawTable has it)."""

    @property
    def frame(self) -> pl.DataFrame: ...  # all String columns + Int64 "__row"

    @property
    def source_name(self) -> str: ...


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file (see the module docstring for the format)."""

    family: str
    path: str
    description: str = ""
    agency: str = ""
    files: tuple[str, ...] = ()
    source_url: str = ""
    notes: str = ""
    trim: bool = True
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    explode: tuple[Explode, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    joins: tuple[Join, ...] = ()
    unpivot: tuple[Unpivot, ...] = ()
    skip: tuple[Skip, ...] = ()
    people: tuple[People, ...] = ()
    rules: tuple[Rule, ...] = ()
    sentinel_dates: tuple[str, ...] = rule_ops.DEFAULT_SENTINEL_DATES
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    continuation: tuple[Continuation, ...] = ()

    def fits(self, filename: str) -> bool:
        """Whether ``filename`` matches one of the mapping's ``files`` patterns."""
        return any(fnmatch(filename, pattern) for pattern in self.files)


@dataclass
class PersonTable:
    """The people of one role (officers, subjects) as rows of their own family (all text)."""

    role: str
    family: str
    frame: pl.DataFrame
    schema: TableSchema


@dataclass
class MappedTable:
    """A source file renamed and reshaped to the family's fields (all text) plus ``__row``.

    ``schema`` is the family's, without the fields moved to ``people`` tables.
    ``rules_applied`` lists every rule with what it did (``RuleOutcome.to_dict``).
    """

    frame: pl.DataFrame
    schema: TableSchema
    dropped_source_columns: list[str]
    problems: list[Problem]
    people: list[PersonTable] = field(default_factory=list)
    rules_applied: list[dict[str, Any]] = field(default_factory=list)
