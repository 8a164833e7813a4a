"""Checks of what the doors build in code beyond the native parameters: boolean
expressions (``where``, ``having``), column transforms, offsets and limits.

The native API never produces these; the SODA and CKAN doors do, and
:func:`openblotter.domain.query.parse.check_spec` runs these checks before the
engine compiles anything, so every name is a published column (or an output of
the grouping) and every operator fits its column's type.
"""

from __future__ import annotations

from collections.abc import Callable

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import (
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_OFFSET,
    TEMPORAL_TYPES,
    TEXT_TYPES,
    And,
    Expr,
    Filter,
    GroupKey,
    Not,
    Operator,
    Or,
    QuerySpec,
    Transform,
)
from openblotter.domain.query.values import published_field
from openblotter.domain.schema import SchemaField, TableSchema

#: The column types each transform applies to, and the type of its result.
TRANSFORM_INPUTS: dict[Transform, frozenset[str]] = {
    "date_trunc_y": TEMPORAL_TYPES,
    "date_trunc_ym": TEMPORAL_TYPES,
    "date_trunc_ymd": TEMPORAL_TYPES,
    "upper": TEXT_TYPES,
    "lower": TEXT_TYPES,
}
TRANSFORM_RESULTS: dict[Transform, str] = {
    "date_trunc_y": "datetime",
    "date_trunc_ym": "datetime",
    "date_trunc_ymd": "datetime",
    "upper": "string",
    "lower": "string",
}

LeafCheck = Callable[[Filter], None]


def result_type(field: SchemaField, transform: Transform | None) -> str:
    """The type of a column after ``transform`` (its own type without one)."""
    return field.type if transform is None else TRANSFORM_RESULTS[transform]


def check_transform(field: SchemaField, transform: Transform | None, parameter: str) -> None:
    """Refuse a transform the column's type does not take (``upper`` of a number)."""
    if transform is None:
        return
    if field.type not in TRANSFORM_INPUTS[transform]:
        kinds = " or ".join(sorted(TRANSFORM_INPUTS[transform]))
        raise InvalidInput(
            f"'{parameter}': {transform}() takes a {kinds} column; '{field.name}' is {field.type}.",
            detail={"parameter": parameter, "allowed": sorted(TRANSFORM_INPUTS[transform])},
        )


def operators_for_type(kind: str) -> list[Operator]:
    """The operators a value of type ``kind`` takes in an expression (``like`` on text)."""
    names: list[Operator] = ["eq", "ne", "in", "isnull"]
    if kind != "boolean":
        names += ["gt", "gte", "lt", "lte"]
    if kind in TEXT_TYPES:
        names += ["contains", "like"]
    return names


def check_expression(expr: Expr | None, leaf: LeafCheck, parameter: str) -> None:
    """Check every filter of ``expr`` with ``leaf``, and its size and nesting."""
    if expr is None:
        return
    nodes = _walk(expr, leaf, 1, parameter)
    if nodes > MAX_EXPRESSION_NODES:
        raise InvalidInput(
            f"'{parameter}' has {nodes} conditions and groups; a query takes at most "
            f"{MAX_EXPRESSION_NODES}. List values with IN instead of many ORs.",
            detail={"parameter": parameter, "allowed": MAX_EXPRESSION_NODES, "given": nodes},
        )


def _walk(expr: Expr, leaf: LeafCheck, depth: int, parameter: str) -> int:
    if depth > MAX_EXPRESSION_DEPTH:
        raise InvalidInput(
            f"'{parameter}' nests conditions more than {MAX_EXPRESSION_DEPTH} deep.",
            detail={"parameter": parameter, "allowed": MAX_EXPRESSION_DEPTH},
        )
    if isinstance(expr, Filter):
        leaf(expr)
        return 1
    if isinstance(expr, Not):
        return 1 + _walk(expr.item, leaf, depth + 1, parameter)
    if isinstance(expr, And | Or):
        return 1 + sum(_walk(item, leaf, depth + 1, parameter) for item in expr.items)
    raise InvalidInput(  # a door built something that is not an expression
        f"'{parameter}' is not a boolean expression.", detail={"parameter": parameter}
    )


