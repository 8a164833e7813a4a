"""Code drift: how the department's systems spelled the same thing over the years.

Records are generated with short internal codes (race ``B``, sex ``M``, role
``V``) and written out the way the records system of the time spelled them:

- era 1, records entered before 2019: one-letter codes (``B``, ``M``), role
  abbreviations (``V``, ``RP``), clock times as integers (``1435``);
- era 2, 2019 to 2021: upper-case words (``BLACK``, ``MALE``), times ``14:35``;
- era 3, from 2022 (the new records system): full words (``Black or African
  American``, ``Male``) and a separate ethnicity column.

An old record keeps the spelling it was entered with, so one cumulative file
mixes all three; the mapping files and the family schemas turn them back into
one code. ``X`` is a race code no map knows: a few records carry it until
someone corrects them, and the validation report lists it meanwhile.
"""

from __future__ import annotations

from datetime import date

import polars as pl

ERA_2_FROM = date(2019, 1, 1)
ERA_3_FROM = date(2022, 1, 1)

#: Internal race codes; ``M`` is two or more races, ``X`` a data-entry slip.
RACE_CODES = ("W", "B", "I", "A", "P", "H", "M", "U", "X")

RACE = {
    1: {
        "W": "W",
        "B": "B",
        "I": "I",
        "A": "A",
        "P": "P",
        "H": "H",
        "M": "Two or More",
        "U": "U",
        "X": "X",
    },
    2: {
        "W": "WHITE",
        "B": "BLACK",
        "I": "AMERICAN INDIAN",
        "A": "ASIAN",
        "P": "PACIFIC ISLANDER",
        "H": "HISPANIC",
        "M": "MULTIRACIAL",
        "U": "UNKNOWN",
        "X": "X",
    },
    3: {
        "W": "White",
        "B": "Black or African American",
        "I": "American Indian or Alaska Native",
        "A": "Asian",
        "P": "Native Hawaiian or Other Pacific Islander",
        "H": "Hispanic or Latino",
        "M": "Two or More Races",
        "U": "Unknown",
        "X": "X",
    },
}
SEX = {
    1: {"M": "M", "F": "F", "U": "U"},
    2: {"M": "MALE", "F": "FEMALE", "U": "UNKNOWN"},
    3: {"M": "Male", "F": "Female", "U": "Unknown"},
}
#: Roles of a person in a contact: Victim, Suspect, aRrestee, Cited, Driver, Field
#: contact, Witness, rePorting person.
ROLE = {
    1: {
        "V": "V",
        "S": "S",
        "R": "Arrested",
        "C": "Cited",
        "D": "Operator",
        "F": "Subject Stopped",
        "W": "Wit",
        "P": "RP",
    },
    2: {
        "V": "Victim",
        "S": "Suspect",
        "R": "Arrestee",
        "C": "Person Cited",
        "D": "Driver",
        "F": "Person Stopped",
        "W": "Witness",
        "P": "Reporting Party",
    },
}
ROLE[3] = ROLE[2]
ETHNICITY = {3: {"H": "Hispanic", "U": "Unknown"}}
YES_NO = {1: {True: "Y", False: "N"}, 2: {True: "Yes", False: "No"}, 3: {True: "Yes", False: "No"}}


def era(day: pl.Expr) -> pl.Expr:
    """The records-system era (1, 2 or 3) of a record entered on ``day``."""
    return (
        pl.when(day < ERA_2_FROM)
        .then(pl.lit(1))
        .when(day < ERA_3_FROM)
        .then(pl.lit(2))
        .otherwise(pl.lit(3))
    )


def era_of(day: date) -> int:
    """The era of one date (for whole-file spellings, such as a report run on that day)."""
    return 1 if day < ERA_2_FROM else 2 if day < ERA_3_FROM else 3


def spell(code: pl.Expr, era_expr: pl.Expr, table: dict[int, dict[str, str]]) -> pl.Expr:
    """Write internal codes as each record's era spelled them (codes not in a table: blank)."""
    out = pl.lit(None, dtype=pl.String)
    for number in sorted(table, reverse=True):
        spelled = code.replace_strict(table[number], default=None, return_dtype=pl.String)
        out = pl.when(era_expr == number).then(spelled).otherwise(out)
    return out


def ethnicity(race_code: pl.Expr, era_expr: pl.Expr) -> pl.Expr:
    """The separate ethnicity column of era 3 (blank before): Hispanic, Non-Hispanic, Unknown."""
    words = race_code.replace_strict(ETHNICITY[3], default="Non-Hispanic", return_dtype=pl.String)
    return pl.when((era_expr == 3) & race_code.is_not_null()).then(words)


def yes_no(flag: pl.Expr, era_expr: pl.Expr) -> pl.Expr:
    """A yes/no flag as the era wrote it (``Y``/``N``, then ``Yes``/``No``); blank stays blank."""
    return (
        pl.when(flag.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(era_expr == 1)
        .then(pl.when(flag).then(pl.lit("Y")).otherwise(pl.lit("N")))
        .otherwise(pl.when(flag).then(pl.lit("Yes")).otherwise(pl.lit("No")))
    )


def clock(minutes: pl.Expr, era_expr: pl.Expr) -> pl.Expr:
    """A time of day: an integer ``HHMM`` in era 1 (``5`` is 00:05), ``HH:MM`` later."""
    hours, mins = minutes // 60, minutes % 60
    as_integer = (hours * 100 + mins).cast(pl.String)
    as_text = pl.format(
        "{}:{}", hours.cast(pl.String).str.zfill(2), mins.cast(pl.String).str.zfill(2)
    )
    return (
        pl.when(minutes.is_null())
        .then(None)
        .when(era_expr == 1)
        .then(as_integer)
        .otherwise(as_text)
    )


def clock_12h(minutes: pl.Expr) -> pl.Expr:
    """A 12-hour time with seconds, as an older export wrote it (``4:14:00 PM``)."""
    hours, mins = minutes // 60, minutes % 60
    hour12 = ((hours + 11) % 12 + 1).cast(pl.String)
    half = pl.when(hours < 12).then(pl.lit("AM")).otherwise(pl.lit("PM"))
    text = pl.format("{}:{}:00 {}", hour12, mins.cast(pl.String).str.zfill(2), half)
    return pl.when(minutes.is_null()).then(None).otherwise(text)


def us_date(day: pl.Expr) -> pl.Expr:
    """``M/D/YYYY`` without zero padding, as the department's CSV exports write dates."""
    return pl.format(
        "{}/{}/{}",
        day.dt.month().cast(pl.String),
        day.dt.day().cast(pl.String),
        day.dt.year().cast(pl.String),
    )
