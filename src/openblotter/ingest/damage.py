"""Columns a spreadsheet damaged before the export reached the portal.

A records export opened and saved in a spreadsheet comes back changed: long
identifiers written in scientific notation (``2.02E+14``: the digits after the
third are gone), leading zeros dropped (ZIP ``02134`` -> ``2134``), dates
turned into day numbers (``42370``). None of it can be undone from the file,
so nothing here repairs a value: each damaged value is reported (code,
column, value, rows, first row) with what to do, and the value is published
as written — never as a plausible number. Dates stored as Excel day numbers
in a date field are read (a date field says they are dates), and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from openblotter.domain.report import EXAMPLES_PER_COLUMN, Problem, ValidationReport
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest import sentinels
from openblotter.ingest.conform import ROW, distinct_values, trimmed_cells
from openblotter.ingest.parsing import excel_serial_dates

#: A whole number a spreadsheet wrote in scientific notation (exponent 6 or more).
SCIENTIFIC = r"^[+-]?\d(?:\.\d+)?[eE]\+?(?:[6-9]|\d{2,3})$"
#: A day number Excel shows for a date (1970-01-01 .. 2049-12-31).
_SERIAL = r"^\d{5}(?:\.0+)?$"
_SERIAL_RANGE = (25_569, 54_789)
#: A date written as a date (``2016-01-01``, ``1/7/16``), not as a number.
_WRITTEN_DATE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
_DATE_NAME = re.compile(
    r"(^|_)(date|dt|day|dob|birth|received|closed|occurred|reported|hired?)(_|$)", re.I
)
#: What any detector here can flag: a number, perhaps with an exponent (``2.02E+14``,
#: ``-9``, ``.25``, ``42370.0``, ``02134``). A column with no such value is not examined.
NUMBER_LIKE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]\+?\d+)?$"
#: Codes of a fixed width by definition: ZIP codes (5 digits) and census geography (FIPS).
_ZIP_NAME = re.compile(r"(^|_)(zip|zipcode|postal|postal_code)(_|$)", re.I)
_FIPS_NAME = re.compile(r"(^|_)(fips|geoid|county_?id|state_?id|tract)(_|$)", re.I)


@dataclass(frozen=True)
class _Detector:
    code: str
    #: (distinct values, rows holding each, field) -> which distinct values are damaged
    find: Callable[[pl.Series, pl.Series, SchemaField], pl.Series]
    explain: Callable[[str, SchemaField], str]
    #: (distinct values, rows holding each, field) -> what the detector saw in the column
    evidence: Callable[[pl.Series, pl.Series, SchemaField], str] | None = None


def is_scientific(values: pl.Series) -> pl.Series:
    """Cells holding a large whole number in scientific notation (``2.02E+14``)."""
    return values.str.contains(SCIENTIFIC).fill_null(False)


def _scientific(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    return is_scientific(text)


def _explain_scientific(value: str, field: SchemaField) -> str:
    return (
        f"'{value}' in {field.name} is a number a spreadsheet wrote in scientific notation: its "
        "digits after the first few are lost and cannot be recovered from this file. It is kept "
        "as written (not turned into a number). Export the file again from the records system "
        "without opening it in a spreadsheet, or format the column as text before saving."
    )


def _serials(text: pl.Series) -> pl.Series:
    numbers = text.str.contains(_SERIAL).fill_null(False)
    if not numbers.any():
        return numbers
    days = text.cast(pl.Float64, strict=False)
    low, high = _SERIAL_RANGE
    return numbers & (days >= low).fill_null(False) & (days <= high).fill_null(False)


def _read_serials(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    if field.type not in ("date", "datetime") or field.format not in (None, "default", "any"):
        return pl.Series([False] * text.len())
    return text.str.contains(r"^\d{5}(?:\.\d+)?$").fill_null(False)


def _explain_read_serial(value: str, field: SchemaField) -> str:
    day = excel_serial_dates(pl.Series([value]))[0]
    shown = day.date().isoformat() if day is not None else "no date"
    return (
        f"'{value}' in {field.name} is an Excel day number, read as {shown}: a spreadsheet turned "
        "this date into a number. Check a few such rows against the records system."
    )


def _unread_serials(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    if field.type in ("date", "datetime"):
        return pl.Series([False] * text.len())
    serial = _serials(text)
    if not serial.any():
        return serial
    named = bool(_DATE_NAME.search(field.name) or _DATE_NAME.search(field.title or ""))
    others = ~serial & text.is_not_null()
    written = text.str.contains(_WRITTEN_DATE).fill_null(False) & others
    dated = int(counts.filter(written).sum() or 0) * 2 > int(counts.filter(others).sum() or 0) > 0
    return serial if named or dated else pl.Series([False] * text.len())


def _explain_unread_serial(value: str, field: SchemaField) -> str:
    day = excel_serial_dates(pl.Series([value]))[0]
    shown = day.date().isoformat() if day is not None else "?"
    return (
        f"'{value}' in {field.name} looks like a date a spreadsheet turned into a number (Excel "
        f"day {value} is {shown}). It is kept as written, not read as a date. Export the file "
        "again without opening it in a spreadsheet, or give the column's type as a date."
    )


def _lost_zeros(text: pl.Series, counts: pl.Series, field: SchemaField) -> pl.Series:
    digits = text.str.contains(r"^\d+$").fill_null(False)
    if not digits.any():
        return digits
    widths = text.str.len_chars().fill_null(0)
    by_width = pl.DataFrame({"w": widths.filter(digits), "n": counts.filter(digits)})
    usual = by_width.group_by("w").agg(pl.col("n").sum()).sort(["n", "w"], descending=True)
    width = int(usual["w"][0])
    padded = text.str.contains(r"^0+[1-9]\d*$").fill_null(False) & (widths == width)
    if int(counts.filter(padded).sum() or 0) >= 2:
        # Values of the usual width kept their leading zeros: shorter ones lost theirs.
        return digits & (widths < width)
    if _ZIP_NAME.search(field.name) or (_FIPS_NAME.search(field.name) and width >= 5):
        return digits & (widths < max(width, 5))
    return pl.Series([False] * text.len())


def _lost_zeros_evidence(text: pl.Series, counts: pl.Series, field: SchemaField) -> str:
    """What made the detector say the zeros were lost: the usual width and the values of
    that width that kept a leading zero, or the code's fixed width."""
    digits = text.str.contains(r"^\d+$").fill_null(False)
    widths = text.str.len_chars().fill_null(0)
    table = pl.DataFrame({"v": text, "w": widths, "n": counts}).filter(digits)
    usual = table.group_by("w").agg(pl.col("n").sum()).sort(["n", "w"], descending=True)
    width, at_width = int(usual["w"][0]), int(usual["n"][0])
    padded = table.filter(pl.col("v").str.starts_with("0") & (pl.col("w") == width))
    total = int(table["n"].sum() or 0)
    if int(padded["n"].sum() or 0) >= 2:
        top = padded.sort("n", descending=True).row(0, named=True)
        return (
            f" What was seen: {at_width:,} of the column's {total:,} numbers are {width} "
            f"digits long, and {int(padded['n'].sum()):,} of those keep a leading zero "
            f"(e.g. '{top['v']}' on {top['n']:,} rows), so shorter ones lost theirs."
        )
    kind = "ZIP code" if _ZIP_NAME.search(field.name) else "census geography code (FIPS)"
    return (
        f" What was seen: the column is named as a {kind}, which has {max(width, 5)} digits, "
        f"and {at_width:,} of its {total:,} numbers are {width} digits long."
    )


