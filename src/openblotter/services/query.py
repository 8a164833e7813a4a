"""Query use cases: one model (domain/query/parse.py), one engine, for every door.

The native API, the pages and (later) the CKAN and Socrata layers call these
functions with the raw query parameters; the release to read is chosen by
``_release`` (default: the current release).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from openblotter.domain.errors import Gone, InvalidInput, NotFound
from openblotter.domain.query.cursor import bind_release, token_release
from openblotter.domain.query.model import QuerySpec
from openblotter.domain.query.parse import parse_query
from openblotter.domain.releases import Dataset, Release
from openblotter.domain.schema import TableSchema
from openblotter.services import disclosure
from openblotter.services.codes import check_coded_filters
from openblotter.services.portal import Portal
from openblotter.storage import exports
from openblotter.storage.budget import CURRENT_REQUEST, Cancellation
from openblotter.storage.engine import QueryEngine

Params = Sequence[tuple[str, str]]

EXPORT_FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Target:
    """The dataset, the release a query reads, its file and the schema of that file."""

    dataset: Dataset
    release: Release
    path: Path
    schema: TableSchema


@lru_cache(maxsize=512)
def _file_columns(path: Path) -> frozenset[str]:
    # Release files are immutable, so their column list can be cached by path.
    return frozenset(pq.read_schema(path).names)


_SCHEMAS: dict[str, TableSchema] = {}


def release_schema(release: Release, path: Path) -> TableSchema:
    """The schema of the published file: the release's schema as published, fields in the file.

    A release never changes, so its schema is built once per process (keyed by file).
    """
    cached = _SCHEMAS.get(release.file_key)
    if cached is None:
        cached = _SCHEMAS[release.file_key] = _build_release_schema(release, path)
    return cached


def forget_file(file_key: str) -> None:
    """Drop what this process cached about a release file (a purge deletes it)."""
    _SCHEMAS.pop(file_key, None)
    _file_columns.cache_clear()


def _build_release_schema(release: Release, path: Path) -> TableSchema:
    full = TableSchema.from_descriptor(release.schema)
    free_text = {f.name for f in full.fields if f.free_text}
    public = full.public_schema(free_text_allowed=free_text)
    present = _file_columns(path)
    return public.model_copy(update={"fields": [f for f in public.fields if f.name in present]})


def target(portal: Portal, dataset_id: str, params: Iterable[tuple[str, str]]) -> Target:
    """Resolve ``_release`` (or the current release) of a dataset."""
    labels = [value for key, value in params if key == "_release"]
    if len(labels) > 1:
        raise InvalidInput(
            "_release is given more than once; give one release label.",
            detail={"parameter": "_release"},
        )
    dataset, release = portal.dataset_release(dataset_id, labels[0] if labels else None)
    path = portal.release_path(release)
    return Target(dataset, release, path, release_schema(release, path))


@contextmanager
def cancellable_request() -> Iterator[Cancellation]:
    """A request's cancellation token: cancel it (the client went away) and its queries stop."""
    request = Cancellation()
    token = CURRENT_REQUEST.set(request)
    try:
        yield request
    finally:
        CURRENT_REQUEST.reset(token)


def engine(portal: Portal) -> QueryEngine:
    """The portal's query engine (one DuckDB connection per process)."""
    return portal.query_engine()


def spec_for(t: Target, params: Params, portal: Portal | None = None) -> QuerySpec:
    """The parsed query; with ``portal``, a filter on a coded column must name a code."""
    spec = parse_query(list(params), t.schema)
    if portal is not None:
        check_coded_filters(t.schema, spec, lambda column, value: _occurs(portal, t, column, value))
    return spec


def _occurs(portal: Portal, t: Target, column: str, value: str) -> bool:
    """Whether the release holds ``value`` in ``column`` (a code no value map knew)."""
    return engine(portal).count(t.path, t.schema, parse_query([(column, value)], t.schema)) > 0


def rows_page(portal: Portal, dataset_id: str, params: Params) -> dict[str, Any]:
    """A page of rows: ``{"rows", "next", "total", "release", "columns", "synthetic"}``."""
    disclosure.refuse_rows(portal, dataset_id)
    params = _paged_release(portal, dataset_id, params)
    t = target(portal, dataset_id, params)
    spec = spec_for(t, params, portal)
    page = engine(portal).rows(t.path, t.schema, spec)
    columns = list(spec.fields or [f.name for f in t.schema.fields])
    token = bind_release(page.next, t.release.label, t.release.checksum) if page.next else None
    return {
        "rows": page.rows,
        "next": token,
        "total": page.total,
        "release": t.release.label,
        "columns": columns,
        "synthetic": t.dataset.synthetic,
    }


def _paged_release(portal: Portal, dataset_id: str, params: Params) -> Params:
    """Pin a ``_next`` page to the release its token was made on, so a page walk never mixes
    two releases across a publish or a rollback; Gone when that release is no longer served."""
    tokens = [value for key, value in params if key == "_next"]
    if len(tokens) != 1:
        return params  # none, or repeated (refused by the query model)
    ref = token_release(tokens[0])
    asked = [value for key, value in params if key == "_release"]
    if asked and asked[0] != ref.label:
        raise InvalidInput(
            f"This _next token pages release {ref.label}, not {asked[0]}; "
            f"drop _release or start again from the first page of {asked[0]}.",
            detail={"parameter": "_release", "allowed": [ref.label]},
        )
    try:
        release = portal.release(dataset_id, ref.label)
    except NotFound:
        release = None
    if release is None or not release.checksum.startswith(ref.checksum):
        current = portal.catalog.dataset_and_current(dataset_id)
        now = current[1].label if current and current[1] else None
        raise Gone(
            f"Release {ref.label} of '{dataset_id}', which these pages come from, is no longer "
            "served (withdrawn or replaced); start again from the first page"
            + (f" of the current release {now}." if now else "."),
            detail={"parameter": "_next", "release": ref.label, "current_release": now},
        )
    return params if asked else [*params, ("_release", ref.label)]


