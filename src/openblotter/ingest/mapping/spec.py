"""The pieces of a mapping file, parsed and checked (the format is in ingest.mapping.apply)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openblotter.domain.errors import InvalidInput


@dataclass(frozen=True)
class Source:
    """One source column, or alternatives: the first the file has is used."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class Concat:
    """Several columns joined into one value (a key made of parts)."""

    columns: tuple[str, ...]
    separator: str = "-"


@dataclass(frozen=True)
class Combine:
    """Several columns as one multi-valued field (non-blank cells, in column order)."""

    columns: tuple[str, ...]
    separator: str = ", "


@dataclass(frozen=True)
class RowNumber:
    """The row's number in the source file (spreadsheet numbering), with an optional prefix."""

    prefix: str = ""


@dataclass(frozen=True)
class Copy:
    """The values of another family field, after that field's value map."""

    field: str


@dataclass(frozen=True)
class Flags:
    """Yes/no columns as one multi-valued field: the names of the columns that say yes."""

    columns: tuple[str, ...]
    separator: str = ", "


@dataclass(frozen=True)
class DateInText:
    """The first date written in a text column (ingest.text_dates)."""

    columns: tuple[str, ...]


#: Cell values that mean yes in a ``flags`` column (trimmed, case-folded).
YES = ("yes", "y", "true", "t", "1", "x")

ColumnSpec = Source | Concat | Combine | RowNumber | Copy | Flags | DateInText


@dataclass(frozen=True)
class Skip:
    """Rows that are not records (a repeated header, a divider, a voided entry)."""

    column: str
    values: tuple[str, ...] = ()
    matches: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Explode:
    fields: tuple[str, ...]
    separator: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class Join:
    name: str
    files: tuple[str, ...]
    on: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    number: str | None = None


@dataclass(frozen=True)
class Unpivot:
    column: str
    value_field: str
    set: dict[str, str]


def as_strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise InvalidInput(f"{where}: expected text or a list of text, got {value!r}.")


def column_spec(value: Any, where: str) -> ColumnSpec:
    if isinstance(value, str | list):
        return Source(tuple(as_strings(value, where)))
    if isinstance(value, dict):
        keys = set(value) - {"separator", "prefix"}
        if keys == {"concat"}:
            return Concat(tuple(as_strings(value["concat"], where)), value.get("separator", "-"))
        if keys == {"combine"}:
            return Combine(tuple(as_strings(value["combine"], where)), value.get("separator", ", "))
        if keys == {"row_number"} and value["row_number"] is True:
            return RowNumber(str(value.get("prefix", "")))
        if keys == {"copy"}:
            return Copy(str(value["copy"]))
        if keys == {"flags"}:
            return Flags(tuple(as_strings(value["flags"], where)), value.get("separator", ", "))
        if keys == {"date_in_text"}:
            return DateInText(tuple(as_strings(value["date_in_text"], where)))
    raise InvalidInput(
        f"{where}: {value!r} is not a column source. Use a column name, a list of alternative "
        "names, or one of {{ concat = [...] }}, {{ combine = [...] }}, {{ row_number = true }}, "
        '{{ copy = "field" }}, {{ flags = [...] }}, {{ date_in_text = "column" }}.'
    )


def explode_spec(value: dict[str, Any], where: str) -> Explode:
    if "fields" not in value or set(value) - {"fields", "separator", "number"}:
        raise InvalidInput(f"{where}: needs 'fields' and may have 'separator' and 'number'.")
    return Explode(
        tuple(as_strings(value["fields"], where)), value.get("separator"), value.get("number")
    )


def skip_spec(value: dict[str, Any], where: str) -> Skip:
    if "column" not in value or not ({"values", "matches"} & set(value)):
        raise InvalidInput(
            f"{where}: needs 'column' and 'values' (a list) or 'matches' (a pattern)."
        )
    if set(value) - {"column", "values", "matches", "reason"}:
        raise InvalidInput(f"{where}: the keys are column, values, matches and reason.")
    pattern = value.get("matches")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as error:
            raise InvalidInput(f"{where}: 'matches' is not a valid pattern: {error}.") from error
    return Skip(
        str(value["column"]),
        tuple(as_strings(value.get("values", []), where)),
        str(pattern) if pattern is not None else None,
        str(value.get("reason", "")),
    )


def join_spec(value: dict[str, Any], where: str) -> Join:
    missing = {"name", "files", "on", "columns"} - set(value)
    if missing:
        raise InvalidInput(f"{where}: missing {', '.join(sorted(missing))}.")
    name = str(value["name"])
    return Join(
        name=name,
        files=tuple(as_strings(value["files"], where)),
        on=tuple(as_strings(value["on"], where)),
        columns={
            k: column_spec(v, f"{where} {name} columns {k}") for k, v in value["columns"].items()
        },
        number=value.get("number"),
    )


def unpivot_spec(value: dict[str, Any], where: str) -> Unpivot:
    if not {"column", "value_field"} <= set(value):
        raise InvalidInput(f"{where}: each entry needs 'column' and 'value_field'.")
    return Unpivot(
        str(value["column"]),
        str(value["value_field"]),
        {k: str(v) for k, v in value.get("set", {}).items()},
    )
