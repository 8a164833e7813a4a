"""People repeated on the rows of a record, gathered into a person table (``from_rows``).

A complaints export often has one row per complaint x allegation x officer: an
officer named in three allegations of a complaint appears on three rows. Counted
row by row, that officer is three officers and the complaint is counted once per
allegation. The mapping says so::

    [[people]]
    role = "officers"
    fields = ["officer_id", "officer_race", "officer_sex", "officer_age"]
    from_rows = true
    id = "officer_id"            # optional: what tells two people apart (default: all fields);
                                 # a list: the first the row fills (["officer_id", "officer_name"])

Each distinct person of a record (the person family's key without the person's
number: ``complaint_id`` for complaint officers) becomes one row of the person
table, numbered 1, 2, 3... in the order the file first gives them. The record's
rows keep which person they are about (the number, e.g. ``officer_number``) and
how many people the record has (the count, e.g. ``officers_involved``); the
person's fields leave them, so nobody is counted once per allegation. A row whose
person fields are all blank is about nobody (number blank). When a person's rows
disagree (an age of 46 on one row and 47 on another), the first row's values are
kept and the difference is reported (``person_values_differ``).
"""

from __future__ import annotations

import polars as pl

from openblotter.domain.report import Problem
from openblotter.ingest.mapping.people import INCIDENT, ROW, People, PersonSplit, person_role

_EXAMPLES = 20
_WHO = "__person"


def gather_people(
    frame: pl.DataFrame, group: People, family: str, problems: list[Problem]
) -> tuple[pl.DataFrame, PersonSplit]:
    """Take ``group``'s fields out of ``frame``; return the frame with the person's number
    and the record's count, and one row per distinct person of each record."""
    role = person_role(family, group.role)
    key = [k for k in role.family.schema.primary_key if k != role.number and k in frame.columns]
    fields = [f for f in group.fields if f in frame.columns]
    frame = frame.with_columns(_who(fields, group.id).alias(_WHO))
    rows = frame.select(INCIDENT, ROW, *key, _WHO, *fields).filter(pl.col(_WHO).is_not_null())
    _report_without_id(rows, group, problems)
    people = rows.unique(subset=[*key, _WHO], keep="first", maintain_order=True)
    people = people.with_columns(
        (pl.int_range(pl.len()).over(key) + 1).cast(pl.String).alias(role.number)
    )
    _report_differences(rows, people, key, fields, group, problems)
    numbers = people.select(*key, _WHO, role.number)
    counts = people.group_by(key).agg(pl.len().cast(pl.String).alias(role.count))
    frame = (
        frame.join(numbers, on=[*key, _WHO], how="left", maintain_order="left")
        .join(counts, on=key, how="left", maintain_order="left")
        .with_columns(pl.col(role.count).fill_null("0"))
        .drop(*fields, _WHO)
    )
    split = people.select(INCIDENT, ROW, role.number, *fields)
    return frame, PersonSplit(group, role, split)


def _filled(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().fill_null("") != ""


def _who(fields: list[str], person_id: tuple[str, ...]) -> pl.Expr:
    """Who a row is about: the first id field it fills; a row with no id but other values is
    a person of its own; a row with nothing is about nobody (null). Without an id, all the
    values."""
    anything = pl.any_horizontal([_filled(f) for f in fields])
    if person_id:
        who = pl.lit("row ") + pl.col(ROW).cast(pl.String)
        for name in reversed(person_id):
            who = pl.when(_filled(name)).then(pl.lit(f"{name} ") + pl.col(name)).otherwise(who)
    else:
        who = pl.concat_str([pl.col(f).fill_null("") for f in fields], separator="\x1f")
    return pl.when(anything).then(who)


def _report_without_id(rows: pl.DataFrame, group: People, problems: list[Problem]) -> None:
    if not group.id:
        return
    named = pl.any_horizontal([_filled(i) for i in group.id])
    without = rows.filter(~named)[ROW]
    shown = " or ".join(group.id)
    for row in without.head(_EXAMPLES):
        problems.append(
            Problem(
                code="person_without_id",
                severity="info",
                row=int(row),
                column=group.id[0],
                rows=without.len(),
                message=f"Row {row} names one of the {group.role} without {shown}; it is "
                f"published as a person of its own (it cannot be matched with other rows). "
                f"{without.len():,} rows are like it.",
            )
        )


def _report_differences(
    rows: pl.DataFrame,
    people: pl.DataFrame,
    key: list[str],
    fields: list[str],
    group: People,
    problems: list[Problem],
) -> None:
    """One problem per person and field whose rows disagree (the first row's value is kept)."""
    others = [f for f in fields if f not in group.id]
    role = group.role
    if not group.id or not others:
        return  # without an id, different values are different people
    identity = [_WHO]
    spread = rows.group_by([*key, *identity], maintain_order=True).agg(
        [pl.col(f).drop_nulls().n_unique().alias(f) for f in others]
    )
    kept = people.select(*key, *identity, ROW, *others)
    reported = 0
    for field in others:
        differ = spread.filter(pl.col(field) > 1).select(*key, *identity)
        if not differ.height:
            continue
        hits = differ.join(kept, on=[*key, *identity], how="left")
        for row in hits.iter_rows(named=True):
            if reported >= _EXAMPLES:
                break
            reported += 1
            problems.append(
                Problem(
                    code="person_values_differ",
                    severity="warning",
                    row=int(row[ROW]),
                    column=field,
                    value=row[field],
                    rows=differ.height,
                    message=f"One of the {role} of {', '.join(f'{k} {row[k]}' for k in key)} "
                    f"has different {field} values on different rows; the first row's "
                    f"('{row[field]}', row {row[ROW]}) is published. {differ.height} "
                    f"{role} have such a difference in {field}.",
                )
            )
