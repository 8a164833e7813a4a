"""CKAN's DataStore over the one query model: ``datastore_search`` and the dump.

Every answer is a translation into query parameters that :mod:`openblotter.services.query`
runs, with its access rules: a dataset published only as counts refuses rows
here as it does everywhere. ``limit`` is held to CKAN's 32000
(``ckan.datastore.search.rows_max``); the answer says the limit it used, the
exact ``total`` and the ``_links.next`` page, so nothing is cut off unseen.
``_id`` is the row's number in the release file (from 1).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import orjson

from openblotter.domain.errors import InvalidInput, TimedOut
from openblotter.domain.query.model import DATE_PARTS, MAX_PAGE_SIZE, Expr, QuerySpec
from openblotter.domain.schema import TableSchema
from openblotter.services import ckan, disclosure, query, reading
from openblotter.services.ckan_search import whole_number
from openblotter.services.portal import Portal

#: CKAN's ``ckan.datastore.search.rows_max``: most records one answer holds.
ROWS_MAX = 32_000
LIMIT_DEFAULT = 100
RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
#: Our column types as CKAN's DataStore (PostgreSQL) names them.
CKAN_TYPES = {
    "string": "text", "any": "text", "integer": "int", "year": "int", "number": "numeric",
    "boolean": "bool", "date": "date", "datetime": "timestamp", "time": "time",
}  # fmt: skip
ID = "_id"


def invalid(parameter: str, message: str) -> InvalidInput:
    """A CKAN "Validation Error" on one parameter."""
    return InvalidInput(message, detail={"parameter": parameter, "ckan": {parameter: [message]}})


@dataclass(frozen=True)
class Resource:
    """A resource ready to query: what it names, its query parameters, its published schema."""

    ref: ckan.ResourceRef
    pairs: list[tuple[str, str]]
    schema: TableSchema

    @property
    def dataset_id(self) -> str:
        return self.ref.dataset_id


def open_resource(portal: Portal, given: Any) -> Resource:
    """The resource ``given`` names, its rows public (Forbidden for a counts-only dataset)."""
    if not given or not isinstance(given, str):
        raise invalid("resource_id", "Missing value")
    ref = ckan.find_resource(portal, given)
    disclosure.refuse_rows(portal, ref.dataset_id)
    pairs = [("_release", ref.release)] if ref.release else []
    return Resource(ref, pairs, reading.target(portal, ref.dataset_id, pairs).schema)


def fields(schema: TableSchema, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The ``fields`` of an answer: ``_id`` then the published columns (or ``names``)."""
    by_name = {f.name: f for f in schema.published_fields()}
    listed: list[dict[str, Any]] = []
    for name in names if names is not None else [ID, *by_name]:
        field = by_name.get(name)
        if field is None:
            listed.append({"id": name, "type": "int" if name == ID else "numeric"})
            continue
        info = {"label": field.title or name, "notes": field.description or ""}
        listed.append({"id": name, "type": CKAN_TYPES.get(field.type, "text"), "info": info})
    return listed


def column(schema: TableSchema, name: str, parameter: str, *, parts: bool = False) -> str:
    """A published column (or a date part ``year``/``quarter``/``month`` when ``parts``)."""
    found = schema.field(name)
    if (found is not None and found.published) or (parts and name in DATE_PARTS):
        return name
    raise invalid(parameter, f'field "{name}" not in table')


def _listed(value: Any, parameter: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip().strip('"') for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip().strip('"') for v in value]
    raise invalid(parameter, "Not a list of field names")