def _explain_lost_zeros(value: str, field: SchemaField) -> str:
    return (
        f"'{value}' in {field.name} is shorter than the column's other values: a spreadsheet "
        "may have dropped its leading zeros. It is kept as written. Check it against the records "
        "system; export the file again without opening it in a spreadsheet."
    )


_DETECTORS = (
    _Detector("scientific_notation", _scientific, _explain_scientific),
    _Detector("suspicious_sentinel", sentinels.sentinel_spikes, sentinels.explain_sentinel),
    _Detector("time_read_from_fraction", sentinels.read_fractions, sentinels.explain_read_fraction),
    _Detector(
        "time_as_day_fraction", sentinels.unread_fractions, sentinels.explain_unread_fraction
    ),
    _Detector("date_read_from_number", _read_serials, _explain_read_serial),
    _Detector("date_as_number", _unread_serials, _explain_unread_serial),
    _Detector("leading_zeros_lost", _lost_zeros, _explain_lost_zeros, _lost_zeros_evidence),
)


def report_damage(
    frame: pl.DataFrame,
    schema: TableSchema,
    report: ValidationReport,
    *,
    skip: tuple[str, ...] = (),
    cleaned: bool = False,
    numbers: set[str] | None = None,
) -> None:
    """Report every spreadsheet-damaged value of ``frame`` (text columns named as the fields).

    ``skip`` names detectors left out (a chunked publish runs the column-wide sentinel
    check once over every chunk, with ``SentinelTally``). ``cleaned``: the columns are
    trimmed with blanks null already (``conform.trimmed_cells``). ``numbers``: the
    columns with a number-like cell, when the caller asked :func:`number_like_columns`.

    A column of few distinct values (codes, dates) is examined value by value,
    with the rows holding each; a column of mostly distinct values (ids) in one
    vectorized pass per detector. Only damaged cells are grouped for the report.
    """
    present = set(frame.columns)  # asked once: polars builds the list anew on every call
    rows = frame[ROW] if ROW in present else pl.Series(ROW, range(2, frame.height + 2))
    fields = [f for f in schema.fields if f.name in present and not f.free_text]
    if not frame.height or not fields:
        return
    # Every detector flags only number-like values: columns without one are passed over.
    if numbers is None:
        numbers = number_like_columns(frame, [f.name for f in fields], cleaned)
    for field in fields:
        if field.name not in numbers:
            continue
        text = frame.select(trimmed_cells(field.name, cleaned).alias("value")).to_series()
        if text.n_unique() * 2 > text.len():
            ones = pl.Series("n", [1], dtype=pl.UInt32).extend_constant(1, text.len() - 1)
            for detector in _DETECTORS:
                if detector.code in skip:
                    continue
                mask = detector.find(text, ones, field).cast(pl.Boolean).fill_null(False)
                if mask.any():
                    seen = detector.evidence(text, ones, field) if detector.evidence else ""
                    _report(detector, distinct_values(text, rows, mask), field, report, seen)
            continue
        table = pl.DataFrame([text, rows.alias("row")]).drop_nulls("value")
        values = table.group_by("value").agg(
            pl.len().alias("n"), pl.col("row").min().alias("first")
        )
        for detector in _DETECTORS:
            if detector.code in skip:
                continue
            mask = detector.find(values["value"], values["n"], field)
            found = values.filter(mask.cast(pl.Boolean).fill_null(False))
            if found.height:
                seen = (
                    detector.evidence(values["value"], values["n"], field)
                    if detector.evidence
                    else ""
                )
                found = found.sort(["n", "value"], descending=[True, False])
                _report(detector, found, field, report, seen)


