"""The values a query names: published columns, typed values, date-part periods.

Query parameters arrive as text; :func:`convert_value` turns one into its
column's type (or refuses it with an example of what to write), and
:func:`parse_period` turns a ``quarter``, ``year`` or ``month`` value into the
days it covers. :func:`json_value` is the way back, for JSON output and tokens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, Literal

from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.quarters import Quarter
from openblotter.domain.schema import SchemaField, TableSchema

DatePart = Literal["quarter", "year", "month"]
#: A date part's period: first day, and the first day after it.
Period = tuple[date, date]


def published_names(schema: TableSchema) -> list[str]:
    """The user-visible columns of a release file, in schema order."""
    return [f.name for f in schema.published_fields()]


def published_field(schema: TableSchema, name: str, parameter: str) -> SchemaField:
    """The published column ``name``; NotFound naming ``parameter`` and the columns if none."""
    found = schema.field(name)
    if found is None or not found.published:
        raise NotFound(
            f"There is no column '{name}' in this dataset (parameter '{parameter}').",
            detail={"parameter": parameter, "allowed": published_names(schema)},
        )
    return found


# --- values -----------------------------------------------------------------------------

_EXAMPLES = {
    "integer": "42", "year": "2024", "number": "12.5", "boolean": "true (or false, 1, 0, yes, no)",
    "date": "2024-05-01", "datetime": "2024-05-01T13:45:00", "time": "13:45:00",
    "quarter": "2024-Q2", "month": "2024-05",
}  # fmt: skip
_INTEGER = re.compile(r"[+-]?\d{1,19}")
# Each digit run is matched one way only (no ``\d+\.?\d*``), so a failed match is linear.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")
_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_INT64 = 2**63


def _to_integer(text: str) -> int:
    if not _INTEGER.fullmatch(text) or not -_INT64 <= int(text) < _INT64:
        raise ValueError(text)
    return int(text)


def _to_number(text: str) -> float:
    if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
        raise ValueError(text)
    return float(text)


def _to_boolean(text: str) -> bool:
    return _BOOLEANS[text.lower()]


def _matched(pattern: re.Pattern[str], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        if not pattern.fullmatch(text):
            raise ValueError(text)
        return parse(text)

    return convert


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": _to_integer,
    "year": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _matched(_DATE, date.fromisoformat),
    "datetime": _matched(_DATETIME, datetime.fromisoformat),
    "time": _matched(_TIME, time.fromisoformat),
}


def convert_value(target: SchemaField, text: str, parameter: str) -> Any:
    """``text`` as a value of ``target``'s type; InvalidInput naming the type and an example."""
    convert = _CONVERTERS.get(target.type)
    if convert is None:
        return text
    try:
        return convert(text.strip())
    except (ValueError, KeyError):
        raise _bad_value(parameter, text, target.type) from None


def _bad_value(parameter: str, text: str, kind: str) -> InvalidInput:
    example = _EXAMPLES.get(kind, "a value")
    return InvalidInput(
        f"'{parameter}': '{text[:80]}' is not a {kind}; write it like {example}.",
        detail={"parameter": parameter, "value": text[:200], "type": kind, "allowed": example},
    )


def parse_period(part: DatePart, text: str, parameter: str) -> Period:
    """The period a ``quarter`` (2024-Q2), ``year`` (2024) or ``month`` (2024-05) value covers."""
    stripped = text.strip()
    try:
        if part == "quarter" and (match := _QUARTER.fullmatch(stripped)):
            quarter = Quarter(int(match[1]), int(match[2]))
            return quarter.start, quarter.next().start
        if part == "month" and (match := _MONTH.fullmatch(stripped)):
            start = date(int(match[1]), int(match[2]), 1)
            return start, date(start.year + start.month // 12, start.month % 12 + 1, 1)
        if part == "year" and re.fullmatch(r"\d{4}", stripped):
            return date(int(stripped), 1, 1), date(int(stripped) + 1, 1, 1)
    except ValueError:
        pass
    raise _bad_value(parameter, text, part)


def json_value(value: Any) -> Any:
    """A value as JSON holds it: dates, datetimes and times as ISO strings."""
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    return value
