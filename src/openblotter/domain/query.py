"""The one query model: filters, sort, page, facets, groups and aggregates.

The native API, the CKAN and Socrata layers and the pages all turn their
input into a :class:`QuerySpec`; the storage engine runs it. Parsing is pure:
every column is checked against the dataset's schema, every value is
converted to its column's type, and anything unknown is refused with an
:class:`InvalidInput` or :class:`NotFound` naming the parameter and what is
allowed. Query parameters (see ``docs`` for the full contract)::

    col=v (repeat for any of)   col__ne  col__gt  col__gte  col__lt  col__lte
    col__contains (case-insensitive)   col__in=a,b   col__isnull=true|false
    _q  _sort=col,-col2  _fields=a,b  _size  _next  _count=true
    _facet=col  _group=quarter,col  _agg=count|sum:col|avg:col|min:col|max:col

``quarter``, ``year`` and ``month`` are date parts of the schema's main date
field when the schema has no column of that name: they can be grouped,
faceted and filtered on (``quarter=2024-Q2``, ``year__gte=2020``).

Typed values and date-part periods live in :mod:`openblotter.domain.query_values`,
the ``_next`` token in :mod:`openblotter.domain.cursor`; their public names are
re-exported here, so callers import the whole query vocabulary from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from openblotter.domain.cursor import Cursor as Cursor
from openblotter.domain.cursor import decode_cursor as decode_cursor
from openblotter.domain.cursor import encode_cursor as encode_cursor
from openblotter.domain.cursor import sort_fingerprint as sort_fingerprint
from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.query_values import DatePart as DatePart
from openblotter.domain.query_values import Period as Period
from openblotter.domain.query_values import convert_value as convert_value
from openblotter.domain.query_values import json_value as json_value
from openblotter.domain.query_values import parse_period as parse_period
from openblotter.domain.query_values import published_field
from openblotter.domain.query_values import published_names as published_names
from openblotter.domain.schema import SchemaField, TableSchema

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
_REPEATABLE = frozenset({"_facet", "_agg"})
_RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
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


def parse_query(
    params: Params, schema: TableSchema, *, caller_parameters: Iterable[str] = CALLER_PARAMETERS
) -> QuerySpec:
    """Parse query parameters into a QuerySpec checked against ``schema``.

    ``params`` is a multi-dict (pairs, or a mapping of a name to one value or a
    list). Raises InvalidInput (bad value, operator or ``_param``) or NotFound
    (unknown column), each with ``detail = {"parameter", "allowed", ...}``.
    """
    ignored = frozenset(caller_parameters)
    controls: dict[str, list[str]] = {}
    filter_pairs: list[tuple[str, str]] = []
    for key, value in _pairs(params):
        if key in ignored:
            continue
        if key.startswith("_"):
            _check_control(key, controls)
            controls.setdefault(key, []).append(value)
        else:
            filter_pairs.append((key, value))
    one = {key: values[0] for key, values in controls.items()}
    group = _parse_group(schema, one.get("_group"))
    aggregates = _parse_aggregates(schema, controls.get("_agg", []))
    if group and not aggregates:
        aggregates = (Aggregate("count"),)
    spec = QuerySpec(
        filters=_parse_filters(schema, filter_pairs),
        search=_parse_search(schema, one.get("_q")),
        fields=_parse_fields(schema, one.get("_fields")),
        size=_parse_size(one.get("_size")),
        size_given="_size" in one,
        count=_parse_flag("_count", one.get("_count", "false")),
        facets=_unique(group_key(schema, name, "_facet") for name in controls.get("_facet", [])),
        group=group,
        aggregates=aggregates,
    )
    if spec.is_aggregate:
        return _with_aggregate_sort(spec, one)
    sort = _parse_sort(one.get("_sort"), published_names(schema), "_sort")
    after = decode_cursor(one["_next"], schema, sort) if "_next" in one else None
    return replace(spec, sort=sort, after=after)


def check_spec(spec: QuerySpec, schema: TableSchema) -> None:
    """Re-check a QuerySpec built in code (the compat layers) against ``schema``."""
    for item in spec.filters:
        parameter = item.parameter or item.column
        target = published_field(schema, item.column, parameter)
        if item.part is None:
            _check_operator(target, item.operator, parameter)
        elif item.operator == "contains":
            raise _no_contains(item.part, parameter)
    for name in spec.fields or ():
        published_field(schema, name, "_fields")
    for key in (*spec.group, *spec.facets):
        published_field(schema, key.column, "_group")
    for aggregate in spec.aggregates:
        _check_aggregate(schema, aggregate, "_agg")
    outputs = [k.name for k in spec.group] + [a.name for a in spec.aggregates]
    sortable = outputs if spec.is_aggregate else published_names(schema)
    _parse_sort(",".join(k.label for k in spec.sort) or None, sortable, "_sort")
    limit = AGGREGATE_GROUP_LIMIT if spec.is_aggregate else MAX_PAGE_SIZE
    if not 1 <= spec.size <= limit:
        raise InvalidInput(
            f"A page holds 1 to {limit} rows, not {spec.size}.",
            detail={"parameter": "_size", "allowed": f"1..{limit}"},
        )


def main_date_field(schema: TableSchema) -> SchemaField | None:
    """The field quarter/year/month come from: ``dateField`` or the first date/datetime field."""
    extra = schema.model_extra or {}
    named = extra.get("dateField")
    if isinstance(named, str):
        chosen = schema.field(named)
        if chosen is None or not chosen.published or chosen.type not in TEMPORAL_TYPES:
            raise InvalidInput(
                f"The schema's dateField '{named}' is not a published date or datetime field.",
                detail={"parameter": "dateField", "allowed": _temporal_names(schema)},
            )
        return chosen
    for candidate in schema.published_fields():
        if candidate.type in TEMPORAL_TYPES:
            return candidate
    return None


# --- parameters ------------------------------------------------------------------------


def _pairs(params: Params) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        out: list[tuple[str, str]] = []
        for key, value in params.items():
            values = list(value) if isinstance(value, list | tuple) else [value]
            out.extend((str(key), str(v)) for v in values)
        return out
    return [(str(key), str(value)) for key, value in params]


def _check_control(key: str, seen: Mapping[str, list[str]]) -> None:
    if key not in RESERVED_PARAMETERS:
        raise InvalidInput(
            f"'{key}' is not a query parameter. Names starting with _ are reserved for controls.",
            detail={"parameter": key, "allowed": sorted(RESERVED_PARAMETERS | CALLER_PARAMETERS)},
        )
    if key in seen and key not in _REPEATABLE:
        raise InvalidInput(
            f"'{key}' was given more than once; give it once.",
            detail={"parameter": key, "allowed": "one value"},
        )


def _split_filter_key(schema: TableSchema, key: str) -> tuple[str, Operator]:
    found = schema.field(key)
    if (found is not None and found.published) or "__" not in key:
        return key, "eq"
    column, suffix = key.rsplit("__", 1)
    if suffix not in SUFFIX_OPERATORS:
        if schema.field(column) is None and column not in DATE_PARTS:
            return key, "eq"  # reported as an unknown column
        raise InvalidInput(
            f"'{suffix}' in '{key}' is not a filter operator.",
            detail={"parameter": key, "allowed": list(SUFFIX_OPERATORS)},
        )
    return column, suffix


def _parse_filters(schema: TableSchema, pairs: list[tuple[str, str]]) -> tuple[Filter, ...]:
    merged: dict[tuple[str, Operator], list[str]] = {}
    singles: list[tuple[str, Operator, str, str]] = []
    for key, value in pairs:
        column, operator = _split_filter_key(schema, key)
        if operator in _LIST_OPERATORS:
            merged.setdefault((column, "in" if operator == "eq" else operator), []).extend(
                value.split(",") if operator == "in" else [value]
            )
        else:
            singles.append((column, operator, value, key))
    out = [_make_filter(schema, c, op, vals, _key(c, op)) for (c, op), vals in merged.items()]
    out += [_make_filter(schema, c, op, [v], key) for c, op, v, key in singles]
    return tuple(out)


def _key(column: str, operator: Operator) -> str:
    return column if operator == "in" else f"{column}__{operator}"


def _make_filter(
    schema: TableSchema, column: str, operator: Operator, texts: list[str], parameter: str
) -> Filter:
    if len(texts) > MAX_LIST_VALUES:
        raise InvalidInput(
            f"'{parameter}' lists {len(texts)} values; a filter takes at most {MAX_LIST_VALUES}.",
            detail={"parameter": parameter, "allowed": MAX_LIST_VALUES},
        )
    part = _date_part(schema, column)
    if part is not None:
        return _part_filter(schema, part, operator, texts, parameter)
    target = published_field(schema, column, parameter)
    _check_operator(target, operator, parameter)
    if operator == "isnull":
        return Filter(column, operator, (_parse_flag(parameter, texts[0]),), parameter=parameter)
    if operator == "contains":
        return Filter(column, operator, (texts[0].lower(),), parameter=parameter)
    values = tuple(dict.fromkeys(convert_value(target, t, parameter) for t in texts))
    return Filter(column, operator, values, parameter=parameter)


def _check_operator(target: SchemaField, operator: Operator, parameter: str) -> None:
    allowed = _operators_for(target)
    if operator not in allowed:
        raise InvalidInput(
            f"'{parameter}': a {target.type} column does not take the '{operator}' operator.",
            detail={"parameter": parameter, "allowed": allowed},
        )


def _operators_for(target: SchemaField) -> list[str]:
    names = ["eq", "ne", "in", "isnull"]
    if target.type != "boolean":
        names += _RANGE_OPERATORS
    if target.type in TEXT_TYPES:
        names.append("contains")
    return names


def _date_part(schema: TableSchema, name: str) -> DatePart | None:
    """``name`` as a derived date part, when the schema has no column of that name."""
    if name in DATE_PARTS and schema.field(name) is None:
        return name
    return None


def _part_filter(
    schema: TableSchema, part: DatePart, operator: Operator, texts: list[str], parameter: str
) -> Filter:
    source = _require_date_field(schema, parameter)
    if operator == "isnull":
        return Filter(source.name, operator, (_parse_flag(parameter, texts[0]),), None, parameter)
    if operator == "contains":
        raise _no_contains(part, parameter)
    periods: tuple[Period, ...] = tuple(
        dict.fromkeys(parse_period(part, text, parameter) for text in texts)
    )
    return Filter(source.name, operator, periods, part, parameter)


def _no_contains(part: DatePart, parameter: str) -> InvalidInput:
    return InvalidInput(
        f"'{parameter}': {part} is a date part and does not take 'contains'.",
        detail={"parameter": parameter, "allowed": ["eq", "ne", "in", "isnull", *_RANGE_OPERATORS]},
    )


def _require_date_field(schema: TableSchema, parameter: str) -> SchemaField:
    source = main_date_field(schema)
    if source is None:
        raise NotFound(
            f"'{parameter}': this dataset has no date column for quarters, years or months.",
            detail={"parameter": parameter, "allowed": published_names(schema)},
        )
    return source


def _temporal_names(schema: TableSchema) -> list[str]:
    return [f.name for f in schema.published_fields() if f.type in TEMPORAL_TYPES]


def _parse_search(schema: TableSchema, text: str | None) -> tuple[str, ...]:
    if text is None or not text.strip():
        return ()
    terms = tuple(dict.fromkeys(term.lower() for term in text.split()))
    if len(terms) > MAX_SEARCH_TERMS:
        raise InvalidInput(
            f"_q has {len(terms)} words; search with at most {MAX_SEARCH_TERMS}.",
            detail={"parameter": "_q", "allowed": MAX_SEARCH_TERMS},
        )
    if not any(f.type in TEXT_TYPES for f in schema.published_fields()):
        raise InvalidInput(
            "_q searches text columns and this dataset has none; filter by column instead.",
            detail={"parameter": "_q", "allowed": published_names(schema)},
        )
    return terms


def _names(text: str, parameter: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InvalidInput(
            f"'{parameter}' is empty; list one or more names separated by commas.",
            detail={"parameter": parameter, "allowed": "comma-separated names"},
        )
    if len(set(names)) != len(names):
        raise InvalidInput(
            f"'{parameter}' names a column twice.",
            detail={"parameter": parameter, "allowed": "unique names"},
        )
    return names


def _parse_fields(schema: TableSchema, text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(published_field(schema, name, "_fields").name for name in _names(text, "_fields"))


def _parse_sort(text: str | None, allowed: list[str], parameter: str) -> tuple[SortKey, ...]:
    if text is None:
        return ()
    keys = []
    for name in _names(text, parameter):
        key = SortKey(name[1:], True) if name.startswith("-") else SortKey(name)
        if key.column not in allowed:
            raise NotFound(
                f"'{parameter}' names '{key.column}', which is not a column here.",
                detail={"parameter": parameter, "allowed": allowed},
            )
        keys.append(key)
    if len({k.column for k in keys}) != len(keys):
        raise InvalidInput(
            f"'{parameter}' names a column twice.",
            detail={"parameter": parameter, "allowed": allowed},
        )
    return tuple(keys)


def _parse_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    stripped = text.strip()
    if not stripped.isdigit() or not 1 <= int(stripped) <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"_size '{text}' is not a whole number from 1 to {MAX_PAGE_SIZE}.",
            detail={"parameter": "_size", "allowed": f"1..{MAX_PAGE_SIZE}"},
        )
    return int(stripped)


def _parse_flag(parameter: str, text: str) -> bool:
    return bool(convert_value(SchemaField(name="flag", type="boolean"), text, parameter))


def group_key(schema: TableSchema, name: str, parameter: str) -> GroupKey:
    """A column to group or facet by, or a date part (quarter/year/month) of the main date."""
    part = _date_part(schema, name.strip())
    if part is not None:
        return GroupKey(part, _require_date_field(schema, parameter).name, part)
    return GroupKey(name.strip(), published_field(schema, name.strip(), parameter).name)


def _parse_group(schema: TableSchema, text: str | None) -> tuple[GroupKey, ...]:
    if text is None:
        return ()
    return tuple(group_key(schema, name, "_group") for name in _names(text, "_group"))


def _parse_aggregates(schema: TableSchema, texts: list[str]) -> tuple[Aggregate, ...]:
    out: list[Aggregate] = []
    for text in texts:
        for item in _names(text, "_agg"):
            function, _, column = item.partition(":")
            if function not in AGG_FUNCTIONS or (function == "count") == bool(column):
                raise InvalidInput(
                    f"_agg '{item}' is not an aggregate.",
                    detail={
                        "parameter": "_agg",
                        "allowed": ["count", "sum:col", "avg:col", "min:col", "max:col"],
                    },
                )
            aggregate = Aggregate(function, column or None)
            _check_aggregate(schema, aggregate, "_agg")
            out.append(aggregate)
    return _unique(out)


def _check_aggregate(schema: TableSchema, aggregate: Aggregate, parameter: str) -> None:
    if aggregate.column is None:
        return
    target = published_field(schema, aggregate.column, parameter)
    if aggregate.function in ("sum", "avg") and target.type not in NUMERIC_TYPES:
        numeric = [f.name for f in schema.published_fields() if f.type in NUMERIC_TYPES]
        raise InvalidInput(
            f"_agg {aggregate.function}:{target.name} needs a number column; "
            f"'{target.name}' is {target.type}.",
            detail={"parameter": parameter, "allowed": numeric},
        )


def _with_aggregate_sort(spec: QuerySpec, one: Mapping[str, str]) -> QuerySpec:
    for name in ("_fields", "_next"):
        if name in one:
            raise InvalidInput(
                f"'{name}' does not apply to grouped results (_group/_agg).",
                detail={"parameter": name, "allowed": ["_sort", "_size", "_group", "_agg"]},
            )
    outputs = [k.name for k in spec.group] + [a.name for a in spec.aggregates]
    if len(set(outputs)) != len(outputs):
        raise InvalidInput(
            "A group column and an aggregate share a name; group by or aggregate something else.",
            detail={"parameter": "_group", "allowed": outputs},
        )
    return replace(spec, sort=_parse_sort(one.get("_sort"), outputs, "_sort"))


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))
