"""SODA answers as Socrata writes them: JSON (numbers and timestamps as strings, nulls left
out), CSV (header row even when empty), GeoJSON; and its error shape.

Values arrive as Arrow batches, as the engine gives them (a grouped answer's
dates as ISO text); each column is rendered by its field's SODA type, by Arrow
where Arrow writes what Socrata writes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from openblotter.domain.query.soql_groups import OutputField

JSON_TYPE = "application/json;charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
GEOJSON_TYPE = "application/vnd.geo+json;charset=utf-8"
# A spreadsheet runs a cell starting with one of these as a formula (as in the native CSV).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA = "^[=+\\-@\t\r]"


def floating_timestamp(value: Any) -> str:
    """``2024-05-01T13:45:00.000``: Socrata's floating timestamp, milliseconds always."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def soda_value(value: Any, soda_type: str) -> Any:
    """One value as SODA's JSON holds it (None for a null, left out by the caller)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value if soda_type == "checkbox" else str(value).lower()
    if isinstance(value, float):
        return (
            None if not math.isfinite(value) else str(np.format_float_positional(value, trim="-"))
        )
    if isinstance(value, int):
        return str(value)
    if soda_type == "floating_timestamp":
        return floating_timestamp(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def text_column(array: pa.Array, soda_type: str, *, keep_booleans: bool = False) -> pa.Array:
    """A column as SODA's text (nulls stay null), computed by Arrow where Arrow writes it as
    Socrata does (integers, booleans, dates and timestamps), value by value otherwise."""
    kind = array.type
    if pa.types.is_boolean(kind):
        return array if keep_booleans else pc.cast(array, pa.string())
    if pa.types.is_integer(kind):
        return pc.cast(array, pa.string())
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        milliseconds = pc.cast(array, pa.timestamp("ms"), safe=False)
        return pc.strftime(milliseconds, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_string(kind) and soda_type == "text":
        return array
    # Floats (plain decimals, never 1e-07), times and timestamps given as text.
    return pa.array([soda_value(v, soda_type) for v in array.to_pylist()], pa.string())


def _json_rows(batch: pa.RecordBatch, fields: tuple[OutputField, ...]) -> list[dict[str, Any]]:
    columns = [
        text_column(batch.column(i), f.soda_type, keep_booleans=True).to_pylist()
        for i, f in enumerate(fields)
    ]
    names = [f.name for f in fields]
    return [
        {name: value for name, value in zip(names, values, strict=True) if value is not None}
        for values in zip(*columns, strict=True)
    ]


def json_body(
    batches: Iterable[pa.RecordBatch], fields: tuple[OutputField, ...]
) -> Iterator[bytes]:
    """A JSON array of objects, streamed; nulls left out."""
    opened = False
    for batch in batches:
        if not batch.num_rows:
            continue
        lines = b",\n".join(orjson.dumps(row) for row in _json_rows(batch, fields))
        yield (b",\n" if opened else b"[") + lines
        opened = True
    yield b"]\n" if opened else b"[]\n"


def geojson_body(
    batches: Iterable[pa.RecordBatch], fields: tuple[OutputField, ...]
) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection; a point where the row has latitude and longitude."""
    yield b'{"type":"FeatureCollection","features":['
    opened = False
    for batch in batches:
        if not batch.num_rows:
            continue
        features = b",\n".join(orjson.dumps(_feature(row)) for row in _json_rows(batch, fields))
        yield (b",\n" if opened else b"") + features
        opened = True
    yield b"]}\n"


def _feature(properties: dict[str, Any]) -> dict[str, Any]:
    geometry = None
    latitude, longitude = properties.get("latitude"), properties.get("longitude")
    if latitude is not None and longitude is not None:
        geometry = {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _inert(text: pa.Array) -> pa.Array:
    """Text a spreadsheet would run as a formula gets a leading quote (as the native CSV)."""
    formula = pc.match_substring_regex(text, _FORMULA)
    return pc.if_else(formula, pc.binary_join_element_wise("'", text, ""), text)


def csv_body(batches: Iterable[pa.RecordBatch], fields: tuple[OutputField, ...]) -> Iterator[bytes]:
    """CSV with the header row first (also when no row matched)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        [("'" + f.name) if f.name.startswith(_FORMULA_STARTS) else f.name for f in fields]
    )
    yield buffer.getvalue().encode()
    no_header = pa_csv.WriteOptions(include_header=False)
    for batch in batches:
        if not batch.num_rows:
            continue
        columns = []
        for i, f in enumerate(fields):
            text = text_column(batch.column(i), f.soda_type)
            columns.append(_inert(text) if f.soda_type == "text" else text)
        sink = io.BytesIO()
        table = pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])
        pa_csv.write_csv(table, sink, no_header)
        yield sink.getvalue()


def headers(fields: tuple[OutputField, ...], modified: datetime) -> dict[str, str]:
    """X-SODA2-Fields, X-SODA2-Types and Last-Modified of an answer."""
    return {
        "X-SODA2-Fields": orjson.dumps([f.name for f in fields]).decode(),
        "X-SODA2-Types": orjson.dumps([f.soda_type for f in fields]).decode(),
        "Last-Modified": modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }


def error_body(code: str, message: str, data: dict[str, Any]) -> dict[str, Any]:
    """Socrata's error shape: ``{"code", "error": true, "message", "data"}``."""
    return {"code": code, "error": True, "message": message, "data": data}
