"""Scrub personal data before anything is stored, as the schema's markers say.

- ``drop``: the column never leaves this module.
- ``hash``: HMAC-SHA256 keyed with the portal's secret salt, so the same
  officer or subject ID gets the same token in every release and dataset, and
  nobody without the salt can recover an ID by hashing guesses.
- ``generalize``: street address -> hundred block; date of birth -> age at
  the event; date -> month; time -> hour.
- ``generalize`` ``grid``: a coordinate rounded to a grid (``gridSize``).
- ``keep``: published as recorded, a decision the publisher made and wrote down.
- free text: dropped unless the portal allows the field; then masked by the
  detectors of ``ingest/text_pii.py`` (names anywhere in the text, addresses,
  phones, e-mails, SSNs, dates, plates, licences), the row's own personal
  values (names from dropped fields) and any remaining digits.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest.conform import ROW
from openblotter.ingest.text_pii import mask_text

HASH_LENGTH = 20

_UNIT = r"\s*(?:,\s*)?(?:APT|UNIT|STE|SUITE|#|LOT|RM|ROOM)\.?\s*[A-Za-z0-9-]+\s*$"


@dataclass
class Scrubbed:
    """The publishable table and a record of what was done to which field."""

    frame: pl.DataFrame
    treatments: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def hash_token(value: str, salt: str) -> str:
    """The stable public token for an identifier."""
    digest = hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()
    return digest[:HASH_LENGTH]


def hash_series(values: pl.Series, salt: str) -> pl.Series:
    """Hash each distinct value once (officer IDs repeat across thousands of rows)."""
    text = values.cast(pl.String)
    distinct = text.drop_nulls().unique()
    lookup = {v: hash_token(v, salt) for v in distinct.to_list()}
    return text.replace_strict(lookup, default=None, return_dtype=pl.String).alias(values.name)


def hundred_block(values: pl.Series) -> pl.Series:
    """``1234 N Main St Apt 5`` -> ``1200 BLOCK N MAIN ST``; text without a house number is kept.

    A hundred block stays as it is (``1200 Block of Elm Ave`` -> ``1200 BLOCK ELM AVE``), so
    published rows generalized again (a view derived from them, an export re-published) keep it.
    """
    text = values.cast(pl.String).str.strip_chars().str.to_uppercase()
    text = text.str.replace(_UNIT, "")
    parts = text.str.extract_groups(r"^(\d+)[A-Z]?\s+(?:BLOCK\s+(?:OF\s+)?)?(.+)$")
    number = parts.struct.field("1").cast(pl.Int64, strict=False)
    street = parts.struct.field("2")
    block = (number // 100 * 100).cast(pl.String) + " BLOCK " + street
    # A house number written inside the street part would still point at one house.
    has_number = text.str.contains(r"\b\d+\b")
    generalized = pl.select(
        pl.when(number.is_not_null())
        .then(block)
        .when(has_number)
        .then(pl.lit("[address withheld]"))
        .otherwise(text)
    ).to_series()
    return generalized.alias(values.name)


def age_at(birth: pl.Series, reference: pl.Series | date) -> pl.Series:
    """Whole years between a date of birth and the event date (or a fixed date)."""
    born = birth.cast(pl.Date)
    ref = (
        pl.Series([reference] * len(born), dtype=pl.Date)
        if isinstance(reference, date)
        else reference.cast(pl.Date)
    )
    years = ref.dt.year() - born.dt.year()
    before_birthday = (ref.dt.month() < born.dt.month()) | (
        (ref.dt.month() == born.dt.month()) & (ref.dt.day() < born.dt.day())
    )
    ages = years.cast(pl.Int64) - before_birthday.cast(pl.Int64)
    return pl.select(pl.when((ages >= 0) & (ages < 120)).then(ages)).to_series().alias(birth.name)


def mask_free_text(values: pl.Series, personal: pl.DataFrame | None = None) -> pl.Series:
    """Mask personal details in narrative text (``ingest/text_pii.py``).

    ``personal`` holds the row's own personal values (names from dropped fields),
    masked wherever they appear in that row's text, besides what the detectors find.
    """
    text = values.cast(pl.String)
    rows = personal.rows() if personal is not None and personal.width else None
    masked = [
        None if narrative is None else mask_text(narrative, rows[i] if rows else ())
        for i, narrative in enumerate(text.to_list())
    ]
    return pl.Series(values.name, masked, dtype=pl.String)


def scrub(
    frame: pl.DataFrame,
    schema: TableSchema,
    *,
    salt: str,
    free_text_allowed: set[str],
    reference_date: date,
) -> Scrubbed:
    """Apply every privacy marker of ``schema`` to ``frame`` (typed, conformed)."""
    result = Scrubbed(frame=frame)
    present = set(frame.columns)  # a set: frame.columns builds a list on every call
    personal_names = [
        f.name
        for f in schema.fields
        if f.privacy and f.privacy.treatment == "drop" and f.name in present
    ]
    personal = frame.select(personal_names)
    columns: list[pl.Series] = []
    for f in schema.fields:
        if f.name not in present:
            continue
        published = _treat(
            frame, f, schema, salt, free_text_allowed, reference_date, personal, result
        )
        if published is not None:
            columns.append(published)
    if ROW in frame.columns:
        columns.append(frame[ROW])
    result.frame = pl.DataFrame(columns)
    return result


def _treat(
    frame: pl.DataFrame,
    f: SchemaField,
    schema: TableSchema,
    salt: str,
    free_text_allowed: set[str],
    reference_date: date,
    personal: pl.DataFrame,
    result: Scrubbed,
) -> pl.Series | None:
    values = frame[f.name]
    if f.free_text and f.privacy is None:
        if f.name not in free_text_allowed:
            result.dropped.append(f.name)
            result.treatments[f.name] = "dropped (free text not published)"
            return None
        result.treatments[f.name] = "masked free text"
        return mask_free_text(values, personal)
    if f.privacy is None:
        return values
    name = f.privacy.published_as or f.name
    if f.privacy.treatment == "keep":
        result.treatments[f.name] = "published as recorded (reviewed)"
        return values.alias(name)
    if f.privacy.treatment == "drop":
        result.dropped.append(f.name)
        result.treatments[f.name] = "dropped"
        return None
    if f.privacy.treatment == "hash":
        result.treatments[f.name] = "hashed"
        return hash_series(values, salt).alias(name)
    result.treatments[f.name] = f"generalized ({f.privacy.method})"
    return _generalize(frame, f, schema, reference_date).alias(name)


def _generalize(
    frame: pl.DataFrame, f: SchemaField, schema: TableSchema, reference_date: date
) -> pl.Series:
    assert f.privacy is not None
    values = frame[f.name]
    match f.privacy.method:
        case "hundred_block":
            return hundred_block(values)
        case "age":
            ref_name = f.privacy.reference_field
            reference: pl.Series | date = reference_date
            if ref_name and ref_name in frame.columns:
                reference = frame[ref_name].cast(pl.Date).fill_null(reference_date)
            return age_at(values, reference)
        case "month":
            return values.dt.truncate("1mo")
        case "grid":
            return snap_to_grid(values, f.privacy.grid or 0.01)
        case "hour":
            if values.dtype == pl.Time:
                return _hour_time(values.dt.hour())
            return values.dt.truncate("1h")
    raise AssertionError(f"unknown generalize method {f.privacy.method}")


def snap_to_grid(values: pl.Series, size: float) -> pl.Series:
    """A coordinate rounded to the nearest multiple of ``size`` (0.01 degree, 1000 feet…)."""
    number = values.cast(pl.Float64, strict=False)
    return ((number / size).round(0) * size).round(6).alias(values.name)


def _hour_time(hours: pl.Series) -> pl.Series:
    return pl.select(pl.time(hour=hours)).to_series()
