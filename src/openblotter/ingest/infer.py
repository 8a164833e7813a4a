"""Infer a Table Schema for a custom dataset from the whole file (never a sample).

A column gets the narrowest type that every non-blank cell fits: boolean,
integer, number, date, time, datetime, else string. Identifiers with leading
zeros stay text. Text columns with few distinct values are marked categorical
(codes to facet and chart). Headers become snake_case field names; the
original header is kept as the title and as a source name, so later releases
with the same headers line up.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from openblotter.domain.schema import DEFAULT_MISSING_VALUES, FieldType, SchemaField, TableSchema
from openblotter.ingest.conform import ROW, clean_cells
from openblotter.ingest.parsing import parse_column

#: Text columns with at most this many distinct values (and few per row) are categorical.
CATEGORICAL_MAX_DISTINCT = 60

#: What every cell of a type must look like before its formats are worth trying.
_SHAPES: dict[str, str] = {
    "date": r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T].*)?$|^\d{8}$"
    r"|^\d{1,2}-[A-Za-z]{3}-\d{2,4}$|^[A-Za-z]{3,9}\.? \d{1,2}, \d{4}$",
    "datetime": r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T].*)?$",
    "time": r"^\d{1,2}:\d{2}|^\d{1,4}$",
}

#: A whole number a spreadsheet wrote in scientific notation (as ingest.damage.SCIENTIFIC).
_SCIENTIFIC = r"^[+-]?\d(?:\.\d+)?[eE]\+?(?:[6-9]|\d{2,3})$"

_ORDER: list[FieldType] = ["boolean", "integer", "number", "date", "time", "datetime"]


def field_name(header: str) -> str:
    """A header as a snake_case identifier: ``GO / SC Num`` -> ``go_sc_num``."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ascii_text)
    name = re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()
    if not name:
        name = "column"
    if name[0].isdigit():
        name = f"c_{name}"
    return name[:100]


def field_names(headers: list[str]) -> dict[str, str]:
    """Header -> unique field name."""
    taken: dict[str, int] = {}
    out: dict[str, str] = {}
    for header in headers:
        base = field_name(header)
        taken[base] = taken.get(base, 0) + 1
        out[header] = base if taken[base] == 1 else f"{base}_{taken[base]}"
    return out


def infer_type(values: pl.Series, zone: str | None = None) -> FieldType:
    """The narrowest type every non-blank cell of ``values`` (already cleaned) parses as.

    ``zone``: the city's time zone, for moments written with a UTC offset.
    """
    present = values.drop_nulls()
    if present.len() == 0:
        return "string"
    if present.str.contains(r"^0\d+$").any():
        # Leading zeros carry meaning in IDs and codes (beats, ZIPs): keep as text.
        return "string"
    if present.str.contains(_SCIENTIFIC).any():
        # 2.02E+14: a spreadsheet destroyed these numbers; kept as written, and reported.
        return "string"
    has_clock = bool(present.str.contains(r"\d:\d\d").any())
    distinct = present.unique()
    # A type is accepted only when every cell parses; a spread-out sample finds most
    # counterexamples cheaply, so the whole column is parsed only for plausible types.
    probe = distinct.gather_every(max(1, distinct.len() // 200))
    for candidate in _ORDER:
        shape = _SHAPES.get(candidate)
        if shape is not None and not probe.str.contains(shape).all():
            continue  # some cell cannot be this type at all: no need to try its formats
        if parse_column(probe, candidate).null_count():
            continue
        if candidate == "boolean" and present.n_unique() > 2:
            continue
        if candidate == "date" and has_clock and not _all_midnight(present, zone):
            continue
        if shape is not None and not distinct.str.contains(shape).all():
            continue  # e.g. one Excel day number among dates: text, reported as damage
        parsed = parse_column(distinct, candidate)
        if parsed.null_count() == 0:
            if candidate == "number" and distinct.str.contains(r"^-?\d+$").all():
                return "integer"
            return candidate
    return "string"


#: Text this long on average, in sentences, is a narrative: withheld unless the portal allows it.
FREE_TEXT_MIN_MEAN_LENGTH = 60


def is_free_text(values: pl.Series) -> bool:
    """Narratives and remarks (long, mostly distinct, with spaces) may hold personal details."""
    present = values.drop_nulls()
    if present.len() == 0:
        return False
    mean_length = present.str.len_chars().mean()
    spaced = present.str.contains(" ").mean()
    return bool(
        mean_length is not None and mean_length >= FREE_TEXT_MIN_MEAN_LENGTH and (spaced or 0) > 0.5
    )


def _all_midnight(present: pl.Series, zone: str | None = None) -> bool:
    """Datetimes that are all at 00:00 (``1/7/2010 0:00``) are dates written long-hand.

    ArcGIS exports write a local midnight in UTC (``2017/02/19 05:00:00+00``): in the
    city's zone it is 00:00 again, a date.
    """
    moments = parse_column(present.unique(), "datetime", zone=zone)
    if moments.null_count():
        return False
    return bool(
        (moments.dt.hour() == 0).all()
        and (moments.dt.minute() == 0).all()
        and (moments.dt.second() == 0).all()
    )


def is_categorical(values: pl.Series) -> bool:
    present = values.drop_nulls()
    if present.len() == 0:
        return False
    distinct = present.n_unique()
    return distinct <= CATEGORICAL_MAX_DISTINCT and distinct <= max(2, present.len() // 2)


def infer_schema(
    frame: pl.DataFrame, *, consume: bool = False, time_zone: str | None = None
) -> tuple[TableSchema, dict[str, str], pl.DataFrame]:
    """Infer a schema from a text frame.

    Returns the schema, the header -> field name renames, and the frame cleaned
    (trimmed, blanks null) and renamed, ready for conform(..., cleaned=True).
    With ``consume`` each text column leaves ``frame`` once it is cleaned, so the
    text and the cleaned copy of a large file are not held together.
    """
    headers = [c for c in frame.columns if c != ROW]
    renames = field_names(headers)
    fields: list[SchemaField] = []
    columns: list[pl.Series] = []
    for header in headers:
        source = frame.drop_in_place(header) if consume else frame[header]
        cleaned = clean_cells(source, DEFAULT_MISSING_VALUES).alias(renames[header])
        del source
        columns.append(cleaned)
        field_type = infer_type(cleaned, time_zone)
        categorical = field_type == "string" and is_categorical(cleaned)
        narrative = field_type == "string" and not categorical and is_free_text(cleaned)
        fields.append(
            SchemaField.model_validate(
                {
                    "name": renames[header],
                    "type": field_type,
                    "title": header,
                    "description": "",
                    "categorical": categorical,
                    "freeText": narrative,
                    "sourceNames": [header] if header != renames[header] else [],
                }
            )
        )
    if ROW in frame.columns:
        columns.append(frame[ROW])
    cleaned_frame = pl.DataFrame(columns)
    schema = TableSchema(fields=fields, primary_key=_candidate_key(cleaned_frame))
    return schema, renames, cleaned_frame


def _candidate_key(frame: pl.DataFrame) -> list[str]:
    """A column that names each row once (an id, a number), if the file has one."""
    for name in frame.columns:
        if not re.search(r"(^|_)(id|number|num|no|key)$", name):
            continue
        column = frame[name]
        if column.null_count() == 0 and column.n_unique() == frame.height:
            return [name]
    return []