def where_leaf(schema: TableSchema, parameter: str) -> LeafCheck:
    """The check of one filter of a ``where``: a published column, an operator of its type."""

    def check(item: Filter) -> None:
        name = item.parameter or parameter
        target = published_field(schema, item.column, name)
        check_transform(target, item.transform, name)
        if item.part is not None and (item.transform is not None or item.operator == "like"):
            raise InvalidInput(
                f"'{name}': a {item.part} filter takes no function and no LIKE pattern.",
                detail={"parameter": name},
            )
        _check_operator(item, result_type(target, item.transform), name)

    return check


def having_leaf(outputs: dict[str, str], parameter: str) -> LeafCheck:
    """The check of one filter of a ``having``: an output name of the grouping, by its type."""

    def check(item: Filter) -> None:
        if item.column not in outputs:
            raise InvalidInput(
                f"'{parameter}' names '{item.column}', which is not a group or an aggregate "
                "of this query.",
                detail={"parameter": parameter, "allowed": list(outputs)},
            )
        if item.part is not None or item.transform is not None:
            raise InvalidInput(
                f"'{parameter}': compare the outputs themselves, not a part of them.",
                detail={"parameter": parameter},
            )
        _check_operator(item, outputs[item.column], parameter)

    return check


def _check_operator(item: Filter, kind: str, parameter: str) -> None:
    allowed = operators_for_type(kind)
    if item.operator not in allowed:
        raise InvalidInput(
            f"'{parameter}': a {kind} value does not take the '{item.operator}' operator.",
            detail={"parameter": parameter, "allowed": allowed},
        )
    if item.operator in ("like", "contains", "isnull") and len(item.values) != 1:
        raise InvalidInput(
            f"'{parameter}': '{item.operator}' takes one value.", detail={"parameter": parameter}
        )


def output_types(schema: TableSchema, spec: QuerySpec) -> dict[str, str]:
    """The type of every output of a grouped query, by name (what ``having`` compares)."""
    types = {key.name: _group_type(schema, key) for key in spec.group}
    for aggregate in spec.aggregates:
        if aggregate.function == "count":
            types[aggregate.name] = "integer"
        elif aggregate.function in ("sum", "avg"):
            types[aggregate.name] = "number"
        else:
            field = schema.field(aggregate.column or "")
            types[aggregate.name] = field.type if field is not None else "string"
    return types


def _group_type(schema: TableSchema, key: GroupKey) -> str:
    if key.part == "year":
        return "integer"
    if key.part is not None:
        return "string"  # 2024-Q2, 2024-05
    field = schema.field(key.column)
    return result_type(field, key.transform) if field is not None else "string"


def check_door_parts(spec: QuerySpec, schema: TableSchema) -> None:
    """The parts only doors build: ``where``, ``having``, transforms, ``offset``, ``limit``."""
    check_expression(spec.where, where_leaf(schema, "where"), "where")
    for key in (*spec.group, *spec.facets):
        if key.transform is not None:
            check_transform(published_field(schema, key.column, "group"), key.transform, "group")
    if spec.having is not None:
        if not spec.is_aggregate:
            raise InvalidInput(
                "A 'having' condition needs a grouping or an aggregate.",
                detail={"parameter": "having"},
            )
        check_expression(spec.having, having_leaf(output_types(schema, spec), "having"), "having")
    if not 0 <= spec.offset <= MAX_OFFSET:
        raise InvalidInput(
            f"An offset skips 0 to {MAX_OFFSET:,} rows, not {spec.offset}.",
            detail={"parameter": "offset", "allowed": f"0..{MAX_OFFSET}"},
        )
    if spec.limit is not None and not 0 <= spec.limit <= MAX_OFFSET:
        raise InvalidInput(
            f"A limit is 0 to {MAX_OFFSET:,} rows, not {spec.limit}.",
            detail={"parameter": "limit", "allowed": f"0..{MAX_OFFSET}"},
        )
