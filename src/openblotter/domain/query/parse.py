"""The one query model: filters, sort, page, facets, groups and aggregates.

The native API and the pages (and the SODA and CKAN doors to come) turn their
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

The vocabulary (operators, limits, :class:`QuerySpec`) lives in
:mod:`openblotter.domain.query.model`, filter parsing in
:mod:`openblotter.domain.query.filters`, typed values and date-part periods in
:mod:`openblotter.domain.query.values`, the ``_next`` token in
:mod:`openblotter.domain.query.cursor`; callers import each name from its own module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.query.cursor import decode_cursor
from openblotter.domain.query.expressions import check_door_parts
from openblotter.domain.query.filters import (
    check_operator,
    date_part,
    no_contains,
    parse_filters,
    parse_flag,
    require_date_field,
)
from openblotter.domain.query.model import (
    AGG_FUNCTIONS,
    AGGREGATE_GROUP_LIMIT,
    CALLER_PARAMETERS,
    DEFAULT_PAGE_SIZE,
    MAX_FACETS,
    MAX_NAME_LENGTH,
    MAX_PAGE_SIZE,
    MAX_PARAMETERS,
    MAX_SEARCH_TERMS,
    MAX_VALUE_LENGTH,
    NUMERIC_TYPES,
    REPEATABLE,
    RESERVED_PARAMETERS,
    TEXT_TYPES,
    Aggregate,
    GroupKey,
    Params,
    QuerySpec,
    SortKey,
)
from openblotter.domain.query.values import (
    published_field,
    published_names,
)
from openblotter.domain.schema import TableSchema


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
    pairs = _pairs(params)
    check_bounds(pairs)
    for key, value in pairs:
        if key in ignored:
            continue
        if key.startswith("_"):
            _check_control(key, controls)
            controls.setdefault(key, []).append(value)
        else:
            filter_pairs.append((key, value))
    one = {key: values[0] for key, values in controls.items()}
    _check_facet_count(controls.get("_facet", []))
    group = _parse_group(schema, one.get("_group"))
    aggregates = _parse_aggregates(schema, controls.get("_agg", []))
    if group and not aggregates:
        aggregates = (Aggregate("count"),)
    spec = QuerySpec(
        filters=parse_filters(schema, filter_pairs),
        search=_parse_search(schema, one.get("_q")),
        fields=_parse_fields(schema, one.get("_fields")),
        size=_parse_size(one.get("_size")),
        size_given="_size" in one,
        count=parse_flag("_count", one.get("_count", "false")),
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
            check_operator(target, item.operator, parameter)
        elif item.operator == "contains":
            raise no_contains(item.part, parameter)
    for name in spec.fields or ():
        published_field(schema, name, "_fields")
    for key in (*spec.group, *spec.facets):
        published_field(schema, key.column, "_group")
    for aggregate in spec.aggregates:
        _check_aggregate(schema, aggregate, "_agg")
    outputs = [k.name for k in spec.group] + [a.name for a in spec.aggregates]
    if len(set(outputs)) != len(outputs):
        raise InvalidInput(
            "Two outputs of the grouping share a name; name each group and aggregate once.",
            detail={"parameter": "_group", "allowed": outputs},
        )
    check_door_parts(spec, schema)
    sortable = outputs if spec.is_aggregate else published_names(schema)
    _parse_sort(",".join(k.label for k in spec.sort) or None, sortable, "_sort")
    limit = AGGREGATE_GROUP_LIMIT if spec.is_aggregate else MAX_PAGE_SIZE
    if not 1 <= spec.size <= limit:
        raise InvalidInput(
            f"A page holds 1 to {limit} rows, not {spec.size}.",
            detail={"parameter": "_size", "allowed": f"1..{limit}"},
        )


# --- parameters ------------------------------------------------------------------------


def check_bounds(pairs: list[tuple[str, str]]) -> None:
    """Refuse a request larger than the query model allows, before any value is parsed.

    Every parser after this sees at most MAX_PARAMETERS names of MAX_NAME_LENGTH
    and values of MAX_VALUE_LENGTH characters (a ``_next`` token: its own bound).
    """
    if len(pairs) > MAX_PARAMETERS:
        raise InvalidInput(
            f"The request has {len(pairs)} parameters; a query takes at most {MAX_PARAMETERS}.",
            detail={"parameter": "", "allowed": MAX_PARAMETERS, "given": len(pairs)},
        )
    for key, value in pairs:
        if len(key) > MAX_NAME_LENGTH:
            raise InvalidInput(
                f"A parameter name starting '{key[:40]}' has {len(key)} characters; "
                f"names have at most {MAX_NAME_LENGTH}.",
                detail={"parameter": key[:40], "allowed": MAX_NAME_LENGTH, "given": len(key)},
            )
        if len(value) > MAX_VALUE_LENGTH and key != "_next":
            raise InvalidInput(
                f"'{key}' has a value of {len(value):,} characters; a value has at most "
                f"{MAX_VALUE_LENGTH:,}. Shorten it, or split a long list into several requests.",
                detail={"parameter": key, "allowed": MAX_VALUE_LENGTH, "given": len(value)},
            )


def _check_facet_count(facets: list[str]) -> None:
    if len(facets) > MAX_FACETS:
        raise InvalidInput(
            f"{len(facets)} _facet columns were asked for; ask for at most {MAX_FACETS} at once.",
            detail={"parameter": "_facet", "allowed": MAX_FACETS, "given": len(facets)},
        )


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
    if key in seen and key not in REPEATABLE:
        raise InvalidInput(
            f"'{key}' was given more than once; give it once.",
            detail={"parameter": key, "allowed": "one value"},
        )


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


def group_key(schema: TableSchema, name: str, parameter: str) -> GroupKey:
    """A column to group or facet by, or a date part (quarter/year/month) of the main date."""
    part = date_part(schema, name.strip())
    if part is not None:
        return GroupKey(part, require_date_field(schema, parameter).name, part)
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
