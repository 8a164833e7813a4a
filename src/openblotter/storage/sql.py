"""The SQL of a query: a QuerySpec as DuckDB text over one release, values bound.

The release is its serving copy (a DuckDB table, storage/serving.py) once attached,
else its Parquet file.

SQL text is built only from names checked against the schema (and quoted) and
from fixed keywords; every value, the file path included, is a bound
parameter. The engine (:mod:`openblotter.storage.engine`) runs what is built here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openblotter.domain.errors import NotFound
from openblotter.domain.query.model import (
    TEXT_TYPES,
    Aggregate,
    And,
    Expr,
    Filter,
    GroupKey,
    Not,
    QuerySpec,
    Transform,
)
from openblotter.domain.releases import ROW_ID
from openblotter.domain.schema import TableSchema

_RANGE_SYMBOLS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TRUNCATIONS = {"date_trunc_y": "year", "date_trunc_ym": "month", "date_trunc_ymd": "day"}
#: A "not" filter of up to this many values is a chain of IS DISTINCT FROM, not NOT IN.
_DISTINCT_CHAIN = 8
#: The SQL operand of a filter: a checked column (or output), possibly transformed.
Operand = Callable[[Filter], str]


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class Statement:
    """SQL text built from schema-checked names, and the values bound to it."""

    def __init__(
        self,
        path: Path,
        schema: TableSchema,
        stored: Mapping[str, str],
        *,
        table: str | None = None,
    ) -> None:
        self.fields = {f.name: f for f in schema.published_fields()}
        self.stored = stored
        self.params: list[Any] = []
        # ``table``: the file's serving copy (storage/serving.py), a name the engine made.
        self.source = table or f"read_parquet({self.bind(str(path))})"

    def bind(self, value: Any) -> str:
        """A placeholder (``$n``) for ``value``, which is added to ``params``."""
        self.params.append(value)
        return f"${len(self.params)}"

    def column(self, name: str) -> str:
        """A published column, quoted (times stored in nanoseconds cast to TIME)."""
        if name not in self.fields:
            raise NotFound(
                f"There is no column '{name}' in this dataset.",
                detail={"parameter": name, "allowed": list(self.fields)},
            )
        if self.stored.get(name) == "TIME_NS":
            # polars writes times in nanoseconds; DuckDB will not compare TIME_NS with TIME.
            return f"CAST({quote(name)} AS TIME)"
        return quote(name)

    def where(self, spec: QuerySpec, *, keyset: bool = False) -> str:
        """The WHERE clause of the filters and search (and the cursor if ``keyset``)."""
        parts = [self._condition(item) for item in spec.filters]
        if spec.where is not None:
            parts.append(self.expression(spec.where, self.operand))
        parts += [self._search(term) for term in spec.search]
        if keyset and spec.after is not None:
            parts.append(self._after(spec))
        return "WHERE " + " AND ".join(parts) if parts else ""

    def operand(self, item: Filter) -> str:
        """A filter's column, with its transform applied."""
        return transformed(self.column(item.column), item.transform)

    def expression(self, expr: Expr, operand: Operand) -> str:
        """A boolean expression of filters (AND, OR, NOT), each on ``operand(filter)``.

        SQL's three-valued logic applies: NOT of a condition on a null is not true.
        """
        if isinstance(expr, Filter):
            return self._condition(expr, operand(expr))
        if isinstance(expr, Not):
            return f"(NOT {self.expression(expr.item, operand)})"
        if not expr.items:
            return "TRUE" if isinstance(expr, And) else "FALSE"
        joiner = " AND " if isinstance(expr, And) else " OR "
        return "(" + joiner.join(self.expression(item, operand) for item in expr.items) + ")"

    def _condition(self, item: Filter, operand: str | None = None) -> str:
        column = self.column(item.column) if operand is None else operand
        if item.operator == "isnull":
            return f"{column} IS {'' if item.values[0] else 'NOT '}NULL"
        if item.part is not None:
            return self._period_condition(column, item)
        if item.operator == "contains":
            return f"contains(lower({column}), {self.bind(str(item.values[0]).lower())})"
        if item.operator == "like":
            return f"({column} LIKE {self.bind(str(item.values[0]))})"
        if item.operator == "ne" and 0 < len(item.values) <= _DISTINCT_CHAIN:
            # The same rows as the NOT IN form below (nulls kept), which DuckDB runs about
            # 4x slower: the OR keeps the filter out of the scan (docs/performance.md).
            distinct = (f"{column} IS DISTINCT FROM {self.bind(v)}" for v in item.values)
            return "(" + " AND ".join(distinct) + ")"
        if item.operator in ("eq", "in", "ne"):
            listed = ", ".join(self.bind(v) for v in item.values) or "NULL"
            if item.operator == "ne":
                return f"({column} IS NULL OR {column} NOT IN ({listed}))"
            return f"{column} IN ({listed})"
        symbol = _RANGE_SYMBOLS[item.operator]
        return " AND ".join(f"{column} {symbol} {self.bind(v)}" for v in item.values) or "TRUE"

    def _period_condition(self, column: str, item: Filter) -> str:
        as_datetime = self.fields[item.column].type == "datetime"
        bounds = [(_bound(s, as_datetime), _bound(e, as_datetime)) for s, e in item.values]
        if item.operator in ("eq", "in", "ne"):
            inside = " OR ".join(
                f"({column} >= {self.bind(s)} AND {column} < {self.bind(e)})" for s, e in bounds
            )
            if item.operator == "ne":
                return f"({column} IS NULL OR NOT ({inside or 'FALSE'}))"
            return f"({inside or 'FALSE'})"
        pick = {"gt": (1, ">="), "gte": (0, ">="), "lt": (0, "<"), "lte": (1, "<")}
        index, symbol = pick[item.operator]
        return " AND ".join(f"{column} {symbol} {self.bind(b[index])}" for b in bounds) or "TRUE"

    def _search(self, term: str) -> str:
        value = self.bind(term.lower())
        texts = [quote(n) for n, f in self.fields.items() if f.type in TEXT_TYPES]
        return "(" + (" OR ".join(f"contains(lower({c}), {value})" for c in texts) or "FALSE") + ")"

    def _after(self, spec: QuerySpec) -> str:
        """Rows after the cursor in (sort keys..., _row_id) order; nulls sort last."""
        assert spec.after is not None
        ties: list[str] = []
        options: list[str] = []
        for key, value in zip(spec.sort, spec.after.values, strict=True):
            column = self.column(key.column)
            if value is not None:
                bound = self.bind(_bound(value, self.fields[key.column].type == "datetime"))
                beyond = f"{column} {'<' if key.descending else '>'} {bound}"
                options.append("(" + " AND ".join([*ties, f"({beyond} OR {column} IS NULL)"]) + ")")
                ties.append(f"{column} = {bound}")
            else:
                ties.append(f"{column} IS NULL")
        options.append(
            "(" + " AND ".join([*ties, f"{ROW_ID} > {self.bind(spec.after.row_id)}"]) + ")"
        )
        return "(" + " OR ".join(options) + ")"

    def order_by(self, spec: QuerySpec) -> str:
        """ORDER BY the sort keys, nulls last, then ``_row_id``."""
        keys = [
            f"{self.column(k.column)} {'DESC' if k.descending else 'ASC'} NULLS LAST"
            for k in spec.sort
        ]
        return "ORDER BY " + ", ".join([*keys, f"{ROW_ID} ASC"])

    def group_expression(self, key: GroupKey) -> str:
        """A per-row key; date parts are integers (2024*10+2) so they group and sort cheaply."""
        column = transformed(self.column(key.column), key.transform)
        if key.part == "year":
            return f"year({column})"
        if key.part == "quarter":
            return f"(year({column}) * 10 + quarter({column}))"
        if key.part == "month":
            return f"(year({column}) * 100 + month({column}))"
        return column

    def aggregate_expression(self, aggregate: Aggregate) -> str:
        """An aggregate of the matched rows; number sums and averages are compensated (Kahan)."""
        if aggregate.column is None:
            return "count(*)"
        column = self.column(aggregate.column)
        if self.fields[aggregate.column].type == "number" and aggregate.function in ("sum", "avg"):
            return f"{'fsum' if aggregate.function == 'sum' else 'favg'}({column})"
        return f"{aggregate.function}({column})"


def transformed(column: str, transform: Transform | None) -> str:
    """``column`` with a transform applied; truncated dates are timestamps, as SoQL gives them."""
    if transform is None:
        return column
    if transform in _TRUNCATIONS:
        return f"CAST(date_trunc('{_TRUNCATIONS[transform]}', {column}) AS TIMESTAMP)"
    return f"{'upper' if transform == 'upper' else 'lower'}({column})"


def _bound(value: Any, as_datetime: bool) -> Any:
    if as_datetime and isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


def group_label(key: GroupKey, inner: str) -> str:
    """The integer key of a date part as people read it (2024-Q2, 2024-05)."""
    if key.part == "quarter":
        return f"printf('%04d-Q%d', {inner} // 10, {inner} % 10)"
    if key.part == "month":
        return f"printf('%04d-%02d', {inner} // 100, {inner} % 100)"
    return inner
