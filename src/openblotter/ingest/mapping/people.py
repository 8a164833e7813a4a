"""People packed into one cell, split into a person table of their own (``[[people]]``).

A real use-of-force export often holds every officer and every subject of an
incident in one row, each field a list (``W;W;B``, ``Male | Female``,
``32 | `` with a blank position). The lists of one group (the officers, or the
subjects) are parallel: the n-th item of each is the n-th person. Lists of two
groups are never paired: the file does not say which officer used force on
which subject, so officers and subjects go to separate tables keyed by the
incident, and the incident row keeps only how many of each there were.

The rules, per source row and group (every departure is reported with its row):

- The number of people is the ``count`` column where the mapping names one and
  it holds a whole number; otherwise the longest list of the group.
- A list with exactly that many items gives one item to each person; a blank
  position stays blank for that person.
- A blank cell says nothing about anyone: blank for every person, not reported.
- A list of another length cannot be lined up with the others. If the mapping
  says the export cuts lists at the end (``cut_at_end``), the items keep their
  positions and the people past the end are blank. Otherwise the whole list is
  left blank for these people (never re-paired by position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import Problem
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest.families import Family, load_family
from openblotter.ingest.mapping.ops import resolve
from openblotter.ingest.mapping.spec import Copy

ROW = "__row"
INCIDENT = "__incident"
#: The roles a family can have person tables for (families ``<family>_<role>``).
ROLES = ("officers", "subjects")
#: A stated count above this is read as damaged (reported; the lists decide).
MAX_PEOPLE = 1000
_UNIT = "\x1f"


@dataclass(frozen=True)
class People:
    """A ``[[people]]`` entry: family fields that hold lists of one role's people."""

    role: str
    fields: tuple[str, ...]
    separators: tuple[str, ...]
    count: str | None = None
    cut_at_end: bool = False
    #: One person per row, repeated on a record's rows (ingest.mapping.people_rows).
    from_rows: bool = False
    #: What tells two people apart: the first of these fields a row fills.
    id: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonRole:
    """What a person family (``<family>_<role>``) says about its rows (its ``personOf``)."""

    family: Family
    number: str
    count: str
    incident_fields: tuple[str, ...]

    @property
    def person_fields(self) -> list[str]:
        shared = {*self.incident_fields, self.number}
        return [f for f in self.family.schema.field_names if f not in shared]


def person_role(main_family: str, role: str, where: str = "mapping") -> PersonRole:
    """The person family of ``role`` (officers, subjects) for ``main_family``."""
    name = f"{main_family}_{role}"
    try:
        family = load_family(name)
    except InvalidInput as error:
        raise InvalidInput(
            f"{where}: {main_family} has no person table for '{role}' (no family {name}).",
            detail={"parameter": "role", "value": role},
        ) from error
    spec: dict[str, Any] = (family.schema.model_extra or {}).get("personOf", {})
    return PersonRole(
        family, str(spec["number"]), str(spec["count"]), tuple(spec["incidentFields"])
    )


def people_spec(value: dict[str, Any], where: str) -> People:
    """Parse one ``[[people]]`` entry."""
    allowed = {"role", "fields", "separator", "count", "cut_at_end", "from_rows", "id"}
    from_rows = bool(value.get("from_rows", False))
    needed = {"role", "fields"} | (set() if from_rows else {"separator"})
    if not needed <= set(value) or set(value) - allowed:
        raise InvalidInput(
            f"{where}: each entry needs 'role', 'fields' and 'separator' (or 'from_rows = "
            "true' when each row names one person), and may have 'count', 'cut_at_end' "
            "and 'id'."
        )
    if from_rows and {"separator", "count", "cut_at_end"} & set(value):
        raise InvalidInput(
            f"{where}: with from_rows each row names one person: leave out 'separator', "
            "'count' and 'cut_at_end'."
        )
    separators = value.get("separator", [])
    separators = [separators] if isinstance(separators, str) else list(separators)
    fields = value["fields"]
    if not from_rows and (
        not separators or not all(isinstance(s, str) and s.strip() for s in separators)
    ):
        raise InvalidInput(f"{where}: 'separator' must be text or a list of text (not blank).")
    if not isinstance(fields, list) or not fields:
        raise InvalidInput(f"{where}: 'fields' must list the family fields that hold the lists.")
    raw_id = value.get("id") or []
    person_id = tuple([raw_id] if isinstance(raw_id, str) else [str(i) for i in raw_id])
    if any(i not in fields for i in person_id):
        raise InvalidInput(f"{where}: 'id' must be one of the entry's fields (or a list of them).")
    return People(
        role=str(value["role"]),
        fields=tuple(str(f) for f in fields),
        separators=tuple(s.strip() for s in separators),
        count=str(value["count"]) if value.get("count") else None,
        cut_at_end=bool(value.get("cut_at_end", False)),
        from_rows=from_rows,
        id=person_id,
    )


