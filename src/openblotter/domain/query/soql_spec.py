"""A SODA request (``$select``, ``$where``, ... or a whole ``$query``) as a QuerySpec and the
list of fields the answer holds, checked against a release's published schema.

Two shapes come out: rows (columns, ``:id``, filters, order, offset, limit) and
groups (group keys and aggregates, ``having``, order by outputs). The query model
does the rest; :mod:`openblotter.services.soda` runs the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import (
    AGGREGATE_GROUP_LIMIT,
    MAX_OFFSET,
    MAX_SEARCH_TERMS,
    TEXT_TYPES,
    And,
    Expr,
    Filter,
    QuerySpec,
    SortKey,
)
from openblotter.domain.query.soql import (
    Literal,
    Name,
    Ordered,
    Selected,
    Statement,
    parse_clause,
)
from openblotter.domain.query.soql_conditions import (
    Resolve,
    column_operand,
    condition,
    literal_value,
)
from openblotter.domain.query.soql_groups import (
    Grouping,
    OutputField,
    column_of,
    grouping,
    soda_type,
)
from openblotter.domain.query.values import published_field, published_names
from openblotter.domain.schema import TableSchema

ROW_ID_FIELD = ":id"
DEFAULT_LIMIT = 1000
PARAMETERS = ("$select", "$where", "$order", "$group", "$having", "$limit", "$offset", "$q")


@dataclass(frozen=True)
class SodaPlan:
    """The QuerySpec to run and the fields to answer with; ``grouped`` for aggregates."""

    spec: QuerySpec
    fields: tuple[OutputField, ...]
    grouped: bool
    key: tuple[str, ...] = field(default=())


def plan(params: Sequence[tuple[str, str]], schema: TableSchema) -> SodaPlan:
    """The plan of a SODA request's parameters; InvalidInput or NotFound naming the part."""
    clauses, simple = _split(params)
    if "$query" in clauses:
        statement = parse_clause("$query", clauses["$query"])
        assert isinstance(statement, Statement)
    else:
        statement = _statement(clauses)
    where = _where(schema, statement, simple)
    search = _search(schema, statement.search)
    limit = DEFAULT_LIMIT if statement.limit is None else statement.limit
    offset = statement.offset or 0
    for name, value in (("$limit", limit), ("$offset", offset)):
        if not 0 <= value <= MAX_OFFSET:
            raise InvalidInput(
                f"{name} is a whole number from 0 to {MAX_OFFSET:,}.",
                detail={"parameter": name, "allowed": f"0..{MAX_OFFSET}"},
            )
    base = QuerySpec(where=where, search=search, offset=offset, limit=limit)
    groups = grouping(schema, statement)
    if groups is not None:
        return _grouped_plan(base, groups, limit)
    return _rows_plan(schema, statement, base)


