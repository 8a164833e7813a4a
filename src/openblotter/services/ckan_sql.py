"""``datastore_search_sql``: one SELECT over one resource, parsed by sqlglot, into the query model.

The statement is parsed as PostgreSQL (what CKAN's DataStore runs) and every
node of its tree is checked against an allow-list before anything runs: one
``SELECT`` from one resource; columns, ``*`` and ``_id``; ``count(*)``,
``sum``, ``avg``, ``min``, ``max`` (any other function is refused as CKAN
refuses it: "Not authorized to call function"); ``WHERE`` with comparisons,
``IN``, ``BETWEEN``, ``IS [NOT] NULL``, ``[I]LIKE '%text%'``, joined by
``AND`` (and ``OR`` between values of one column); ``GROUP BY``, ``DISTINCT``,
``ORDER BY``, ``LIMIT``, ``OFFSET``. The result is query-model parameters;
no SQL text from the request ever reaches the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from openblotter.domain.errors import Forbidden, InvalidInput
from openblotter.domain.query.model import DATE_PARTS
from openblotter.domain.schema import TableSchema
from openblotter.services import ckan_datastore, query
from openblotter.services.portal import Portal

ID = "_id"
FUNCTIONS: dict[type[exp.Expression], str] = {
    exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max",
}  # fmt: skip
ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.From, exp.Table, exp.Identifier, exp.Column, exp.Star, exp.Literal,
    exp.Where, exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT,
    exp.LTE, exp.In, exp.Is, exp.Null, exp.Like, exp.ILike, exp.Between, exp.Boolean, exp.Neg,
    exp.Order, exp.Ordered, exp.Limit, exp.Offset, exp.Group, exp.Alias, exp.Distinct,
    exp.TableAlias, *FUNCTIONS,
)  # fmt: skip
_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "", exp.NEQ: "__ne", exp.GT: "__gt", exp.GTE: "__gte", exp.LT: "__lt",
    exp.LTE: "__lte",
}  # fmt: skip
_FLIPPED = {"__gt": "__lt", "__gte": "__lte", "__lt": "__gt", "__lte": "__gte"}
#: Characters of SQL one request may send (CKAN has no bound; a parser should).
MAX_SQL = 8_000


def invalid(message: str) -> InvalidInput:
    """CKAN's answer to SQL it will not run: a Validation Error on ``sql``."""
    return InvalidInput(message, detail={"parameter": "sql", "ckan": {"query": [message]}})


def parse(sql: Any) -> exp.Select:
    """One SELECT, every node on the allow-list; InvalidInput or Forbidden otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("Missing value", detail={"ckan": {"sql": ["Missing value"]}})
    if len(sql) > MAX_SQL:
        raise invalid(f"The statement has {len(sql):,} characters; at most {MAX_SQL:,}.")
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except sqlglot.errors.SqlglotError as error:
        raise invalid(f"Invalid SQL: {str(error).splitlines()[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise invalid("Only one SELECT statement is allowed.")
    select = statements[0]
    for node in select.walk():
        if isinstance(node, ALLOWED):
            continue
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            raise Forbidden(
                f"Not authorized to call function {name.lower()}",
                detail={
                    "ckan": {"permissions": [f"Not authorized to call function {name.lower()}"]}
                },
            )
        raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not allowed here.")
    tables = list(select.find_all(exp.Table))
    if len(tables) != 1 or tables[0].args.get("db") or tables[0].args.get("catalog"):
        raise invalid("Select from exactly one resource, named by its id in double quotes.")
    return select


def table_name(select: exp.Select) -> str:
    """The resource id the statement reads."""
    return str(select.find(exp.Table).name)  # type: ignore[union-attr]


@dataclass
class SqlQuery:
    """A checked statement as query-model parameters and the columns it answers with."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: Output names, and what each is: a column, ``_id``, or an aggregate's model key.
    outputs: list[tuple[str, str]] = field(default_factory=list)
    aggregate: bool = False
    #: Keys of ``outputs`` that are aggregates (the rest are columns).
    aggregates: set[str] = field(default_factory=set)
    offset: int = 0
    limit: int | None = None


def translate(select: exp.Select, schema: TableSchema) -> SqlQuery:
    """The statement over ``schema`` as query-model parameters."""
    result = SqlQuery()
    _select_list(select, schema, result)
    where = select.args.get("where")
    if where is not None:
        result.pairs += _condition(where.this, schema)
    _grouping(select, schema, result)
    _order(select, result)
    result.offset = _count_clause(select.args.get("offset"), "OFFSET") or 0
    result.limit = _count_clause(select.args.get("limit"), "LIMIT")
    return result


def _column(node: exp.Expression, schema: TableSchema, *, row_id: bool = True) -> str:
    if not isinstance(node, exp.Column) or node.table:
        raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a column of this resource.")
    name = str(node.name)
    found = schema.field(name)
    if (found is not None and found.published) or (row_id and name == ID):
        return name
    raise invalid(f'column "{name}" does not exist')