def with_copies(groups: tuple[People, ...], columns: dict[str, Any]) -> tuple[People, ...]:
    """Each group with the fields that copy one of its fields (``{ copy = "subject_race" }``):
    a copy of a person's value belongs to the same person."""
    expanded = []
    for group in groups:
        copies = [k for k, s in columns.items() if isinstance(s, Copy) and s.field in group.fields]
        extra = tuple(c for c in copies if c not in group.fields)
        expanded.append(replace(group, fields=group.fields + extra))
    return tuple(expanded)


def check_people(groups: tuple[People, ...], family: str, filled: set[str], source: str) -> None:
    """Each role once; every field is one of the role's person fields and is filled."""
    roles = [g.role for g in groups]
    if len(set(roles)) != len(roles):
        raise InvalidInput(f"{source} [[people]]: give each role one entry ({', '.join(roles)}).")
    for group in groups:
        role = person_role(family, group.role, f"{source} [[people]]")
        bad = [f for f in group.fields if f not in role.person_fields]
        if bad:
            raise InvalidInput(
                f"{source} [[people]] {group.role}: {', '.join(bad)} not field(s) of one of the "
                f"{group.role}; they are: {', '.join(role.person_fields)}.",
                detail={"file": source},
            )
        unfilled = [f for f in group.fields if f not in filled]
        if unfilled:
            raise InvalidInput(
                f"{source} [[people]] {group.role}: fill {', '.join(unfilled)} in [columns] "
                "(the column that holds the list).",
                detail={"file": source},
            )


@dataclass
class PersonSplit:
    """One role's people as rows (``__incident``, ``__row``, number, fields; all text)."""

    group: People
    role: PersonRole
    frame: pl.DataFrame


def split_people(
    frame: pl.DataFrame,
    count_text: pl.Series | None,
    group: People,
    family: str,
    problems: list[Problem],
) -> tuple[pl.DataFrame, PersonSplit]:
    """Take ``group``'s lists out of ``frame`` (one row per incident, row-aligned with
    ``count_text``); return the frame with the count field and the people as rows."""
    role = person_role(family, group.role)
    fields = [f for f in group.fields if f in frame.columns]
    lists = {f: _items(frame[f], group.separators) for f in fields}
    lengths = pl.DataFrame({f: lists[f].list.len() for f in fields})
    longest = lengths.select(pl.max_horizontal(pl.all()).fill_null(0)).to_series()
    stated = (
        count_text.str.strip_chars().cast(pl.Int64, strict=False)
        if count_text is not None
        else None
    )
    if stated is not None:  # a count no incident has is a damaged cell, not people
        stated = pl.select(pl.when(pl.lit(stated) <= MAX_PEOPLE).then(pl.lit(stated))).to_series()
    people = (
        longest
        if stated is None
        else pl.select(pl.coalesce(pl.lit(stated), pl.lit(longest)).clip(lower_bound=0)).to_series()
    )
    people = people.cast(pl.Int64).alias("__n")
    aligned = {}
    for f in fields:
        aligned[f] = _align(lists[f], lengths[f], people, group.cut_at_end)
        _report_lengths(frame, f, lengths[f], people, group, problems)
        _report_blank_positions(frame, f, aligned[f], lengths[f] == people, group.role, problems)
    if stated is not None and count_text is not None:
        _report_count(frame, count_text, stated, longest, group, problems)
    rows = pl.DataFrame(
        {
            INCIDENT: frame[INCIDENT],
            ROW: frame[ROW],
            role.number: pl.int_ranges(1, people + 1, dtype=pl.Int64, eager=True),
            **aligned,
        }
    )
    rows = rows.explode([role.number, *fields]).filter(pl.col(role.number).is_not_null())
    rows = rows.with_columns(pl.col(role.number).cast(pl.String))
    frame = frame.drop(fields).with_columns(people.cast(pl.String).alias(role.count))
    return frame, PersonSplit(group, role, rows)