def _split(params: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    clauses: dict[str, str] = {}
    simple: list[tuple[str, str]] = []
    for key, value in params:
        if key.startswith("$$"):
            continue  # $$app_token, $$exclude_system_fields, ...: hints, not query
        if key.startswith("$"):
            if key not in (*PARAMETERS, "$query"):
                raise InvalidInput(
                    f"Unrecognized parameter '{key}'.",
                    detail={"parameter": key, "allowed": [*PARAMETERS, "$query"]},
                )
            if key in clauses:
                raise InvalidInput(f"'{key}' was given more than once.", detail={"parameter": key})
            clauses[key] = value
        else:
            simple.append((key, value))
    if "$query" in clauses and (len(clauses) > 1 or simple):
        raise InvalidInput(
            "With $query, write every clause (WHERE, ORDER BY, LIMIT ...) inside $query.",
            detail={"parameter": "$query", "given": sorted(clauses)},
        )
    return clauses, simple


def _statement(clauses: dict[str, str]) -> Statement:
    def parsed(name: str) -> Any:
        return parse_clause(name, clauses[name]) if name in clauses else None

    select = parsed("$select")
    return Statement(
        select=select or (Selected(Name("*")),),
        where=parsed("$where"),
        group=parsed("$group"),
        having=parsed("$having"),
        order=parsed("$order"),
        search=clauses.get("$q"),
        limit=_whole("$limit", clauses.get("$limit")),
        offset=_whole("$offset", clauses.get("$offset")),
    )


def _whole(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    stripped = text.strip()
    if not stripped.isdigit() or len(stripped) > 15:
        raise InvalidInput(
            f"{name} '{text[:40]}' is not a whole number from 0 to {MAX_OFFSET:,}.",
            detail={"parameter": name, "allowed": f"0..{MAX_OFFSET}"},
        )
    return int(stripped)


def _where(schema: TableSchema, statement: Statement, simple: list[tuple[str, str]]) -> Expr | None:
    parts: list[Expr] = []
    for name, value in simple:
        target = column_operand(published_field(schema, name, name))
        typed = literal_value(target.kind, value, name)
        parts.append(Filter(target.column, "eq", (typed,), parameter=name))
    if statement.where is not None:
        parts.append(condition(statement.where, _column_resolver(schema), "$where"))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _column_resolver(schema: TableSchema) -> Resolve:
    return lambda node, parameter: column_of(schema, node, parameter)


def _search(schema: TableSchema, text: str | None) -> tuple[str, ...]:
    if text is None or not text.strip():
        return ()
    terms = tuple(dict.fromkeys(term.lower() for term in text.split()))
    if len(terms) > MAX_SEARCH_TERMS:
        raise InvalidInput(
            f"$q has {len(terms)} words; search with at most {MAX_SEARCH_TERMS}.",
            detail={"parameter": "$q", "allowed": MAX_SEARCH_TERMS},
        )
    if not any(f.type in TEXT_TYPES for f in schema.published_fields()):
        raise InvalidInput(
            "$q searches text columns and this dataset has none.",
            detail={"parameter": "$q", "allowed": published_names(schema)},
        )
    return terms


def _grouped_plan(base: QuerySpec, groups: Grouping, limit: int) -> SodaPlan:
    spec = replace(
        base,
        group=groups.keys,
        aggregates=groups.aggregates,
        having=groups.having,
        sort=groups.sort,
        size=min(max(1, limit), AGGREGATE_GROUP_LIMIT),
        size_given=True,
        limit=limit,
    )
    return SodaPlan(spec, groups.fields, grouped=True)


def _rows_plan(schema: TableSchema, statement: Statement, base: QuerySpec) -> SodaPlan:
    published = set(published_names(schema))
    key = tuple(k for k in schema.primary_key if k in published)
    fields: list[OutputField] = []
    for item in statement.select:
        fields += _row_fields(schema, item)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise InvalidInput(
            "$select names a field twice; give one an alias (AS other_name).",
            detail={"parameter": "$select", "allowed": names},
        )
    sort = _row_sort(schema, statement.order or (), key)
    columns = [f.source for f in fields if f.source != ROW_ID_FIELD]
    if any(f.source == ROW_ID_FIELD for f in fields):
        columns += [k for k in key if k not in columns]
    spec = replace(base, sort=sort, fields=tuple(dict.fromkeys(columns)))
    return SodaPlan(spec, tuple(fields), grouped=False, key=key)


def _row_fields(schema: TableSchema, item: Selected) -> list[OutputField]:
    expr = item.expr
    if isinstance(expr, Name) and expr.name == "*":
        return [OutputField(f.name, f.name, soda_type(f.type)) for f in schema.published_fields()]
    if isinstance(expr, Name) and expr.name in (":*", ROW_ID_FIELD):
        return [OutputField(item.alias or ROW_ID_FIELD, ROW_ID_FIELD, "text")]
    if isinstance(expr, Name):
        found = published_field(schema, expr.name, "$select")
        return [OutputField(item.alias or found.name, found.name, soda_type(found.type))]
    if isinstance(expr, Literal):
        raise InvalidInput("$select lists columns, not values.", detail={"parameter": "$select"})
    raise InvalidInput(
        "$select: functions of a column (upper, date_trunc_ym, ...) and aggregates need a "
        "grouping here: add $group, or select plain columns.",
        detail={"parameter": "$select", "allowed": published_names(schema)},
    )


def _row_sort(
    schema: TableSchema, order: Sequence[Ordered], key: tuple[str, ...]
) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for item in order:
        if isinstance(item.expr, Name) and item.expr.name == ROW_ID_FIELD:
            # :id is the row's stable identity: the primary key, then the file's row order.
            if item.descending and not key:
                raise InvalidInput(
                    "$order :id DESC needs a dataset with a primary key; this one has none, "
                    "so its rows come in file order (:id ascending).",
                    detail={"parameter": "$order", "allowed": ":id"},
                )
            keys += [SortKey(k, item.descending) for k in key]
            continue
        if not isinstance(item.expr, Name):
            raise InvalidInput(
                "$order sorts rows by columns (or :id); functions need a $group.",
                detail={"parameter": "$order", "allowed": published_names(schema)},
            )
        found = published_field(schema, item.expr.name, "$order")
        keys.append(SortKey(found.name, item.descending))
    unique: dict[str, SortKey] = {}
    for sort_key in keys:
        unique.setdefault(sort_key.column, sort_key)
    return tuple(unique.values())
