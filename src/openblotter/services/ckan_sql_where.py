"""The ``WHERE`` of a ``datastore_search_sql`` statement as a query-model expression.

Conditions become the query model's filters (typed by :func:`parse_filters`,
so a value is checked against its column as the native API checks it), joined
by ``And``, ``Or`` and ``Not`` with SQL's three-valued logic: ``a <> 'x'`` and
``NOT a = 'x'`` leave out rows where ``a`` is null, as PostgreSQL does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlglot import exp

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.filters import parse_filters
from openblotter.domain.query.model import And, Expr, Filter, Not, Operator, Or
from openblotter.domain.query.values import convert_value
from openblotter.domain.schema import SchemaField, TableSchema

_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "", exp.NEQ: "", exp.GT: "__gt", exp.GTE: "__gte", exp.LT: "__lt", exp.LTE: "__lte",
}  # fmt: skip
_FLIPPED = {"__gt": "__lt", "__gte": "__lte", "__lt": "__gt", "__lte": "__gte"}
#: A schema with no field: values compared in HAVING are typed by their output, not a column.
_NO_SCHEMA = TableSchema(fields=[])


def invalid(message: str) -> InvalidInput:
    """CKAN's answer to SQL it will not run: a Validation Error on ``query``."""
    return InvalidInput(message, detail={"parameter": "sql", "ckan": {"query": [message]}})


def _logic(node: exp.Expression, condition: Callable[[exp.Expression], Expr]) -> Expr:
    """Parentheses, ``AND``, ``OR`` and ``NOT`` of a condition as the query model's; each
    comparison under them is made by ``condition``."""
    if isinstance(node, exp.Paren):
        return _logic(node.this, condition)
    if isinstance(node, exp.And | exp.Or):
        items = tuple(
            _logic(item, condition) for item in node.flatten() if isinstance(item, exp.Expression)
        )
        return And(items) if isinstance(node, exp.And) else Or(items)
    if isinstance(node, exp.Not):
        return Not(_logic(node.this, condition))
    return condition(node)


def where_expression(node: exp.Expression, schema: TableSchema) -> Expr:
    """The condition as an expression of typed filters over ``schema``'s published columns."""
    return _logic(node, lambda comparison: _where_condition(comparison, schema))


def _where_condition(node: exp.Expression, schema: TableSchema) -> Expr:
    if isinstance(node, exp.NEQ):
        return Not(_comparison(node, schema))
    if type(node) in _COMPARISONS:
        return _comparison(node, schema)
    if isinstance(node, exp.In):
        name = filter_column(node.this, schema)
        return _leaf(schema, [(name, _value(v, schema, name, "")) for v in node.expressions])
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return _leaf(schema, [(f"{filter_column(node.this, schema)}__isnull", "true")])
    if isinstance(node, exp.Like | exp.ILike):
        return _like(node, schema)
    if isinstance(node, exp.Between):
        name = filter_column(node.this, schema)
        low = _value(node.args["low"], schema, name, "__gte")
        high = _value(node.args["high"], schema, name, "__lte")
        return And(
            (_leaf(schema, [(f"{name}__gte", low)]), _leaf(schema, [(f"{name}__lte", high)]))
        )
    raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a condition allowed here.")


def _leaf(schema: TableSchema, pairs: list[tuple[str, str]]) -> Filter:
    (only,) = parse_filters(schema, pairs)  # one column: values of one filter
    return only


def filter_column(node: exp.Expression, schema: TableSchema) -> str:
    """A published column named in a condition (``_id`` and date parts are not columns here)."""
    if not isinstance(node, exp.Column) or node.table:
        raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a column of this resource.")
    name = str(node.name)
    found = schema.field(name)
    if found is None or not found.published:
        raise invalid(f'column "{name}" does not exist')
    return name


def _comparison(node: exp.Expression, schema: TableSchema) -> Filter:
    suffix = _COMPARISONS[type(node)]
    left, right = node.this, node.expression
    if isinstance(left, exp.Literal | exp.Neg | exp.Boolean) and isinstance(right, exp.Column):
        left, right, suffix = right, left, _FLIPPED.get(suffix, suffix)
    name = filter_column(left, schema)
    return _leaf(schema, [(f"{name}{suffix}", _value(right, schema, name, suffix))])


def _like(node: exp.Like | exp.ILike, schema: TableSchema) -> Filter:
    name = filter_column(node.this, schema)
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise invalid("LIKE takes a quoted pattern ('%text%').")
    text = str(pattern.this)
    if isinstance(node, exp.ILike):  # case-insensitive: both sides lowercased
        return Filter(name, "like", (text.lower(),), parameter=name, transform="lower")
    return Filter(name, "like", (text,), parameter=name)


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
    if moment == datetime(day.year, day.month, day.day):
        return day.isoformat()
    if suffix in ("__gte", "__lt"):  # d >= 5th 13:00 is d >= 6th; d < 5th 13:00 is d < 6th
        return (day + timedelta(days=1)).isoformat()
    if suffix in ("__gt", "__lte"):
        return day.isoformat()
    raise invalid(f"A date column never equals '{text[:40]}', a moment within a day.")


#: Resolves an output named in HAVING (a column, an alias, an aggregate) to its model key
#: and the type of its values.
Resolve = Callable[[exp.Expression], tuple[str, str]]
_HAVING_OPERATORS: dict[type[exp.Expression], Operator] = {
    exp.EQ: "eq", exp.NEQ: "eq", exp.GT: "gt", exp.GTE: "gte", exp.LT: "lt", exp.LTE: "lte",
}  # fmt: skip


def having_expression(node: exp.Expression, resolve: Resolve) -> Expr:
    """The HAVING condition as an expression over the grouping's outputs."""
    return _logic(node, lambda comparison: _having_condition(comparison, resolve))


def _having_condition(node: exp.Expression, resolve: Resolve) -> Expr:
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        key, _ = resolve(node.this)
        return Filter(key, "isnull", (True,), parameter="having")
    operator = _HAVING_OPERATORS.get(type(node))
    if operator is None:
        raise invalid(f"'{node.sql(dialect='postgres')[:80]}' is not a HAVING condition here.")
    key, kind = resolve(node.this)
    text = _value(node.expression, _NO_SCHEMA, "", "")
    value = convert_value(SchemaField.model_validate({"name": key, "type": kind}), text, "having")
    leaf = Filter(key, operator, (value,), parameter="having")
    return Not(leaf) if isinstance(node, exp.NEQ) else leaf
