"""Codes for "unknown" written as numbers, and times written as fractions of a day.

Records systems write -1, 99, 999 or 9999 where nobody recorded a value: an age of
-1, a count of 999. Averaged or charted, they pass for facts. A mapping can declare
an agency's codes (``[[rules]] check = "sentinel"``, ingest.mapping.rules); a
column that holds one of the usual codes where the column's other values say it
cannot be a real one is reported (``suspicious_sentinel``), whether or not it is
declared, so the clerk sees it:

- a column of numbers where the code is far outside the others (-1 where every
  other value is 0 or more; 999 or 9999 where the others are below a third of it),
  on at least 3 rows;
- a column of words (``South Bend``, ``Notre Dame``) where a cell is only the code.

Excel stores a time of day as a fraction of a day (``0.5416666`` is 13:00). In a
time field it is read as that time (``time_read_from_fraction``); in a column that
is named as a time but not typed as one, it is reported (``time_as_day_fraction``)
and kept as written.
"""

from __future__ import annotations

import re

import polars as pl

from openblotter.domain.schema import SchemaField

#: Numbers records systems write for "not recorded".
SENTINELS = ("-1", "-9", "-99", "-999", "-9999", "99", "999", "9999", "99999")
_MIN_ROWS = 3
NUMBER = r"^[+-]?\d+(?:\.\d+)?$"
FRACTION = r"^0?\.\d+$"
_TIME_NAME = re.compile(r"(^|_)(time|tm|hour|clock)(_|$)", re.I)


def _numeric(text: pl.Series) -> pl.Series:
    return text.str.contains(NUMBER).fill_null(False)


def sentinel_spikes(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    """Which distinct values are suspicious codes for unknown (see the module docstring)."""
    number = text.cast(pl.Float64, strict=False)
    code = number.is_in([float(s) for s in SENTINELS]).fill_null(False) & _numeric(text)
    if not code.any():
        return code
    numeric = _numeric(text)
    rows = counts.cast(pl.Int64)
    # a column of mostly distinct values comes one row per entry: rows holding each value
    held = pl.DataFrame({"v": text, "n": rows}).select(pl.col("n").sum().over("v"))["n"]
    total = int(rows.filter(text.is_not_null()).sum() or 0)
    words = int(rows.filter(text.is_not_null() & ~numeric).sum() or 0)
    if words * 2 > total:  # a column of words: a bare code is not a word
        return code
    others = number.filter(numeric & ~code)
    if not others.len():
        return pl.Series([False] * text.len())
    low, high = float(others.min()), float(others.max())  # type: ignore[arg-type]
    outside = ((number < 0) & (low >= 0)) | ((number > 0) & (number >= 3 * high))
    return code & outside.fill_null(False) & (held >= _MIN_ROWS)


def explain_sentinel(value: str, field: SchemaField) -> str:
    """What a suspicious code means and what to do."""
    return (
        f"'{value}' in {field.name} looks like a code for 'not recorded', not a real value: "
        "the column's other values are of another kind or range. It is kept as written. If "
        "the agency uses it for unknown, declare it in the mapping ([[rules]] check = "
        f'"sentinel", fields = ["{field.name}"], values = ["{value}"]) and it is published '
        "as blank."
    )


def read_fractions(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    """Values of a time field written as a fraction of a day (read as times)."""
    if field.type != "time":
        return pl.Series([False] * text.len())
    return text.str.contains(FRACTION).fill_null(False)


def explain_read_fraction(value: str, field: SchemaField) -> str:
    clock = fraction_times(pl.Series([value]))[0]
    return (
        f"'{value}' in {field.name} is an Excel time stored as a fraction of a day, read as "
        f"{clock}. Check a few such rows against the records system."
    )


def unread_fractions(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    """A column named as a time whose values are fractions of a day (kept as written)."""
    named = _TIME_NAME.search(field.name) or _TIME_NAME.search(field.title or "")
    if field.type == "time" or not named:
        return pl.Series([False] * text.len())
    fraction = text.str.contains(FRACTION).fill_null(False)
    present = text.is_not_null()
    rows = counts.cast(pl.Int64)
    share = int(rows.filter(fraction).sum() or 0) * 2 > int(rows.filter(present).sum() or 0)
    return fraction if share else pl.Series([False] * text.len())


def explain_unread_fraction(value: str, field: SchemaField) -> str:
    clock = fraction_times(pl.Series([value]))[0]
    return (
        f"'{value}' in {field.name} looks like an Excel time stored as a fraction of a day "
        f"({clock}). It is kept as written; give the column the type time (a schema file or "
        "a mapping to a time field) to publish it as a time of day."
    )


def fraction_times(values: pl.Series) -> pl.Series:
    """Fractions of a day (``0.5416666``) as times of day (13:00:00); anything else null."""
    text = values.cast(pl.String).str.strip_chars()
    fraction = text.str.contains(FRACTION).fill_null(False)
    seconds = (text.cast(pl.Float64, strict=False) * 86_400).round(0).cast(pl.Int64)
    seconds = pl.select(pl.when(pl.lit(fraction)).then(pl.lit(seconds) % 86_400)).to_series()
    return (seconds * 1_000_000_000).cast(pl.Time)
