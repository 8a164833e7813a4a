"""Filters of the query model: ``col=v``, ``col__op=v`` and the date parts of the main date.

Every column is checked against the schema and every value converted to its
column's type (:mod:`openblotter.domain.query.values`); ``quarter``, ``year``
and ``month`` filter the schema's main date field when it has no column of
that name.
"""

from __future__ import annotations

from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.query.model import (
    _LIST_OPERATORS,
    DATE_PARTS,
    MAX_FILTERS,
    MAX_LIST_VALUES,
    RANGE_OPERATORS,
    SUFFIX_OPERATORS,
    TEMPORAL_TYPES,
    TEXT_TYPES,
    Filter,
    Operator,
)
from openblotter.domain.query.values import (
    DatePart,
    Period,
    convert_value,
    parse_period,
    published_field,
    published_names,
)
from openblotter.domain.schema import SchemaField, TableSchema


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


def parse_filters(schema: TableSchema, pairs: list[tuple[str, str]]) -> tuple[Filter, ...]:
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
    if len(merged) + len(singles) > MAX_FILTERS:
        raise InvalidInput(
            f"The request has {len(merged) + len(singles)} filters; a query takes at most "
            f"{MAX_FILTERS}. List values of one column in one filter (col__in=a,b).",
            detail={"parameter": "", "allowed": MAX_FILTERS, "given": len(merged) + len(singles)},
        )
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
    part = date_part(schema, column)
    if part is not None:
        return _part_filter(schema, part, operator, texts, parameter)
    target = published_field(schema, column, parameter)
    check_operator(target, operator, parameter)
    if operator == "isnull":
        return Filter(column, operator, (parse_flag(parameter, texts[0]),), parameter=parameter)
    if operator == "contains":
        return Filter(column, operator, (texts[0].lower(),), parameter=parameter)
    values = tuple(dict.fromkeys(convert_value(target, t, parameter) for t in texts))
    return Filter(column, operator, values, parameter=parameter)


def check_operator(target: SchemaField, operator: Operator, parameter: str) -> None:
    allowed = _operators_for(target)
    if operator not in allowed:
        raise InvalidInput(
            f"'{parameter}': a {target.type} column does not take the '{operator}' operator.",
            detail={"parameter": parameter, "allowed": allowed},
        )


def _operators_for(target: SchemaField) -> list[str]:
    names = ["eq", "ne", "in", "isnull"]
    if target.type != "boolean":
        names += RANGE_OPERATORS
    if target.type in TEXT_TYPES:
        names.append("contains")
    return names


def date_part(schema: TableSchema, name: str) -> DatePart | None:
    """``name`` as a derived date part, when the schema has no column of that name."""
    if name in DATE_PARTS and schema.field(name) is None:
        return name
    return None


def _part_filter(
    schema: TableSchema, part: DatePart, operator: Operator, texts: list[str], parameter: str
) -> Filter:
    source = require_date_field(schema, parameter)
    if operator == "isnull":
        return Filter(source.name, operator, (parse_flag(parameter, texts[0]),), None, parameter)
    if operator == "contains":
        raise no_contains(part, parameter)
    periods: tuple[Period, ...] = tuple(
        dict.fromkeys(parse_period(part, text, parameter) for text in texts)
    )
    return Filter(source.name, operator, periods, part, parameter)


def no_contains(part: DatePart, parameter: str) -> InvalidInput:
    return InvalidInput(
        f"'{parameter}': {part} is a date part and does not take 'contains'.",
        detail={"parameter": parameter, "allowed": ["eq", "ne", "in", "isnull", *RANGE_OPERATORS]},
    )


def require_date_field(schema: TableSchema, parameter: str) -> SchemaField:
    source = main_date_field(schema)
    if source is None:
        raise NotFound(
            f"'{parameter}': this dataset has no date column for quarters, years or months.",
            detail={"parameter": parameter, "allowed": published_names(schema)},
        )
    return source


def _temporal_names(schema: TableSchema) -> list[str]:
    return [f.name for f in schema.published_fields() if f.type in TEMPORAL_TYPES]


def parse_flag(parameter: str, text: str) -> bool:
    return bool(convert_value(SchemaField(name="flag", type="boolean"), text, parameter))
