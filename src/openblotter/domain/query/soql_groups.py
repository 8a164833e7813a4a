"""SoQL groupings: ``$group``, aggregates in ``$select``, ``$having`` and ``$order`` over the
outputs, as the query model's group keys, aggregates, having and sort.

Names follow Socrata: an output is named by its alias, else a column by its
name, ``count(*)`` as ``count``, ``sum(x)`` as ``sum_x``, ``date_trunc_ym(d)`` as
``date_trunc_ym_d``. An aggregate used only in ``$having`` or ``$order`` is
computed and left out of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.expressions import check_transform
from openblotter.domain.query.model import (
    AGG_FUNCTIONS,
    AggFunction,
    Aggregate,
    Expr,
    GroupKey,
    SortKey,
    Transform,
)
from openblotter.domain.query.soql import Call, Name, Node, Selected, Statement
from openblotter.domain.query.soql_conditions import (
    TRANSFORMS,
    Operand,
    column_operand,
    condition,
)
from openblotter.domain.query.values import published_field, published_names
from openblotter.domain.schema import FieldType, TableSchema

#: SODA types by Table Schema type (Socrata has no time of day: text).
SODA_TYPES = {
    "string": "text", "any": "text", "time": "text", "integer": "number", "number": "number",
    "year": "number", "boolean": "checkbox", "date": "floating_timestamp",
    "datetime": "floating_timestamp",
}  # fmt: skip


@dataclass(frozen=True)
class OutputField:
    """A field of the answer: its name, where its values come from, its SODA type."""

    name: str
    source: str
    soda_type: str


@dataclass(frozen=True)
class Grouping:
    keys: tuple[GroupKey, ...]
    aggregates: tuple[Aggregate, ...]
    having: Expr | None
    sort: tuple[SortKey, ...]
    fields: tuple[OutputField, ...]


def soda_type(kind: str) -> str:
    """The SODA type of a Table Schema type (``floating_timestamp`` for dates)."""
    return SODA_TYPES.get(kind, "text")


def column_of(schema: TableSchema, node: Node, parameter: str) -> Operand:
    """A column, or upper/lower/date_trunc_* of one, as a condition's operand."""
    if isinstance(node, Name):
        if node.name.startswith(":"):
            raise InvalidInput(
                f"{parameter}: system fields such as {node.name} cannot be filtered here; "
                "filter on the dataset's columns.",
                detail={"parameter": parameter, "allowed": published_names(schema)},
            )
        return column_operand(published_field(schema, node.name, parameter))
    if isinstance(node, Call) and node.function in TRANSFORMS:
        if len(node.args) != 1 or not isinstance(node.args[0], Name):
            raise InvalidInput(
                f"{parameter}: {node.function}() takes one column.",
                detail={"parameter": parameter},
            )
        transform: Transform = node.function
        found = published_field(schema, node.args[0].name, parameter)
        check_transform(found, transform, parameter)
        return column_operand(found, transform)
    if isinstance(node, Call) and node.function in AGG_FUNCTIONS:
        raise InvalidInput(
            f"{parameter}: aggregates such as {node.function}() go in $select, $having or "
            "$order of a grouped query.",
            detail={"parameter": parameter},
        )
    if isinstance(node, Call):
        raise InvalidInput(
            f"{parameter}: {node.function}() is not a function this portal knows.",
            detail={"parameter": parameter, "allowed": [*TRANSFORMS, *AGG_FUNCTIONS]},
        )
    raise InvalidInput(
        f"{parameter}: expected a column or a function of one.", detail={"parameter": parameter}
    )


def grouping(schema: TableSchema, statement: Statement) -> Grouping | None:
    """The grouping of a statement, or None when it asks for rows."""
    aggregated = any(_is_aggregate(item.expr) for item in statement.select)
    if not (statement.group or aggregated or statement.having):
        return None
    return _Builder(schema, statement).build()


def _is_aggregate(node: Node) -> bool:
    return isinstance(node, Call) and node.function in AGG_FUNCTIONS


