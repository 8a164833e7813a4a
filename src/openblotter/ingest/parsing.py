"""Vectorized parsing of text cells into typed columns (polars expressions).

Real exports write the same thing many ways: ``9/3/16``, ``2016-09-03``,
``1/7/2010 0:00``; times as ``4:14:00 AM``, ``21:08:00.0000000`` or ``800``.
Each parser tries the formats in order and takes the first that fits each
cell, over the whole column (never a sample). A format may be given
explicitly (a strptime pattern, or several separated by ``||``).

Read by default, besides the plain forms: ArcGIS/Esri exports
(``2016/01/01 00:00:00+00``), ISO 8601 with a zone (``2016-01-01T05:00:00Z``,
``+00:00``, ``-0500``), Oracle-style ``01-JAN-2016``, ``Jan 1, 2016`` and Excel
serial day numbers (``42370`` is 2016-01-01). A moment written with a zone is
converted to the city's time zone when one is given (else kept as written in
UTC), then stored without a zone like every other time of the portal.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from openblotter.domain.schema import FieldType
from openblotter.ingest.sentinels import fraction_times

_DATE_FORMATS = [
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%m-%d-%y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
]
_TIME_FORMATS = [
    "%H:%M:%S%.f",
    "%H:%M:%S",
    "%H:%M:%S:%3f",  # 21:48:00:000 (Indianapolis's 2019 export)
    "%H:%M",
    "%I:%M:%S %p",
    "%I:%M %p",
    "%I:%M:%S%p",
    "%I:%M%p",
]
_DATETIME_FORMATS = [
    f"{d}{sep}{t}"
    for d in ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d"]
    for sep in (" ", "T")
    for t in ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p"]
    if not (sep == "T" and "%p" in t)
]
#: Moments with a UTC offset (``+00``, ``+00:00``, ``-0500``; a final ``Z`` is read as ``+00:00``).
_ZONED_FORMATS = [
    f"{d}{sep}{t}%#z"
    for d in ["%Y-%m-%d", "%Y/%m/%d"]
    for sep in ("T", " ")
    for t in ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
]
#: Excel counts days from 1899-12-30; five-digit serials are 1927-05-18 .. 2173.
_EXCEL_EPOCH = "1899-12-30"
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}

# Plausible years for police records; a two-digit year read as 0016 is a misparse.
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def _formats(explicit: str | None, defaults: list[str]) -> list[str]:
    if explicit and explicit not in ("default", "any"):
        return [f.strip() for f in explicit.split("||") if f.strip()]
    return defaults


def _where(values: pl.Series, keep: pl.Series) -> pl.Series:
    """``values`` where ``keep`` holds, null elsewhere."""
    return pl.select(pl.when(keep).then(values)).to_series().alias(values.name)


def _plausible(values: pl.Series) -> pl.Series:
    years = values.dt.year()
    return _where(values, (years >= _MIN_YEAR) & (years <= _MAX_YEAR))


Attempt = Callable[[pl.Series], pl.Series]


def _default(fmt: str | None) -> bool:
    return not fmt or fmt in ("default", "any")


def _zoned(values: pl.Series, fmt: str, zone: str | None) -> pl.Series:
    """Moments with an offset, in the city's zone (or as written in UTC), without a zone."""
    text = values.str.replace(r"[Zz]$", "+00:00")
    moments = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
    if zone:
        moments = moments.dt.convert_time_zone(zone)
    return _plausible(moments.dt.replace_time_zone(None))


def excel_serial_dates(values: pl.Series) -> pl.Series:
    """Excel serial day numbers (``42370``) as datetimes; anything else null."""
    serial = _where(values, values.str.contains(_EXCEL_SERIAL)).cast(pl.Float64, strict=False)
    epoch = pl.lit(_EXCEL_EPOCH).str.to_datetime("%Y-%m-%d", time_unit="us")
    moments = pl.select(epoch + pl.duration(milliseconds=(serial * 86_400_000).round(0)))
    return _plausible(moments.to_series().alias(values.name))


def _moment_attempts(zone: str | None) -> list[Attempt]:
    """Every default way of writing a moment: plain, with a zone, an Excel serial."""
    plain: list[Attempt] = [
        lambda s, f=f: _plausible(_naive(s.str.to_datetime(f, strict=False, time_unit="us")))
        for f in _DATETIME_FORMATS
    ]
    zoned: list[Attempt] = [lambda s, f=f: _zoned(s, f, zone) for f in _ZONED_FORMATS]
    return [*plain, *zoned, excel_serial_dates]


def _date_attempts(fmt: str | None, zone: str | None = None) -> list[Attempt]:
    attempts: list[Attempt] = [
        lambda s, f=f: _plausible(s.str.to_date(f, strict=False))
        for f in _formats(fmt, _DATE_FORMATS)
    ]
    if _default(fmt):
        attempts += [lambda s, a=a: a(s).dt.date() for a in _moment_attempts(zone)]
    return attempts


def _time_attempts(fmt: str | None, zone: str | None = None) -> list[Attempt]:
    attempts: list[Attempt] = [
        lambda s, f=f: s.str.to_time(f, strict=False) for f in _formats(fmt, _TIME_FORMATS)
    ]
    if not fmt or fmt in ("default", "any"):
        # Integer clock times: 800 is 08:00, 0 is midnight.
        attempts.append(
            lambda s: _where(
                s.str.zfill(4).str.to_time("%H%M", strict=False), s.str.contains(r"^\d{1,4}$")
            )
        )
        # Excel times stored as a fraction of a day: 0.5416666 is 13:00 (ingest.sentinels).
        attempts.append(fraction_times)
    return attempts


