"""SoQL conditions (``$where``, ``$having``, simple ``col=value`` filters) as expressions of
the query model, with every literal converted to the type of what it is compared with.

SoQL follows SQL: ``x != 'a'`` and ``NOT x = 'a'`` leave out rows where ``x`` is
null, so ``!=`` becomes ``Not(eq)`` (three-valued), never the native ``ne`` (which
keeps nulls). Dates and timestamps are compared as Socrata's floating timestamps:
a ``date`` column is a timestamp at midnight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.expressions import TRANSFORM_INPUTS
from openblotter.domain.query.model import (
    MAX_LIST_VALUES,
    TEMPORAL_TYPES,
    And,
    Expr,
    Filter,
    Not,
    Operator,
    Or,
    Transform,
)
from openblotter.domain.query.soql import (
    Between,
    Call,
    Compare,
    InList,
    IsNull,
    Like,
    Literal,
    Logical,
    Name,
    Negation,
    Node,
)
from openblotter.domain.query.values import convert_value
from openblotter.domain.schema import FieldType, SchemaField

_FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPERATORS: dict[str, Operator] = {"=": "eq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
TRANSFORMS: tuple[Transform, ...] = tuple(TRANSFORM_INPUTS)


@dataclass(frozen=True)
class Operand:
    """What a condition compares: a column (or an output) and the type of its values."""

    column: str
    kind: FieldType
    transform: Transform | None = None


#: Resolves the left side of a condition (a column, a function of one, an aggregate).
Resolve = Callable[[Node, str], Operand]


def condition(node: Node, resolve: Resolve, parameter: str) -> Expr:
    """A SoQL condition as an expression of filters; InvalidInput naming what is wrong."""
    if isinstance(node, Logical):
        items = tuple(condition(item, resolve, parameter) for item in node.items)
        return And(items) if node.operator == "and" else Or(items)
    if isinstance(node, Negation):
        return Not(condition(node.item, resolve, parameter))
    if isinstance(node, Compare):
        return _compare(node, resolve, parameter)
    if isinstance(node, InList):
        target = resolve(node.operand, parameter)
        if len(node.values) > MAX_LIST_VALUES:
            raise InvalidInput(
                f"{parameter}: IN lists {len(node.values)} values; at most {MAX_LIST_VALUES}.",
                detail={"parameter": parameter, "allowed": MAX_LIST_VALUES},
            )
        values = tuple(dict.fromkeys(typed(target, v, parameter) for v in node.values))
        found = _filter(target, "in", values, parameter)
        return Not(found) if node.negated else found
    if isinstance(node, Between):
        target = resolve(node.operand, parameter)
        low = _filter(target, "gte", (typed(target, node.low, parameter),), parameter)
        high = _filter(target, "lte", (typed(target, node.high, parameter),), parameter)
        return Not(And((low, high))) if node.negated else And((low, high))
    if isinstance(node, Like):
        return _like(node, resolve, parameter)
    if isinstance(node, IsNull):
        target = resolve(node.operand, parameter)
        return _filter(target, "isnull", (not node.negated,), parameter)
    if isinstance(node, Literal) and node.kind == "boolean":
        return And(()) if node.value else Or(())
    if isinstance(node, Name | Call):
        target = resolve(node, parameter)
        if target.kind == "boolean":
            return _filter(target, "eq", (True,), parameter)
    raise not_condition(parameter)


def not_condition(parameter: str) -> InvalidInput:
    return InvalidInput(
        f"{parameter} must be a condition (a comparison, IN, BETWEEN, LIKE, IS NULL, or a "
        "checkbox column), joined by AND, OR and NOT.",
        detail={"parameter": parameter},
    )


def _compare(node: Compare, resolve: Resolve, parameter: str) -> Expr:
    left, right, symbol = node.left, node.right, node.operator
    if isinstance(left, Literal) and not isinstance(right, Literal):
        left, right, symbol = right, left, _FLIPPED[symbol]
    if not isinstance(right, Literal):
        raise InvalidInput(
            f"{parameter}: compare a column with a value ('text', 12, true); comparing two "
            "columns is not supported by this portal.",
            detail={"parameter": parameter},
        )
    target = resolve(left, parameter)
    value = typed(target, right, parameter)
    if symbol == "!=":
        return Not(_filter(target, "eq", (value,), parameter))
    return _filter(target, _OPERATORS[symbol], (value,), parameter)


def _like(node: Like, resolve: Resolve, parameter: str) -> Expr:
    target = resolve(node.operand, parameter)
    if target.kind not in ("string", "any") or not isinstance(node.pattern, Literal):
        raise InvalidInput(
            f"{parameter}: LIKE compares a text column with a 'pattern%'.",
            detail={"parameter": parameter},
        )
    found = _filter(target, "like", (str(node.pattern.value),), parameter)
    return Not(found) if node.negated else found


def _filter(target: Operand, operator: Operator, values: tuple[Any, ...], parameter: str) -> Filter:
    return Filter(target.column, operator, values, None, parameter, target.transform)


def typed(target: Operand, node: Node, parameter: str) -> Any:
    """A literal as a value of ``target``'s type (dates as floating timestamps)."""
    if not isinstance(node, Literal):
        raise InvalidInput(
            f"{parameter}: lists and ranges take values ('text', 12, true), not columns.",
            detail={"parameter": parameter},
        )
    if node.kind == "null":
        raise InvalidInput(
            f"{parameter}: compare with null using IS NULL or IS NOT NULL.",
            detail={"parameter": parameter, "allowed": ["IS NULL", "IS NOT NULL"]},
        )
    return literal_value(target.kind, node.value, parameter)


def literal_value(kind: FieldType, value: str | bool | None, parameter: str) -> Any:
    """Text (or a boolean) as a value of type ``kind``: what simple filters and literals use."""
    field = SchemaField(name=parameter, type=kind)
    if isinstance(value, bool):
        if kind != "boolean":
            raise InvalidInput(
                f"{parameter}: {str(value).lower()} is a checkbox value, and this is {kind}.",
                detail={"parameter": parameter, "type": kind},
            )
        return value
    text = str(value)
    if kind in TEMPORAL_TYPES:
        return floating_timestamp(text, parameter)
    if kind in ("integer", "year"):
        try:
            return convert_value(field, text, parameter)
        except InvalidInput:
            return convert_value(SchemaField(name=parameter, type="number"), text, parameter)
    return convert_value(field, text, parameter)


def floating_timestamp(text: str, parameter: str) -> datetime:
    """``2024-05-01``, ``2024-05-01T13:45:00`` or ``...T13:45:00.000`` as a datetime."""
    try:
        return datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        raise InvalidInput(
            f"{parameter}: '{text[:80]}' is not a floating timestamp; write it like "
            "2024-05-01T13:45:00.000 or 2024-05-01.",
            detail={"parameter": parameter, "value": text[:200], "type": "floating_timestamp"},
        ) from None


def column_operand(field: SchemaField, transform: Transform | None = None) -> Operand:
    """The operand of a published column, with the type its values compare as."""
    if transform is None:
        return Operand(field.name, field.type)
    kind: FieldType = "datetime" if transform.startswith("date_trunc") else "string"
    return Operand(field.name, kind, transform)
