"""SODA answers as Socrata writes them: JSON (numbers and timestamps as strings, nulls left
out), CSV (header row even when empty), GeoJSON; and its error shape.

Values arrive as the engine gives them (Python numbers, dates, booleans; a
grouped answer's dates as ISO text); each is rendered by its field's SODA type.
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

from openblotter.domain.query.soql_groups import OutputField

JSON_TYPE = "application/json;charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
GEOJSON_TYPE = "application/vnd.geo+json;charset=utf-8"
#: Rows rendered per chunk of the response body.
CHUNK_ROWS = 2_000
# A spreadsheet runs a cell starting with one of these as a formula (as in the native CSV).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def floating_timestamp(value: Any) -> str:
    """``2024-05-01T13:45:00.000``: Socrata's floating timestamp, milliseconds always."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


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


def _row(row: dict[str, Any], fields: tuple[OutputField, ...]) -> dict[str, Any]:
    out = {}
    for f in fields:
        value = soda_value(row.get(f.name), f.soda_type)
        if value is not None:
            out[f.name] = value
    return out


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def json_body(rows: Iterable[dict[str, Any]], fields: tuple[OutputField, ...]) -> Iterator[bytes]:
    """A JSON array of objects, streamed."""
    opened = False
    for chunk in _chunks(rows):
        lines = b",\n".join(orjson.dumps(_row(row, fields)) for row in chunk)
        yield (b",\n" if opened else b"[") + lines
        opened = True
    yield b"]\n" if opened else b"[]\n"


def geojson_body(
    rows: Iterable[dict[str, Any]], fields: tuple[OutputField, ...]
) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection; a point where the row has latitude and longitude."""
    yield b'{"type":"FeatureCollection","features":['
    opened = False
    for chunk in _chunks(rows):
        features = b",\n".join(orjson.dumps(_feature(_row(row, fields))) for row in chunk)
        yield (b",\n" if opened else b"") + features
        opened = True
    yield b"]}\n"


def _feature(properties: dict[str, Any]) -> dict[str, Any]:
    geometry = None
    latitude, longitude = properties.get("latitude"), properties.get("longitude")
    if latitude is not None and longitude is not None:
        geometry = {"type": "Point", "coordinates": [float(longitude), float(latitude)]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _csv_cell(value: Any, soda_type: str) -> str:
    text = soda_value(value, soda_type)
    if text is None:
        return ""
    if isinstance(text, bool):
        return str(text).lower()
    if soda_type == "text" and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return str(text)


def csv_body(rows: Iterable[dict[str, Any]], fields: tuple[OutputField, ...]) -> Iterator[bytes]:
    """CSV with the header row first (also when no row matched)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [("'" + f.name) if f.name.startswith(_FORMULA_STARTS) else f.name for f in fields]
    )
    yield buffer.getvalue().encode()
    for chunk in _chunks(rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(row.get(f.name), f.soda_type) for f in fields] for row in chunk)
        yield buffer.getvalue().encode()


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
