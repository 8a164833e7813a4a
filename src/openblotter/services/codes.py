"""Filters on coded columns name a code: ``subject_race=Black`` is a 400 listing the codes.

A coded column (a schema ``enum`` or ``valueMap``) holds codes such as "Black
or African American". A filter ``col=value`` whose value is none of them would
silently match no row; instead it is refused with the valid codes. A value the
release really holds (a source code no map knew, kept as it was and reported
at publish time) is still a valid filter.
"""

from __future__ import annotations

from collections.abc import Callable

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import Filter, QuerySpec
from openblotter.domain.schema import SchemaField, TableSchema

#: Codes listed in a message; the detail's ``allowed`` has them all.
SHOWN_CODES = 30


def codes_of(field: SchemaField) -> list[str]:
    """The codes of a coded column, in schema order: its enum, then its value map's targets."""
    codes = [str(code) for code in field.enum or []]
    codes += [code for code in field.value_map.values() if code not in codes]
    return list(dict.fromkeys(codes))


def check_coded_filters(
    schema: TableSchema, spec: QuerySpec, occurs: Callable[[str, str], bool]
) -> None:
    """Refuse an ``=``/``in`` filter on a coded column naming no code and no value of the release.

    ``occurs(column, value)`` says whether the release holds the value (asked only
    for values that are not codes).
    """
    for condition in spec.filters:
        field = _coded_field(schema, condition)
        if field is None:
            continue
        codes = codes_of(field)
        for value in condition.values:
            if isinstance(value, str) and value not in codes and not occurs(field.name, value):
                raise _not_a_code(condition, field, value, codes)


def _coded_field(schema: TableSchema, condition: Filter) -> SchemaField | None:
    if condition.operator not in ("eq", "in") or condition.part is not None:
        return None
    field = schema.field(condition.column)
    if field is None or field.type != "string" or not (field.enum or field.value_map):
        return None
    return field


def _not_a_code(
    condition: Filter, field: SchemaField, value: str, codes: list[str]
) -> InvalidInput:
    parameter = condition.parameter or condition.column
    shown = ", ".join(codes[:SHOWN_CODES]) + (" …" if len(codes) > SHOWN_CODES else "")
    hint = suggestion(field, value, codes)
    return InvalidInput(
        f"'{parameter}={value}': '{value}' is not a code of {field.name}"
        + (f" ({field.title})" if field.title else "")
        + f", so no row could match. {hint}Codes: {shown}.",
        detail={"parameter": parameter, "value": value, "allowed": codes},
    )


def suggestion(field: SchemaField, value: str, codes: list[str]) -> str:
    """ "Did you mean 'Black or African American'? " when a spelling or a start matches one code."""
    folded = value.strip().casefold()
    mapped = field.normalized_value_map().get(folded)
    if mapped is None:
        starting = [c for c in codes if c.casefold().startswith(folded)] if folded else []
        mapped = starting[0] if len(starting) == 1 else None
    return f"Did you mean '{mapped}'? " if mapped else ""
