"""The query vocabulary: operators, limits, the QuerySpec that every door builds, and the
Cursor where a page ended.

Parsing is in :mod:`openblotter.domain.query.parse` (controls) and
:mod:`openblotter.domain.query.filters` (filters); both import these names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from openblotter.domain.query.values import DatePart

Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "isnull"]
AggFunction = Literal["count", "sum", "avg", "min", "max"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: Values listed per facet; a facet with more distinct values says how many it left out.
FACET_VALUE_LIMIT = 100
#: Groups returned by an aggregate unless ``_size`` asks for fewer; more are flagged, not lost.
AGGREGATE_GROUP_LIMIT = 10_000
MAX_LIST_VALUES = 500
MAX_SEARCH_TERMS = 10
#: Bounds checked before anything is parsed, so a request's work grows with what it may ask.
#: Characters in one parameter value (``_next`` tokens have their own bound in ``cursor``).
MAX_VALUE_LENGTH = 2_000
#: Characters in one parameter name.
MAX_NAME_LENGTH = 200
#: Parameters in one request (a repeated ``col=v`` counts once per value).
MAX_PARAMETERS = 600
#: Distinct filters (``col``, ``col__gt``, ...) in one request.
MAX_FILTERS = 50
#: ``_facet`` columns in one request.
MAX_FACETS = 20

@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its sort values and ``_row_id``."""

    values: tuple[Any, ...]
    row_id: int


SUFFIX_OPERATORS: tuple[Operator, ...] = (
    "ne", "gt", "gte", "lt", "lte", "contains", "in", "isnull"
)  # fmt: skip
DATE_PARTS: tuple[DatePart, ...] = get_args(DatePart)
AGG_FUNCTIONS: tuple[AggFunction, ...] = get_args(AggFunction)
NUMERIC_TYPES = frozenset({"integer", "number"})
TEXT_TYPES = frozenset({"string", "any"})
TEMPORAL_TYPES = frozenset({"date", "datetime"})
RESERVED_PARAMETERS = frozenset(
    {"_q", "_sort", "_fields", "_size", "_next", "_count", "_facet", "_group", "_agg"}
)
#: Parameters a caller handles itself (``_release`` picks the file); parsing ignores them.
CALLER_PARAMETERS = frozenset({"_release"})
REPEATABLE = frozenset({"_facet", "_agg"})
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
_LIST_OPERATORS = frozenset({"eq", "in", "ne"})


@dataclass(frozen=True)
class Filter:
    """One condition. ``values`` are typed; for a date ``part`` they are periods."""

    column: str
    operator: Operator
    values: tuple[Any, ...]
    part: DatePart | None = None
    parameter: str = ""


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False

    @property
    def label(self) -> str:
        return f"-{self.column}" if self.descending else self.column


@dataclass(frozen=True)
class GroupKey:
    """A column to group or facet by, or a date ``part`` of ``column`` named ``name``."""

    name: str
    column: str
    part: DatePart | None = None


@dataclass(frozen=True)
class Aggregate:
    function: AggFunction
    column: str | None = None

    @property
    def name(self) -> str:
        """The output key: ``count``, ``sum_fine_amount``, ..."""
        return self.function if self.column is None else f"{self.function}_{self.column}"


@dataclass(frozen=True)
class QuerySpec:
    """A validated query: from :func:`parse_query`, or built in code and :func:`check_spec`-ed."""

    filters: tuple[Filter, ...] = ()
    search: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    fields: tuple[str, ...] | None = None
    size: int = DEFAULT_PAGE_SIZE
    size_given: bool = False
    after: Cursor | None = None
    count: bool = False
    facets: tuple[GroupKey, ...] = ()
    group: tuple[GroupKey, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()

    @property
    def is_aggregate(self) -> bool:
        return bool(self.group or self.aggregates)

    @property
    def group_limit(self) -> int:
        return self.size if self.size_given else AGGREGATE_GROUP_LIMIT


Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