def _datetime_attempts(fmt: str | None, zone: str | None = None) -> list[Attempt]:
    if not _default(fmt):
        return [
            lambda s, f=f: _plausible(_naive(s.str.to_datetime(f, strict=False, time_unit="us")))
            for f in _formats(fmt, _DATETIME_FORMATS)
        ]
    attempts = _moment_attempts(zone)
    attempts[-1:-1] = [
        lambda s, a=a: a(s).cast(pl.Datetime("us"))
        for a in _date_attempts(None)[: len(_DATE_FORMATS)]
    ]
    return attempts


def _naive(values: pl.Series) -> pl.Series:
    if getattr(values.dtype, "time_zone", None):
        return values.dt.replace_time_zone(None)
    return values


_TARGET: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "time": pl.Time(),
    "datetime": pl.Datetime("us"),
}


def _ordered(attempts: list[Attempt], sample: pl.Series) -> list[Attempt]:
    """Formats by how much of the sample each reads; the first that reads all of it wins at once."""
    if not sample.len():
        return attempts
    scores: list[tuple[int, int]] = []
    for position, attempt in enumerate(attempts):
        read = int(attempt(sample).is_not_null().sum())
        if read == sample.len():
            return [attempt, *attempts[:position], *attempts[position + 1 :]]
        scores.append((-read, position))
    return [attempts[position] for _, position in sorted(scores)]


def _parse_progressively(
    values: pl.Series, attempts: list[Attempt], target: pl.DataType
) -> pl.Series:
    """Try each format only on the cells no earlier format could read.

    The formats are first ordered by how many cells of a spread-out sample each
    reads, so a column written one way costs one pass; the decision for every
    cell is still made on the cell itself, never on the sample.
    """
    sample = values.drop_nulls().gather_every(max(1, values.len() // 500))
    scored = _ordered(attempts, sample)
    out = pl.Series(values.name, [None] * values.len(), dtype=target)
    remaining = values.is_not_null()
    for attempt in scored:
        positions = remaining.arg_true()
        if positions.len() == 0:
            break
        parsed = attempt(values.gather(positions))
        found = parsed.is_not_null()
        if not found.any():
            continue
        out = out.scatter(positions.filter(found), parsed.filter(found))
        remaining = remaining.scatter(positions.filter(found), False)
    return out


def _integer(col: pl.Expr) -> pl.Expr:
    """Text -> Int64; thousands separators allowed; ``12.0`` (a spreadsheet's integer) accepted.

    Scientific notation (``2.02E+14``) is not a whole number: its digits are lost.
    """
    cleaned = col.str.replace_all(",", "", literal=True)
    as_float = pl.when(~cleaned.str.contains("[eE]")).then(cleaned).cast(pl.Float64, strict=False)
    integral = pl.when(as_float == as_float.floor()).then(as_float)
    return pl.coalesce(cleaned.cast(pl.Int64, strict=False), integral.cast(pl.Int64, strict=False))


def _number(col: pl.Expr) -> pl.Expr:
    """Text -> Float64; thousands separators, ``$`` and ``%`` signs allowed."""
    cleaned = col.str.replace_all(r"[,$%]", "")
    return cleaned.cast(pl.Float64, strict=False)


def _boolean(col: pl.Expr) -> pl.Expr:
    """Text -> Boolean from true/false, yes/no, y/n, t/f, 1/0 (any case)."""
    lowered = col.str.to_lowercase()
    return (
        pl.when(lowered.is_in(list(TRUE_WORDS)))
        .then(True)
        .when(lowered.is_in(list(FALSE_WORDS)))
        .then(False)
        .otherwise(None)
    )


def _year(col: pl.Expr) -> pl.Expr:
    years = _integer(col)
    return pl.when((years >= _MIN_YEAR) & (years <= _MAX_YEAR)).then(years)


_EXPRESSIONS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "year": _year,
}
_ATTEMPTS: dict[str, Callable[[str | None, str | None], list[Attempt]]] = {
    "date": _date_attempts,
    "time": _time_attempts,
    "datetime": _datetime_attempts,
}


def parse_column(
    values: pl.Series, field_type: FieldType, fmt: str | None = None, zone: str | None = None
) -> pl.Series:
    """Parse one text Series into ``field_type``; cells that do not fit become null.

    ``zone`` is the city's IANA time zone: moments written with a UTC offset
    are converted to it.

    Text types (string, any) come back unchanged. Callers compare nulls before
    and after to count and report the cells that did not parse. Police exports
    repeat the same dates, times and codes on many rows, so each distinct text
    is parsed once and the results are joined back.
    """
    if field_type not in _EXPRESSIONS and field_type not in _ATTEMPTS:
        return values
    distinct = values.drop_nulls().unique()
    if distinct.len() * 2 > values.len():
        return _parse_all(values, field_type, fmt, zone)
    parsed = _parse_all(distinct, field_type, fmt, zone)
    lookup = pl.DataFrame({"__text": distinct, "__parsed": parsed})
    joined = pl.DataFrame({"__text": values}).join(
        lookup, on="__text", how="left", maintain_order="left"
    )
    return joined["__parsed"].alias(values.name)


def _parse_all(
    values: pl.Series, field_type: FieldType, fmt: str | None, zone: str | None
) -> pl.Series:
    if field_type in _EXPRESSIONS:
        frame = pl.DataFrame({"__value": values})
        return frame.select(
            _EXPRESSIONS[field_type](pl.col("__value")).alias(values.name)
        ).to_series()
    return _parse_progressively(values, _ATTEMPTS[field_type](fmt, zone), _TARGET[field_type])