def _report(
    detector: _Detector,
    per_value: pl.DataFrame,
    field: SchemaField,
    report: ValidationReport,
    seen: str = "",
) -> None:
    count = int(per_value["n"].sum() or 0)
    examples = [
        Problem(
            code=detector.code,
            severity="warning",
            row=int(r["first"]),
            column=field.name,
            value=str(r["value"]),
            rows=int(r["n"]),
            message=detector.explain(str(r["value"]), field) + _where(r["n"], r["first"]) + seen,
        )
        for r in per_value.head(EXAMPLES_PER_COLUMN).iter_rows(named=True)
    ]
    report.add_counted(detector.code, "warning", count, examples, distinct=per_value.height)
    damaged = report.facts.setdefault("spreadsheet_damage", {})
    damaged.setdefault(field.name, {})[detector.code] = count


def number_like_columns(frame: pl.DataFrame, names: list[str], cleaned: bool = False) -> set[str]:
    """The columns among ``names`` with a number-like cell (``NUMBER_LIKE``): the only cells
    a damage detector or the sentinel check looks at. One select over all the columns,
    which polars runs in parallel."""
    present = set(frame.columns)
    names = [name for name in names if name in present]
    if not frame.height or not names:
        return set()
    found = frame.select(
        trimmed_cells(name, cleaned).str.contains(NUMBER_LIKE).any().alias(name) for name in names
    ).row(0, named=True)
    return {name for name, any_number in found.items() if any_number}


def _where(count: int, first: int) -> str:
    return "" if count == 1 else f" ({count:,} rows, first on row {first})"