def _json_param(value: Any, parameter: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise invalid(parameter, "Cannot parse JSON") from None
    return value


def _text(value: Any, parameter: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise invalid(parameter, f"A filter value is text, a number or a list of them, not {value!r}")


def filter_pairs(schema: TableSchema, raw: Any) -> list[tuple[str, str]]:
    """``filters`` ({column: value or [values]}) as query-model filters (a list: any of)."""
    filters = _json_param(raw, "filters")
    if filters is None or filters == "":
        return []
    if not isinstance(filters, dict):
        raise invalid("filters", "Not a JSON object")
    pairs: list[tuple[str, str]] = []
    for name, value in filters.items():
        key = column(schema, str(name), "filters", parts=True)
        if value is None:
            pairs.append((f"{key}__isnull", "true"))
            continue
        values = value if isinstance(value, list) else [value]
        pairs += [(key, _text(v, "filters")) for v in values]
    return pairs


def search_pairs(schema: TableSchema, raw: Any) -> list[tuple[str, str]]:
    """``q``: words searched in every text column, or {column: text} searched in that column."""
    q = raw
    if isinstance(raw, str) and raw.strip().startswith("{"):
        q = _json_param(raw, "q")
    if q is None or q == "":
        return []
    if isinstance(q, dict):
        return [(f"{column(schema, str(k), 'q')}__contains", _text(v, "q")) for k, v in q.items()]
    return [("_q", _text(q, "q"))]


def sort_value(schema: TableSchema, raw: Any) -> str | None:
    """``sort`` ("col desc, col2") as the query model's ``_sort``; ``_id`` is file order."""
    keys: list[str] = []
    for item in _listed(raw, "sort") if raw else []:
        name, _, direction = item.partition(" ")
        name, direction = name.strip('"'), direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise invalid("sort", f"Cannot sort by '{item}': write a field and asc or desc")
        if name == ID:
            if direction == "desc":
                raise invalid("sort", "_id sorts ascending only here (the release file's order)")
            break  # _id is unique: keys after it never decide
        keys.append(("-" if direction == "desc" else "") + column(schema, name, "sort"))
    return ",".join(keys) or None


@dataclass(frozen=True)
class Records:
    """Rows of one query with their ``_id`` and, when asked, the exact total."""

    rows: list[dict[str, Any]]
    total: int | None


def collect(
    portal: Portal, resource: Resource, pairs: list[tuple[str, str]], offset: int, limit: int,
    *, total: bool, where: Expr | None = None,
) -> Records:  # fmt: skip
    """``limit`` rows after the first ``offset`` matching ones (and ``where``, an expression
    built in code), each page from the rows API.

    The first page skips ``offset`` rows in the query model; the next pages follow its
    ``_next`` token, so every page reads the same release.
    """

    def first_page(spec: QuerySpec) -> QuerySpec:
        return replace(spec, offset=offset, where=where)

    def next_page(spec: QuerySpec) -> QuerySpec:
        return replace(spec, where=where)

    out: list[dict[str, Any]] = []
    token, counted, first = None, None, True
    deadline = time.monotonic() + portal.settings.query_timeout_seconds
    while first or (token and len(out) < limit):
        if time.monotonic() > deadline:  # each page has the engine's limit; so has the whole
            raise TimedOut(
                f"These records took longer than {portal.settings.query_timeout_seconds:g} s "
                "to read; ask for fewer (limit) or narrow the filters.",
                detail={"parameter": "limit"},
            )
        page_pairs = [*pairs, ("_size", str(max(1, min(MAX_PAGE_SIZE, limit - len(out)))))]
        if token:
            page_pairs.append(("_next", token))
        if first and total:
            page_pairs.append(("_count", "true"))
        refine = first_page if first else next_page
        page = query.rows_page(portal, resource.dataset_id, page_pairs, row_ids=True, refine=refine)
        if first:
            counted, first = page["total"], False
        out += [{ID: rid, **row} for rid, row in zip(page["row_ids"], page["rows"], strict=True)]
        token = page["next"]
    return Records(out[:limit], counted)


def _records(rows: list[dict[str, Any]], names: list[str], fmt: str) -> Any:
    if fmt == "objects":
        return [{name: row.get(name) for name in names} for row in rows]
    lists = [[row.get(name) for name in names] for row in rows]
    if fmt == "lists":
        return lists
    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    writer.writerows(lists)
    return text.getvalue()


def _links(path: str, params: Mapping[str, Any], offset: int, limit: int) -> dict[str, str]:
    kept = {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items() if k != "offset"
    }
    start = f"{path}?{urlencode(kept)}"
    return {"start": start, "next": f"{path}?{urlencode({**kept, 'offset': offset + limit})}"}


def datastore_search(portal: Portal, params: Mapping[str, Any], action_path: str) -> dict[str, Any]:
    """``datastore_search``: records of a resource under ``filters``, ``q``, ``sort``, paged."""
    resource = open_resource(portal, params.get("resource_id"))
    schema = resource.schema
    fmt = str(params.get("records_format") or "objects")
    if fmt not in RECORDS_FORMATS:
        raise invalid("records_format", f"Value must be one of {', '.join(RECORDS_FORMATS)}")
    if str(params.get("distinct", "false")).lower() in ("true", "1"):
        raise invalid("distinct", "distinct is not supported; group with datastore_search_sql")
    limit = min(whole_number(params.get("limit"), "limit", LIMIT_DEFAULT), ROWS_MAX)
    offset = whole_number(params.get("offset"), "offset", 0)
    include_total = str(params.get("include_total", "true")).lower() not in ("false", "0")
    names = [ID, *(f.name for f in schema.published_fields())]
    pairs = [*resource.pairs, *filter_pairs(schema, params.get("filters"))]
    pairs += search_pairs(schema, params.get("q"))
    if params.get("fields"):
        names = [
            column(schema, n, "fields") if n != ID else ID
            for n in _listed(params["fields"], "fields")
        ]
    sort = sort_value(schema, params.get("sort"))
    if sort:
        pairs.append(("_sort", sort))
    found = collect(portal, resource, pairs, offset, limit, total=include_total)
    body: dict[str, Any] = {
        "include_total": include_total,
        "resource_id": params["resource_id"],
        "fields": fields(schema, names),
        "records_format": fmt,
        "records": _records(found.rows, names, fmt),
        "limit": limit,
        "_links": _links(action_path, params, offset, limit),
        "total_was_estimated": False,
    }
    for echoed in ("filters", "q", "sort", "offset"):
        if echoed in params:
            body[echoed] = (
                _json_param(params[echoed], echoed) if echoed == "filters" else params[echoed]
            )
    if include_total:
        body["total"] = found.total
    return body


@dataclass(frozen=True)
class Dump:
    """Every row of a resource, streamed: bytes, media type, file name."""

    chunks: Iterator[bytes | memoryview]
    media_type: str
    filename: str


#: Parameters of CKAN's dump this door does not take (a dump is every matching row).
DUMP_REFUSED = ("limit", "offset", "plain", "language")


def dump(portal: Portal, given: str, params: Mapping[str, Any]) -> Dump:
    """``/datastore/dump/{id}``: every row of the resource matching ``filters`` and ``q``
    (``fields``, ``sort`` apply) as CSV or CKAN's JSON, streamed, no cap."""
    fmt = str(params.get("format") or "csv")
    if fmt not in ("csv", "json"):
        raise invalid("format", "Value must be one of csv, json")
    for name in DUMP_REFUSED:
        if name in params:
            raise invalid(name, f"A dump has every matching row; use datastore_search for {name}")
    resource = open_resource(portal, given)
    schema = resource.schema
    pairs = [*resource.pairs, *filter_pairs(schema, params.get("filters"))]
    pairs += search_pairs(schema, params.get("q"))
    names = [f.name for f in schema.published_fields()]
    if params.get("fields"):
        names = [column(schema, n, "fields") for n in _listed(params["fields"], "fields")]
        pairs.append(("_fields", ",".join(names)))
    sort = sort_value(schema, params.get("sort"))
    if sort:
        pairs.append(("_sort", sort))
    bom = str(params.get("bom", "false")).lower() in ("true", "1")
    if fmt == "csv":
        export = query.export(portal, resource.dataset_id, pairs, "csv")
        chunks = itertools.chain([b"\xef\xbb\xbf"], export.chunks) if bom else export.chunks
        return Dump(chunks, export.media_type, f"{given}.csv")
    export = query.export(portal, resource.dataset_id, pairs, "ndjson")
    head = {"fields": fields(schema, names)}
    return Dump(_json_dump(head, names, export.chunks), "application/json", f"{given}.json")


def _json_dump(
    head: dict[str, Any], names: list[str], lines: Iterator[bytes | memoryview]
) -> Iterator[bytes]:
    yield orjson.dumps(head)[:-1] + b', "records": ['
    separator = b"\n"
    for chunk in lines:
        parts = []
        for line in bytes(chunk).splitlines():
            if line:
                row = orjson.loads(line)
                parts.append(separator + orjson.dumps([row.get(n) for n in names]))
                separator = b",\n"
        yield b"".join(parts)
    yield b"\n]}\n"