def _select_list(select: exp.Select, schema: TableSchema, result: SqlQuery) -> None:
    for item in select.expressions:
        alias = item.alias if isinstance(item, exp.Alias) else None
        node = item.this if isinstance(item, exp.Alias) else item
        if isinstance(node, exp.Star):
            result.outputs += [(ID, ID)] + [(f.name, f.name) for f in schema.published_fields()]
        elif type(node) in FUNCTIONS:
            function = FUNCTIONS[type(node)]
            key = _aggregate(node, function, schema)
            result.pairs.append(("_agg", key))
            result.outputs.append((alias or function, key.replace(":", "_")))
            result.aggregates.add(key.replace(":", "_"))
            result.aggregate = True
        else:
            name = _column(node, schema)
            result.outputs.append((alias or name, name))


def _aggregate(node: exp.Expression, function: str, schema: TableSchema) -> str:
    argument = node.this
    if function == "count":
        if isinstance(argument, exp.Star) or (
            isinstance(argument, exp.Column) and argument.name == ID
        ):
            return "count"
        raise invalid("count(*) is the count allowed here (count of a column: filter IS NOT NULL).")
    return f"{function}:{_column(argument, schema, row_id=False)}"


def _grouping(select: exp.Select, schema: TableSchema, result: SqlQuery) -> None:
    group = select.args.get("group")
    columns = [key for _, key in result.outputs if key not in result.aggregates]
    names = [_column(g, schema, row_id=False) for g in group.expressions] if group else []
    if select.args.get("distinct") and not names and not result.aggregate:
        names = columns  # SELECT DISTINCT a, b: the groups of a, b
    if not names and not result.aggregate:
        return
    if ID in columns or set(columns) - set(names):
        raise invalid("Every column selected beside an aggregate must appear in GROUP BY.")
    result.aggregate = True
    if names:
        result.pairs.append(("_group", ",".join(names)))
    if not any(k == "_agg" for k, _ in result.pairs):
        result.pairs.append(("_agg", "count"))  # the model counts each group; not returned


def _order(select: exp.Select, result: SqlQuery) -> None:
    order = select.args.get("order")
    if order is None:
        return
    keys: list[str] = []
    by_output = dict(result.outputs)
    for item in order.expressions:
        node = item.this
        name = str(node.name) if isinstance(node, exp.Column) and not node.table else None
        if name is None:
            raise invalid("ORDER BY names output columns only.")
        if not result.aggregate and name == ID:
            if item.args.get("desc"):
                raise invalid("_id sorts ascending only here (the release file's order).")
            break  # _id is unique: keys after it never decide
        key = by_output.get(name, name)
        keys.append(("-" if item.args.get("desc") else "") + key)
    if keys:
        result.pairs.append(("_sort", ",".join(keys)))


def _count_clause(node: exp.Expression | None, word: str) -> int | None:
    if node is None:
        return None
    value = node.expression
    if not isinstance(value, exp.Literal) or value.is_string or not str(value.this).isdigit():
        raise invalid(f"{word} takes a whole number.")
    return int(value.this)


def _condition(node: exp.Expression, schema: TableSchema) -> list[tuple[str, str]]:
    if isinstance(node, exp.Paren):
        return _condition(node.this, schema)
    if isinstance(node, exp.And):
        return _condition(node.this, schema) + _condition(node.expression, schema)
    if isinstance(node, exp.Or):
        return _any_of(node, schema)
    if isinstance(node, exp.Not):
        return _negated(node.this, schema)
    if type(node) in _COMPARISONS:
        return [_comparison(node, schema)]
    if isinstance(node, exp.In):
        name = _filter_column(node.this, schema)
        return [(name, _value(v, schema, name, "")) for v in node.expressions]
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return [(f"{_filter_column(node.this, schema)}__isnull", "true")]
    if isinstance(node, exp.Like | exp.ILike):
        return [_like(node, schema)]
    if isinstance(node, exp.Between):
        name = _filter_column(node.this, schema)
        low = _value(node.args["low"], schema, name, "__gte")
        return [
            (f"{name}__gte", low),
            (f"{name}__lte", _value(node.args["high"], schema, name, "__lte")),
        ]  # noqa: E501
    raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a condition allowed here.")


def _any_of(node: exp.Or, schema: TableSchema) -> list[tuple[str, str]]:
    """``a = 1 OR a = 2`` (or IN lists of one column): any of those values."""
    parts: list[tuple[str, str]] = []
    for branch in node.flatten():
        if isinstance(branch, exp.Expression):
            parts += _condition(branch, schema)
    if len({key for key, _ in parts}) == 1 and "__" not in parts[0][0]:
        return parts
    raise invalid(
        "OR joins values of one column here (a = 1 OR a = 2); conditions on several columns "
        "joined by OR are not supported."
    )