def count_column(source: pl.DataFrame, column: str | None) -> pl.Series | None:
    """The source column that says how many people a row has (None: not given)."""
    if column is None:
        return None

    name = resolve(source.columns, column)
    if name is None:
        raise InvalidInput(
            f"The mapping counts people from column '{column}', which the file does not have.",
            detail={"column": column},
        )
    return source[name]


def _items(values: pl.Series, separators: tuple[str, ...]) -> pl.Series:
    """Every position of each cell's list (blank positions as null); a blank cell: none."""
    pattern = "|".join(re.escape(s) for s in separators)
    text = values.cast(pl.String)
    split = text.str.replace_all(pattern, _UNIT).str.split(_UNIT)
    items = split.list.eval(pl.element().str.strip_chars().replace("", None))
    blank = text.is_null() | (text.str.replace_all(pattern, "").str.strip_chars() == "")
    empty = pl.lit([], dtype=pl.List(pl.String))
    return pl.select(pl.when(pl.lit(blank)).then(empty).otherwise(pl.lit(items))).to_series()


def _align(items: pl.Series, length: pl.Series, people: pl.Series, cut: bool) -> pl.Series:
    """One item per person: the list as it is, padded (cut lists), or all blank."""
    missing = (pl.lit(people) - pl.lit(length)).clip(lower_bound=0)
    pad = pl.lit(None, dtype=pl.String).repeat_by(missing)
    blank = pl.lit(None, dtype=pl.String).repeat_by(pl.lit(people))
    fits = pl.lit(length) == pl.lit(people)
    shorter = (pl.lit(length) < pl.lit(people)) & (pl.lit(length) > 0)
    padded = pl.concat_list([pl.lit(items), pad])
    keep = pl.when(fits).then(pl.lit(items))
    expr = keep.when(shorter).then(padded).otherwise(blank) if cut else keep.otherwise(blank)
    return pl.select(expr).to_series()


def _report_lengths(
    frame: pl.DataFrame,
    field: str,
    length: pl.Series,
    people: pl.Series,
    group: People,
    problems: list[Problem],
) -> None:
    """One problem per row whose list does not line up, with the rule applied."""
    off = (length != people) & (length > 0)
    rows = zip(
        frame[ROW].filter(off),
        frame[field].filter(off),
        people.filter(off),
        length.filter(off),
        strict=True,
    )
    for row, value, n, k in rows:
        problems.append(
            Problem(
                code="people_list_length",
                severity="warning",
                row=int(row),
                column=field,
                value=str(value),
                message=f"{field} lists {k} value(s) for {n} {group.role}; {_rule(group, n, k)}.",
            )
        )


def _rule(group: People, n: int, k: int) -> str:
    if n == 0:
        return "the file says there are none, so the values are not published"
    if group.cut_at_end and k < n:
        return (
            f"the list is taken as cut at the end: the first {k} keep their values, "
            f"the other {n - k} are blank"
        )
    return f"the values are left blank for all {n} (not paired by position)"


def _report_blank_positions(
    frame: pl.DataFrame,
    field: str,
    aligned: pl.Series,
    listed_all: pl.Series,
    role: str,
    problems: list[Problem],
) -> None:
    """Blank positions inside a list that lines up (``32 | ``): kept blank, reported."""
    blanks = pl.select(pl.lit(aligned).list.eval(pl.element().is_null()).list.sum()).to_series()
    some = (blanks > 0) & listed_all
    for row, value, n in zip(
        frame[ROW].filter(some), frame[field].filter(some), blanks.filter(some), strict=True
    ):
        problems.append(
            Problem(
                code="people_blank_position",
                severity="info",
                row=int(row),
                column=field,
                value=str(value),
                message=f"{field} is blank for {n} of the {role} listed; "
                "they stay blank and the others keep their places.",
            )
        )