#: How a family field the agency's file does not have is described to readers.
NOT_RECORDED_NOTE = "not recorded by this agency"


def facet_counts(
    portal: Portal, dataset_id: str, params: Params, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """Value counts per facet column under the filters (contract shape), plus per-facet info."""
    protected = disclosure.aggregates_only(portal, dataset_id)
    not_recorded: set[str] = set()
    if protected:
        # Counts only: answered from the release's protected tables (services/disclosure_serving).
        from openblotter.services import disclosure_serving

        result = disclosure_serving.facets(portal, dataset_id, list(params), columns)
    else:
        t = target(portal, dataset_id, params)
        result = engine(portal).facets(t.path, t.schema, spec_for(t, params, portal), columns)
        result.update(release=t.release.label, synthetic=t.dataset.synthetic)
        not_recorded = {f.name for f in t.schema.fields if f.not_recorded}
    facets = {name: info["values"] for name, info in result["facets"].items()}
    info = {
        name: {k: v for k, v in details.items() if k != "values"}
        for name, details in result["facets"].items()
    }
    for name in not_recorded & info.keys():
        # All null because the agency's file has no such column, not the agency's Unknown.
        info[name].update(recorded=False, note=NOT_RECORDED_NOTE)
    body = {
        "facets": facets,
        "facet_info": info,
        "total": result["total"],
        "release": result["release"],
        "synthetic": result["synthetic"],
    }
    if protected:
        body["suppression"] = result["suppression"]
    return body


def aggregate(
    portal: Portal, dataset_id: str, params: Params, *, protect: bool = True
) -> dict[str, Any]:
    """Grouped aggregates: ``{"groups": [...], "total_groups", "truncated", "release", "synthetic"}``.

    For a dataset published only as counts, small counts are hidden
    (:mod:`disclosure`); an analysis that suppresses its own output passes
    ``protect=False`` and must not return these groups as they are.
    """
    if protect and disclosure.aggregates_only(portal, dataset_id):
        from openblotter.services import disclosure_serving

        return disclosure_serving.aggregate(portal, dataset_id, list(params))
    t = target(portal, dataset_id, params)
    spec = spec_for(t, params, portal)
    if not spec.is_aggregate:
        raise InvalidInput(
            "Give _group=column[,column] and/or _agg=count|sum:col|avg:col|min:col|max:col.",
            detail={"parameter": "_group", "allowed": [f.name for f in t.schema.fields]},
        )
    result = engine(portal).aggregate(t.path, t.schema, spec)
    return {
        "groups": result.groups,
        "total_groups": result.total_groups,
        "truncated": result.truncated,
        "release": t.release.label,
        "synthetic": t.dataset.synthetic,
    }


@dataclass(frozen=True)
class Export:
    """A streamed download: bytes, media type and a file name."""

    chunks: Iterator[bytes]
    media_type: str
    filename: str
    synthetic: bool


def export(portal: Portal, dataset_id: str, params: Params, fmt: str) -> Export:
    """Every matching row as CSV, NDJSON, Parquet or XLSX (streamed; no row cap)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"'{fmt}' is not a download format; use one of {', '.join(EXPORT_FORMATS)}.",
            detail={"parameter": "format", "allowed": list(EXPORT_FORMATS)},
        )
    disclosure.refuse_rows(portal, dataset_id)
    t = target(portal, dataset_id, params)
    # Exports ignore paging: every matching row, in file order unless sorted.
    unpaged = [(k, v) for k, v in params if k not in ("_size", "_next", "_count")]
    spec = spec_for(t, unpaged, portal)
    writer = {
        "csv": exports.stream_csv,
        "ndjson": exports.stream_ndjson,
        "parquet": exports.stream_parquet,
        "xlsx": exports.write_xlsx,
    }[fmt]
    # The first bytes are made before the response starts: a query that cannot run
    # (busy, out of memory, too slow) is a 503/504, never a 200 that stops mid-file.
    chunks = exports.started(writer(engine(portal), t.path, t.schema, spec))
    prefix = "synthetic-demo-" if t.dataset.synthetic else ""
    return Export(
        chunks,
        EXPORT_FORMATS[fmt],
        f"{prefix}{dataset_id}-{t.release.label}.{fmt}",
        t.dataset.synthetic,
    )


def table(portal: Portal, dataset_id: str, params: Params, columns: Sequence[str]) -> pl.DataFrame:
    """Every matching row of ``columns`` as a polars frame (for analyses, not for responses)."""
    t = target(portal, dataset_id, params)
    present = [c for c in columns if t.schema.field(c) is not None]
    spec = spec_for(t, [*params, ("_fields", ",".join(present))] if present else list(params))
    batches = list(engine(portal).batches(t.path, t.schema, spec, download=False))
    if not batches:
        # No row matched: an empty frame with the file's column types (not untyped nulls,
        # which string and date expressions refuse).
        empty = pq.read_schema(t.path).empty_table()
        return pl.from_arrow(empty.select([c for c in present if c in empty.column_names]))  # type: ignore[return-value]
    return pl.from_arrow(pa.Table.from_batches(batches))  # type: ignore[return-value]
