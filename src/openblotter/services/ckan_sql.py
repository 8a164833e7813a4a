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
from dataclasses import dataclass, field, replace
from typing import Any

import sqlglot
from sqlglot import Dialect, exp
from sqlglot.tokenizer_core import Token, TokenType

from openblotter.domain.errors import Forbidden, InvalidInput
from openblotter.domain.query.model import Expr
from openblotter.domain.schema import TableSchema
from openblotter.services import ckan_datastore, query
from openblotter.services.ckan_sql_where import having_expression, invalid, where_expression
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
    exp.TableAlias, exp.Having, *FUNCTIONS,
)  # fmt: skip
#: Parentheses nested, and NOTs, in one statement (the query model allows 20 levels).
MAX_NESTING = 20
POSTGRES = Dialect.get_or_raise("postgres")
#: Characters of SQL one request may send (CKAN has no bound; a parser should).
MAX_SQL = 8_000


def parse(sql: Any) -> exp.Select:
    """One SELECT, every node on the allow-list; InvalidInput or Forbidden otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("Missing value", detail={"ckan": {"sql": ["Missing value"]}})
    if len(sql) > MAX_SQL:
        raise invalid(f"The statement has {len(sql):,} characters; at most {MAX_SQL:,}.")
    try:
        _check_nesting(POSTGRES.tokenize(sql))
        statements = [s for s in sqlglot.parse(sql, read=POSTGRES) if s is not None]
    except sqlglot.errors.SqlglotError as error:
        raise invalid(f"Invalid SQL: {str(error).splitlines()[0]}") from None
    except RecursionError:  # the nesting check should have caught it first
        raise invalid(f"The statement nests deeper than {MAX_NESTING} levels.") from None
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


def _check_nesting(tokens: list[Token]) -> None:
    """Refuse deep nesting before the (recursive) parser sees it: parentheses and NOTs."""
    depth = deepest = nots = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.NOT:
            nots += 1
    if deepest > MAX_NESTING or nots > MAX_NESTING:
        raise invalid(f"The statement nests deeper than {MAX_NESTING} levels.")


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
    #: The WHERE as a query-model expression.
    where: Expr | None = None
    #: The HAVING, over the grouping's outputs.
    having: Expr | None = None
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
        result.where = where_expression(where.this, schema)
    _grouping(select, schema, result)
    having = select.args.get("having")
    if having is not None:
        if not result.aggregate:
            raise invalid("HAVING needs GROUP BY or an aggregate.")
        result.having = having_expression(having.this, lambda node: _output(node, schema, result))
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


def _output(node: exp.Expression, schema: TableSchema, result: SqlQuery) -> tuple[str, str]:
    """An output HAVING names (an alias, a group column, an aggregate), its key and type; an
    aggregate not selected is computed for HAVING and left out of the records."""
    if type(node) in FUNCTIONS:
        model = _aggregate(node, FUNCTIONS[type(node)], schema)
        if ("_agg", model) not in result.pairs:
            result.pairs.append(("_agg", model))
        function, _, column = model.partition(":")
        field = schema.field(column)
        kind = {"count": "integer", "sum": "number", "avg": "number"}.get(function)
        return model.replace(":", "_"), kind or (field.type if field else "string")
    if isinstance(node, exp.Column) and not node.table:
        by_output = dict(result.outputs)
        key = by_output.get(str(node.name))
        if key in result.aggregates:
            function, _, column = key.partition("_")
            field = schema.field(column)
            kind = {"count": "integer", "sum": "number", "avg": "number"}.get(function)
            return key, kind or (field.type if field else "string")
        field = schema.field(key or "")
        if key is not None and field is not None:
            return key, field.type
    raise invalid(f"HAVING names '{node.sql(dialect='postgres')[:80]}', not an output here.")


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
        found = query.aggregate(
            portal,
            resource.dataset_id,
            [*resource.pairs, *plan.pairs],
            refine=lambda spec: replace(
                spec, where=plan.where, having=plan.having, offset=plan.offset
            ),
        )
        rows = found["groups"]
        short = found["truncated"] and (plan.limit is None or len(rows) < plan.limit)
        truncated = (more and len(rows) > limit) or short
    else:
        columns = [key for _, key in plan.outputs if key != ckan_datastore.ID]
        pairs = [*resource.pairs, *plan.pairs]
        if columns:
            pairs.append(("_fields", ",".join(dict.fromkeys(columns))))
        rows = ckan_datastore.collect(
            portal, resource, pairs, plan.offset, limit + more, total=False, where=plan.where
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