def _report_count(
    frame: pl.DataFrame,
    count_text: pl.Series,
    stated: pl.Series,
    longest: pl.Series,
    group: People,
    problems: list[Problem],
) -> None:
    unreadable = stated.is_null() & count_text.is_not_null() & (count_text.str.strip_chars() != "")
    differs = stated.is_not_null() & (stated != longest) & (longest > 0)
    for mask, how in ((unreadable, "unreadable"), (differs, "differs")):
        for row, value, k in zip(
            frame[ROW].filter(mask), count_text.filter(mask), longest.filter(mask), strict=True
        ):
            message = (
                f"The count of {group.role} '{value}' is not a number of people (a whole "
                f"number up to {MAX_PEOPLE}); the longest list "
                f"({k}) is used."
                if how == "unreadable"
                else f"The file says {value} {group.role} but its lists hold up to {k} value(s); "
                f"{value} {group.role} are published (each list is reported on its own)."
            )
            problems.append(
                Problem(
                    code="people_count_differs",
                    severity="warning",
                    row=int(row),
                    column=group.count,
                    value=str(value),
                    message=message,
                )
            )


def person_table(split: PersonSplit, incidents: pl.DataFrame) -> tuple[pl.DataFrame, TableSchema]:
    """The person rows with their incident's fields, and the person family's schema trimmed
    to what the file has (incident fields, the number, and the group's fields)."""
    role = split.role
    shared = [f for f in role.incident_fields if f in incidents.columns]
    keys = incidents.select([INCIDENT, *shared]).unique(subset=INCIDENT, keep="first")
    rows = split.frame.join(keys, on=INCIDENT, how="left", maintain_order="left")
    keep = {*shared, role.number, *split.group.fields}
    schema = role.family.schema
    schema = schema.model_copy(update={"fields": [f for f in schema.fields if f.name in keep]})
    names = [f for f in schema.field_names if f in rows.columns]
    return rows.select([pl.col(n).cast(pl.String) for n in names] + [pl.col(ROW)]), schema


def incident_schema(
    schema: TableSchema, family: str, groups: tuple[People, ...], filled: set[str]
) -> TableSchema:
    """The family's schema without the fields of the people moved to person tables (those
    in a group, and those the mapping does not fill at all: the person table has them), and
    without a role's count when the file neither packs that role nor gives the count. A
    role gathered from rows adds its person number and count (which person a row is about,
    and how many the record has) when the family does not have them."""
    moved: set[str] = set()
    added: list[SchemaField] = []
    packed = {g.role: g for g in groups}
    for name in ROLES:
        try:
            role = person_role(family, name)
        except InvalidInput:
            continue  # this family has no person tables
        group = packed.get(name)
        if group is None:
            moved |= {role.count} - filled
            continue
        moved |= {f for f in role.person_fields if f in group.fields or f not in filled}
        if group.from_rows:
            added += _link_fields(schema, role)
    if not moved and not added:
        return schema
    kept = [f for f in schema.fields if f.name not in moved]
    return schema.model_copy(update={"fields": kept + added})


def _link_fields(schema: TableSchema, role: PersonRole) -> list[SchemaField]:
    number = role.family.schema.field(role.number)
    fields = []
    if number is not None and schema.field(role.number) is None:
        constraints = number.constraints.model_copy(update={"required": False})
        fields.append(number.model_copy(update={"constraints": constraints}))
    if schema.field(role.count) is None:
        fields.append(
            SchemaField.model_validate(
                {
                    "name": role.count,
                    "type": "integer",
                    "title": f"{role.family.title.split(': ')[-1].capitalize()} involved",
                    "description": f"How many {role.family.title.split(': ')[-1]} the record "
                    f"names (rows of the {role.family.name} table).",
                    "constraints": {"minimum": 0},
                }
            )
        )
    return fields