def _negated(node: exp.Expression, schema: TableSchema) -> list[tuple[str, str]]:
    inner = node.this if isinstance(node, exp.Paren) else node
    if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
        return [(f"{_filter_column(inner.this, schema)}__isnull", "false")]
    if isinstance(inner, exp.In):
        name = _filter_column(inner.this, schema)
        return [(f"{name}__ne", _value(v, schema, name, "__ne")) for v in inner.expressions]
    if isinstance(inner, exp.EQ):
        name, value = _comparison(inner, schema)
        return [(f"{name}__ne", value)]
    raise invalid("NOT is allowed before IS NULL, IN and = only.")


def _filter_column(node: exp.Expression, schema: TableSchema) -> str:
    name = _column(node, schema, row_id=False)
    if name in DATE_PARTS and schema.field(name) is None:
        raise invalid(f'column "{name}" does not exist')
    return name


def _comparison(node: exp.Expression, schema: TableSchema) -> tuple[str, str]:
    suffix = _COMPARISONS[type(node)]
    left, right = node.this, node.expression
    if isinstance(left, exp.Literal | exp.Neg | exp.Boolean) and isinstance(right, exp.Column):
        left, right, suffix = right, left, _FLIPPED.get(suffix, suffix)
    name = _filter_column(left, schema)
    return f"{name}{suffix}", _value(right, schema, name, suffix)


def _like(node: exp.Like | exp.ILike, schema: TableSchema) -> tuple[str, str]:
    name = _filter_column(node.this, schema)
    pattern = node.expression
    text = str(pattern.this) if isinstance(pattern, exp.Literal) and pattern.is_string else ""
    inner = text[1:-1]
    if len(text) < 3 or not (text.startswith("%") and text.endswith("%")) or set("%_") & set(inner):
        raise invalid("LIKE takes '%text%' here (text found anywhere in the value).")
    return f"{name}__contains", inner


def _value(node: exp.Expression, schema: TableSchema, name: str, suffix: str) -> str:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return f"-{node.this.this}"
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    if not isinstance(node, exp.Literal):
        raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a value.")
    text = str(node.this)
    target = schema.field(name)
    if target is not None and target.type == "date" and node.is_string and len(text) > 10:
        return _day_bound(text, suffix)
    return text


def _day_bound(text: str, suffix: str) -> str:
    """A timestamp compared with a date column, as the date that gives the same answer."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise invalid(f"'{text[:40]}' is not a date or timestamp.") from None
    day: date = moment.date()
    midnight = moment == datetime(day.year, day.month, day.day)
    if midnight:
        return day.isoformat()
    if suffix in ("__gte", "__lt"):  # d >= 5th 13:00 is d >= 6th; d < 5th 13:00 is d < 6th
        return (day + timedelta(days=1)).isoformat()
    if suffix in ("__gt", "__lte"):
        return day.isoformat()
    raise invalid(f"A date column never equals '{text[:40]}', a moment within a day.")


# --- running it -------------------------------------------------------------------------


def datastore_search_sql(portal: Portal, params: Mapping[str, Any]) -> dict[str, Any]:
    """``datastore_search_sql``: the statement's records (at most CKAN's 32000, flagged
    ``records_truncated`` when more match), run through the query services."""
    select = parse(params.get("sql"))
    resource = ckan_datastore.open_resource(portal, table_name(select))
    plan = translate(select, resource.schema)
    cap = ckan_datastore.ROWS_MAX
    limit = cap if plan.limit is None else min(plan.limit, cap)
    more = plan.limit is None or plan.limit > cap  # could the statement want more than we give?
    if plan.aggregate:
        found = query.aggregate(portal, resource.dataset_id, [*resource.pairs, *plan.pairs])
        rows = found["groups"][plan.offset :]
        short = found["truncated"] and (plan.limit is None or len(rows) < plan.limit)
        truncated = (more and len(rows) > limit) or short
    else:
        columns = [key for _, key in plan.outputs if key != ckan_datastore.ID]
        pairs = [*resource.pairs, *plan.pairs]
        if columns:
            pairs.append(("_fields", ",".join(dict.fromkeys(columns))))
        rows = ckan_datastore.collect(
            portal, resource, pairs, plan.offset, limit + more, total=False
        ).rows
        truncated = more and len(rows) > limit
    body: dict[str, Any] = {
        "sql": params["sql"],
        "records": [{out: row.get(key) for out, key in plan.outputs} for row in rows[:limit]],
        "fields": _fields(resource.schema, plan),
    }
    if truncated:
        body["records_truncated"] = True
    return body


def _fields(schema: TableSchema, plan: SqlQuery) -> list[dict[str, Any]]:
    listed = []
    for out, key in plan.outputs:
        if key in plan.aggregates:
            function, _, name = key.partition("_")
            field = schema.field(name) if function in ("min", "max") else None
            kind = "int8" if function == "count" else "numeric"
            if field is not None:
                kind = ckan_datastore.CKAN_TYPES.get(field.type, "text")
            listed.append({"id": out, "type": kind})
        else:
            listed.append({"id": out, "type": ckan_datastore.fields(schema, [key])[0]["type"]})
    return listed
