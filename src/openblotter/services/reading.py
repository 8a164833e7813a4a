"""Reading a release for other services: its file, its published schema, every matching row.

No access rule runs here: these functions read rows of any dataset, including
one published only as counts. They exist for services that protect what they
return themselves (the counts-only tables, the analyses). Doors never import
this module (an import-linter contract in pyproject.toml); they call
:mod:`openblotter.services.query`, which checks access first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from openblotter.domain.checkpoints import checked_by, checkpoint
from openblotter.domain.errors import InvalidInput, Unavailable
from openblotter.domain.query.model import QuerySpec
from openblotter.domain.query.parse import parse_query
from openblotter.domain.releases import Dataset, Release
from openblotter.domain.schema import TableSchema
from openblotter.services.codes import check_coded_filters
from openblotter.services.portal import Portal
from openblotter.storage.budget import CURRENT_REQUEST
from openblotter.storage.engine import QueryEngine, missing_release_file

Params = Sequence[tuple[str, str]]
#: What a door adds to the parsed query in code (an offset, a where expression); the engine
#: checks the result against the schema (``check_spec``) before it runs.
Refine = Callable[[QuerySpec], QuerySpec]


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
    try:
        return frozenset(pq.read_schema(path).names)
    except FileNotFoundError:
        raise missing_release_file() from None


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
    """Resolve ``_release`` (or the current release) of a dataset; withdrawn and purged
    releases are refused here (:meth:`Portal.dataset_release`)."""
    labels = [value for key, value in params if key == "_release"]
    if len(labels) > 1:
        raise InvalidInput(
            "_release is given more than once; give one release label.",
            detail={"parameter": "_release"},
        )
    dataset, release = portal.dataset_release(dataset_id, labels[0] if labels else None)
    path = portal.release_path(release)
    return Target(dataset, release, path, release_schema(release, path))


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


def aggregate(
    portal: Portal, dataset_id: str, params: Params, *, refine: Refine | None = None
) -> dict[str, Any]:
    """Grouped aggregates of every matching row, small counts included: for an analysis
    that suppresses its own output, never for a response as they are. ``refine`` adds what
    a door built in code to the parsed query."""
    t = target(portal, dataset_id, params)
    spec = spec_for(t, params, portal)
    if refine is not None:
        spec = refine(spec)
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


@contextmanager
def shared_work() -> Iterator[None]:
    """Work whose result every request shares (a per-release cache) runs to its end: the
    time limit or departure of the request that happens to run it does not stop it (else
    under load no request would ever finish it, and each would start it again)."""
    token = CURRENT_REQUEST.set(None)
    try:
        with checked_by(lambda: None):
            yield
    finally:
        CURRENT_REQUEST.reset(token)


def table(portal: Portal, dataset_id: str, params: Params, columns: Sequence[str]) -> pl.DataFrame:
    """Every matching row of ``columns`` as a polars frame (for analyses, not for responses)."""
    checkpoint()  # an analysis reading table after table stops when its request is over
    t = target(portal, dataset_id, params)
    present = [c for c in columns if t.schema.field(c) is not None]
    spec = spec_for(t, [*params, ("_fields", ",".join(present))] if present else list(params))
    batches = list(engine(portal).batches(t.path, t.schema, spec, download=False))
    if not batches:
        # No row matched: an empty frame with the file's column types (not untyped nulls,
        # which string and date expressions refuse).
        empty = pq.read_schema(t.path).empty_table()
        return pl.from_arrow(empty.select([c for c in present if c in empty.column_names]))  # type: ignore[return-value]
    try:
        return pl.from_arrow(pa.Table.from_batches(batches))  # type: ignore[return-value]
    except MemoryError as error:  # the rows came, but the process cannot hold them as a table
        raise Unavailable(
            "This analysis needs more memory than the portal can give it now; try again in a "
            "minute, or narrow it (a shorter period, filters).",
            detail={"reason": "memory", "retry_after": 60},
        ) from error