class _Builder:
    """Collects group keys and aggregates as the clauses name them."""

    def __init__(self, schema: TableSchema, statement: Statement) -> None:
        self.schema = schema
        self.statement = statement
        self.aliases = {s.alias: s.expr for s in statement.select if s.alias is not None}
        self.keys: list[GroupKey] = []
        self.aggregates: list[Aggregate] = []

    def build(self) -> Grouping:
        for node in self.statement.group or ():
            self.keys.append(self._group_key(node))
        fields = [self._selected(item) for item in self.statement.select]
        having = None
        if self.statement.having is not None:
            having = condition(self.statement.having, self._output, "$having")
        sort = []
        for item in self.statement.order or ():
            name = self._output(item.expr, "$order").column
            sort.append(SortKey(name, item.descending))
        unique = {k.column: k for k in reversed(sort)}
        return Grouping(
            tuple(self.keys),
            tuple(self.aggregates),
            having,
            tuple(k for k in sort if unique[k.column] is k),
            tuple(fields),
        )

    def _group_key(self, node: Node) -> GroupKey:
        alias = node.name if isinstance(node, Name) and node.name in self.aliases else None
        expr = self.aliases[alias] if alias is not None else node
        operand = column_of(self.schema, expr, "$group")
        for selected in self.statement.select:
            if selected.alias is not None and selected.expr == expr:
                alias = selected.alias
        default = (
            operand.column if operand.transform is None else f"{operand.transform}_{operand.column}"
        )
        return GroupKey(alias or default, operand.column, transform=operand.transform)

    def _matching_key(self, node: Node, parameter: str) -> GroupKey:
        operand = column_of(self.schema, node, parameter)
        for key in self.keys:
            if (key.column, key.transform) == (operand.column, operand.transform):
                return key
        raise InvalidInput(
            f"{parameter}: '{_text(node)}' is neither grouped nor an aggregate; add it to "
            "$group or aggregate it (count, sum, avg, min, max).",
            detail={"parameter": parameter, "allowed": [k.name for k in self.keys]},
        )

    def _selected(self, item: Selected) -> OutputField:
        if isinstance(item.expr, Name) and item.expr.name in ("*", ":*"):
            raise InvalidInput(
                "$select * does not apply to a grouped query; list groups and aggregates.",
                detail={"parameter": "$select"},
            )
        if _is_aggregate(item.expr):
            aggregate = self._aggregate(item.expr, item.alias)  # type: ignore[arg-type]
            return OutputField(aggregate.name, aggregate.name, self._aggregate_type(aggregate))
        key = self._matching_key(item.expr, "$select")
        kind = soda_type(self._key_type(key))
        return OutputField(item.alias or key.name, key.name, kind)

    def _aggregate(self, call: Call, alias: str | None) -> Aggregate:
        function: AggFunction = call.function  # type: ignore[assignment]
        column = None
        if not call.star:
            if len(call.args) != 1 or not isinstance(call.args[0], Name):
                raise InvalidInput(
                    f"{call.function}() takes one column (or * for count).",
                    detail={"parameter": "$select"},
                )
            column = published_field(self.schema, call.args[0].name, "$select").name
        elif function != "count":
            raise InvalidInput(
                f"{function}(*) is not an aggregate; use count(*) or {function}(column).",
                detail={"parameter": "$select"},
            )
        for existing in self.aggregates:
            if (existing.function, existing.column) == (function, column) and alias is None:
                return existing
        made = Aggregate(function, column, alias)
        self.aggregates.append(made)
        return made

    def _output(self, node: Node, parameter: str) -> Operand:
        """A name in $having or $order: an alias, a group, or an aggregate (computed if new)."""
        if isinstance(node, Name):
            for aggregate in self.aggregates:
                if aggregate.name == node.name:
                    return Operand(aggregate.name, self._aggregate_kind(aggregate))
            for key in self.keys:
                if key.name == node.name:
                    return Operand(key.name, self._key_type(key))
        if _is_aggregate(node):
            aggregate = self._aggregate(node, None)  # type: ignore[arg-type]
            return Operand(aggregate.name, self._aggregate_kind(aggregate))
        key = self._matching_key(node, parameter)
        return Operand(key.name, self._key_type(key))

    def _key_type(self, key: GroupKey) -> FieldType:
        found = published_field(self.schema, key.column, "$group")
        return column_operand(found, key.transform).kind

    def _aggregate_kind(self, aggregate: Aggregate) -> FieldType:
        if aggregate.function == "count":
            return "integer"
        if aggregate.function in ("sum", "avg"):
            return "number"
        return published_field(self.schema, aggregate.column or "", "$select").type

    def _aggregate_type(self, aggregate: Aggregate) -> str:
        return soda_type(self._aggregate_kind(aggregate))


def _text(node: Node) -> str:
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.function}(...)"
    return "expression"
