"""The query vocabulary: operators, limits, the QuerySpec that every door builds, and the
Cursor where a page ended.

Parsing is in :mod:`openblotter.domain.query.parse` (controls) and
:mod:`openblotter.domain.query.filters` (filters); both import these names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, get_args

from openblotter.domain.query.values import DatePart

Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "isnull", "like"]
AggFunction = Literal["count", "sum", "avg", "min", "max"]
#: A function applied to a column before it is grouped or compared (the SoQL doors' functions).
Transform = Literal["date_trunc_y", "date_trunc_ym", "date_trunc_ymd", "upper", "lower"]

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
#: Rows or groups an ``offset`` may skip: far beyond any release, inside 64-bit offsets.
MAX_OFFSET = 10**12
#: Conditions and groups in one boolean expression (``where``/``having``), and their nesting.
MAX_EXPRESSION_NODES = 200
MAX_EXPRESSION_DEPTH = 20


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
TRANSFORMS: tuple[Transform, ...] = get_args(Transform)
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
    """One condition. ``values`` are typed; for a date ``part`` they are periods.

    ``like`` (built in code, not a native suffix) takes one SQL LIKE pattern (``%``, ``_``).
    A ``transform`` applies to the column before comparing (``upper(col) = 'X'``); its
    values are typed as the transform's result (text, or a datetime for ``date_trunc_*``).
    """

    column: str
    operator: Operator
    values: tuple[Any, ...]
    part: DatePart | None = None
    parameter: str = ""
    transform: Transform | None = None


@dataclass(frozen=True)
class And:
    """Every item holds (an empty And holds for every row)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """At least one item holds (an empty Or holds for no row)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """The item does not hold. SQL's three-valued logic applies: a condition on a null is
    neither true nor false, so ``Not(Filter(c, "eq", (v,)))`` leaves out rows where ``c`` is
    null (a ``ne`` Filter, the native API's, keeps them)."""

    item: Expr


#: A boolean expression of filters: the ``where`` (and ``having``) of a QuerySpec.
Expr: TypeAlias = Filter | And | Or | Not


def expression_filters(expr: Expr | None) -> Iterator[Filter]:
    """Every Filter of an expression, depth first."""
    if expr is None:
        return
    if isinstance(expr, Filter):
        yield expr
    elif isinstance(expr, Not):
        yield from expression_filters(expr.item)
    else:
        for item in expr.items:
            yield from expression_filters(item)


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False

    @property
    def label(self) -> str:
        return f"-{self.column}" if self.descending else self.column


@dataclass(frozen=True)
class GroupKey:
    """A column to group or facet by, or a date ``part`` of ``column`` named ``name``;
    or a ``transform`` of ``column`` (``date_trunc_ym``: the first moment of the month)."""

    name: str
    column: str
    part: DatePart | None = None
    transform: Transform | None = None


@dataclass(frozen=True)
class Aggregate:
    function: AggFunction
    column: str | None = None
    #: The output key when the door names it (SoQL ``count(*) AS n``).
    alias: str | None = None

    @property
    def name(self) -> str:
        """The output key: the alias, else ``count``, ``sum_fine_amount``, ..."""
        if self.alias is not None:
            return self.alias
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
    #: A boolean expression over columns, ANDed with ``filters`` (built in code by the doors).
    where: Expr | None = None
    #: A boolean expression over the group and aggregate outputs (by name), after grouping.
    having: Expr | None = None
    #: Rows (or groups) skipped first, in the query's total order: sort keys, then
    #: ``_row_id`` (groups: sort keys, then the group keys).
    offset: int = 0
    #: The most rows a streamed answer holds (:meth:`QueryEngine.batches`); None: every row.
    limit: int | None = None

    @property
    def is_aggregate(self) -> bool:
        return bool(self.group or self.aggregates)

    @property
    def group_limit(self) -> int:
        return self.size if self.size_given else AGGREGATE_GROUP_LIMIT


Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