class SentinelTally:
    """The sentinel check over a file read in chunks: what it needs of each column (rows,
    rows of words, the range of the other numbers, and each code's rows and first row),
    gathered chunk by chunk, then judged once as if the whole column had been read."""

    def __init__(self, schema: TableSchema, cleaned: bool = False) -> None:
        self.schema = schema
        self.cleaned = cleaned  # the chunks' columns are trimmed with blanks null already
        self.columns: dict[str, dict[str, Any]] = {}

    def add(self, frame: pl.DataFrame, numbers: set[str] | None = None) -> None:
        """Count a chunk. ``numbers``: its columns with a number-like cell
        (:func:`number_like_columns`); the others are counted as words without parsing."""
        present = set(frame.columns)
        fields = [f.name for f in self.schema.fields if f.name in present and not f.free_text]
        if not frame.height or not fields:
            return
        for name in fields:
            self.columns.setdefault(
                name, {"total": 0, "words": 0, "low": None, "high": None, "codes": {}}
            )
        if numbers is not None:
            self._add_words(frame, [n for n in fields if n not in numbers])
            fields = [n for n in fields if n in numbers]
            if not fields:
                return
        # Each column as text and as a number (where it is one), then what it adds to its
        # tally; each step over all columns in one select, which polars runs in parallel.
        parsed = frame.select(
            pl.col(ROW), *(e for name in fields for e in _parsed(name, self.cleaned))
        )
        summed = parsed.select(
            expression.alias(f"{name}\t{part}")
            for name in fields
            for part, expression in _tally(name).items()
        ).row(0, named=True)
        for name in fields:
            seen = self.columns[name]
            seen["total"] += int(summed[f"{name}\ttotal"])
            seen["words"] += int(summed[f"{name}\twords"])
            low, high = summed[f"{name}\tlow"], summed[f"{name}\thigh"]
            if low is not None and high is not None:
                seen["low"] = low if seen["low"] is None else min(seen["low"], low)
                seen["high"] = high if seen["high"] is None else max(seen["high"], high)
            if not summed[f"{name}\tcoded"]:
                continue
            hits = parsed.filter(_is_code(name)).select(
                pl.col(f"{name}\ttext").alias("v"), pl.col(ROW).alias("r")
            )
            for value, n, first in hits.group_by("v").agg(pl.len(), pl.col("r").min()).iter_rows():
                known = seen["codes"].get(value, (0, first))
                seen["codes"][value] = (known[0] + n, min(known[1], first))

    def _add_words(self, frame: pl.DataFrame, names: list[str]) -> None:
        """Columns without a number: every cell with text is a word."""
        if not names:
            return
        cells = frame.select(
            trimmed_cells(name, self.cleaned).is_not_null().sum().alias(name) for name in names
        ).row(0, named=True)
        for name in names:
            self.columns[name]["total"] += int(cells[name])
            self.columns[name]["words"] += int(cells[name])

    def report(self, report: ValidationReport) -> None:
        detector = next(d for d in _DETECTORS if d.code == "suspicious_sentinel")
        for field in self.schema.fields:
            seen = self.columns.get(field.name)
            if not seen or not seen["codes"]:
                continue
            values, counts = _summary(seen)
            mask = detector.find(values, counts, field).cast(pl.Boolean).fill_null(False)
            found = [v for v, hit in zip(values, mask, strict=True) if hit]
            if found:
                per_value = pl.DataFrame(
                    {
                        "value": found,
                        "n": [seen["codes"][v][0] for v in found],
                        "first": [seen["codes"][v][1] for v in found],
                    }
                ).sort(["n", "value"], descending=[True, False])
                _report(detector, per_value, field, report)


def _parsed(name: str, cleaned: bool) -> tuple[pl.Expr, pl.Expr]:
    """The column trimmed (blanks as nulls), and its value as a number where it is one."""
    text = trimmed_cells(name, cleaned)
    numeric = text.str.contains(sentinels.NUMBER).fill_null(False)
    number = pl.when(numeric).then(text.cast(pl.Float64, strict=False))
    return text.alias(f"{name}\ttext"), number.alias(f"{name}\tnumber")


def _is_code(name: str) -> pl.Expr:
    number = pl.col(f"{name}\tnumber")
    return number.is_in([float(c) for c in sentinels.SENTINELS]).fill_null(False)


def _tally(name: str) -> dict[str, pl.Expr]:
    """A chunk's part of a column's sentinel tally (from ``_parsed``): cells, cells of
    words, the lowest and highest numbers that are not codes, and whether any is a code."""
    text, number = pl.col(f"{name}\ttext"), pl.col(f"{name}\tnumber")
    others = number.filter(~_is_code(name))
    return {
        "total": text.is_not_null().sum(),
        "words": (text.is_not_null() & number.is_null()).sum(),
        "low": others.min(),
        "high": others.max(),
        "coded": _is_code(name).any(),
    }


def _summary(seen: dict[str, Any]) -> tuple[pl.Series, pl.Series]:
    """Values and rows standing for the whole column: its codes, a word for its words, and
    its lowest and highest other numbers (the sentinel check needs nothing else)."""
    values: list[str] = list(seen["codes"])
    counts: list[int] = [seen["codes"][v][0] for v in values]
    coded = sum(counts)
    if seen["words"]:
        values.append("word")
        counts.append(seen["words"])
    numbers = seen["total"] - seen["words"] - coded
    if seen["low"] is not None and numbers > 0:
        values.append(repr(seen["low"]))
        counts.append(max(numbers - 1, 1))
        if seen["high"] != seen["low"] and numbers > 1:
            values.append(repr(seen["high"]))
            counts.append(1)
    return pl.Series(values, dtype=pl.String), pl.Series(counts, dtype=pl.Int64)
