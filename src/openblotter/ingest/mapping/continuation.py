"""Rows that continue the record above them (``[[continuation]]`` in a mapping).

Some exports give a second person of an incident on a row of its own, marked
("Continued") and without the incident's details. Skipping it loses the person;
keeping it as a record invents an incident. The mapping says what such a row
is, and its people are added to the record above::

    [[continuation]]
    column = "Lethal Y/N"          # the column that marks the row
    values = ["Continued"]
    roles = ["subjects"]           # whose lists the row adds a person to ([[people]] roles)
    reason = "a second person shot in the incident above"

The continuation row's cells of the roles' fields are appended to the record
above as one more position of each list (a blank cell is a blank position, so
the person's values stay together); the row itself is then dropped. Every
attached row is reported (``continuation_attached``), and so is any other
non-blank cell of it, which is not published (``continuation_cell_ignored``).
A continuation with no record above it stops the publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.ingest.mapping.ops import resolve
from openblotter.ingest.mapping.people import People
from openblotter.ingest.mapping.spec import ColumnSpec, Source, as_strings

ROW = "__row"


@dataclass(frozen=True)
class Continuation:
    """A ``[[continuation]]`` entry."""

    column: str
    values: tuple[str, ...]
    roles: tuple[str, ...]
    reason: str = ""


class Mapping(Protocol):
    """What continuation rows need of a mapping (ingest.mapping.model.Mapping has it)."""

    @property
    def continuation(self) -> tuple[Continuation, ...]: ...

    @property
    def people(self) -> tuple[People, ...]: ...

    @property
    def columns(self) -> dict[str, ColumnSpec]: ...


def continuation_spec(value: dict[str, Any], where: str) -> Continuation:
    """Parse one ``[[continuation]]`` entry."""
    if not {"column", "values", "roles"} <= set(value) or set(value) - {
        "column",
        "values",
        "roles",
        "reason",
    }:
        raise InvalidInput(
            f"{where}: each entry needs 'column', 'values' and 'roles' ([[people]] roles), "
            "and may have 'reason'."
        )
    return Continuation(
        str(value["column"]),
        tuple(as_strings(value["values"], where)),
        tuple(as_strings(value["roles"], where)),
        str(value.get("reason", "")),
    )


def check_continuations(mapping: Mapping, source: str) -> None:
    """Each role is a [[people]] role whose fields come from one column each."""
    groups = {g.role: g for g in mapping.people}
    for entry in mapping.continuation:
        for role in entry.roles:
            group = groups.get(role)
            if group is None:
                raise InvalidInput(
                    f"{source} [[continuation]]: '{role}' is not a [[people]] role of this "
                    f"mapping ({', '.join(groups) or 'none'}); a continuation row adds a person "
                    "to one of those lists.",
                    detail={"file": source},
                )
            if group.from_rows:
                raise InvalidInput(
                    f"{source} [[continuation]] {role}: that role names one person per row "
                    "(from_rows); a continuation adds a person to packed lists only.",
                    detail={"file": source},
                )
            bad = [f for f in group.fields if not isinstance(mapping.columns.get(f), Source)]
            if bad:
                raise InvalidInput(
                    f"{source} [[continuation]] {role}: {', '.join(bad)} must each come from "
                    "one column to take a continuation row's cell.",
                    detail={"file": source},
                )


def attach_continuations(
    source: pl.DataFrame, mapping: Mapping, problems: list[Problem]
) -> pl.DataFrame:
    """The source rows with each continuation row's people added to the record above."""
    for entry in mapping.continuation:
        marker = resolve(source.columns, entry.column)
        if marker is None:
            raise InvalidInput(
                f"The mapping marks continuation rows by column '{entry.column}', which the "
                "file does not have.",
                detail={"column": entry.column},
            )
        source = _attach(source, mapping, entry, marker, problems)
    return source


def _role_columns(source: pl.DataFrame, mapping: Mapping, entry: Continuation) -> dict[str, str]:
    """Source column -> its role's separator, for every field of the entry's roles."""
    found: dict[str, str] = {}
    for group in mapping.people:
        if group.role not in entry.roles:
            continue
        for name in group.fields:
            spec = mapping.columns[name]
            assert isinstance(spec, Source)
            found_names = [resolve(source.columns, n) for n in spec.columns]
            column = next((c for c in found_names if c is not None), None)
            if column is not None:
                found[column] = f"{group.separators[0]} "
    return found


def _attach(
    source: pl.DataFrame,
    mapping: Mapping,
    entry: Continuation,
    marker: str,
    problems: list[Problem],
) -> pl.DataFrame:
    hit = pl.col(marker).str.strip_chars().is_in(list(entry.values)).fill_null(False)
    is_continuation = source.select(hit).to_series()
    if not is_continuation.any():
        return source
    people = _role_columns(source, mapping, entry)
    rows = source.to_dicts()
    kept: list[dict[str, Any]] = []
    why = f" ({entry.reason})" if entry.reason else ""
    for row, continues in zip(rows, is_continuation, strict=True):
        if not continues:
            kept.append(row)
            continue
        if not kept:
            raise InvalidInput(
                f"Row {row[ROW]} is marked '{row[marker]}' in {marker}, a continuation of "
                "the record above, but no record comes before it. Correct the file.",
                detail={"row": row[ROW], "column": marker},
            )
        above = kept[-1]
        for column, separator in people.items():
            before, added = (above[column] or "").strip(), (row[column] or "").strip()
            above[column] = f"{before}{separator}{added}".strip() if before or added else None
        _report(row, above, marker, people, why, problems)
    return pl.DataFrame(kept, schema=source.schema)


def _report(
    row: dict[str, Any],
    above: dict[str, Any],
    marker: str,
    people: dict[str, str],
    why: str,
    problems: list[Problem],
) -> None:
    problems.append(
        Problem(
            code="continuation_attached",
            severity="info",
            row=int(row[ROW]),
            column=marker,
            value=str(row[marker]),
            message=f"Row {row[ROW]} continues the record of row {above[ROW]}{why}: its "
            f"{', '.join(people)} are added to that record as one more person.",
        )
    )
    for column, value in row.items():
        if column in (ROW, marker) or column in people or not (value or "").strip():
            continue
        problems.append(
            Problem(
                code="continuation_cell_ignored",
                severity="info",
                row=int(row[ROW]),
                column=column,
                message=f"Row {row[ROW]} continues the record of row {above[ROW]}; its "
                f"{column} is not a field of the people it adds, so it is not published.",
            )
        )
