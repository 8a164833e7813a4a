"""Socrata SODA 2.1 use cases: a resource id to a dataset release, SoQL to the one query
model, rows and groups streamed with no cap; the same access rules as every door.

A dataset published only as counts answers no row through SODA (403, as Socrata
answers for a dataset that is not public); a grouped ``count(*)`` is answered by the
native aggregate service from its protected tables (:mod:`.soda_counts`). Rows and groups come from :mod:`openblotter.storage.engine` via
the query model, so a SODA answer equals the native API's for the same question.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from openblotter.domain.errors import NotFound
from openblotter.domain.query.model import AGGREGATE_GROUP_LIMIT, QuerySpec
from openblotter.domain.query.parse import check_spec
from openblotter.domain.query.soql_groups import OutputField
from openblotter.domain.query.soql_spec import ROW_ID_FIELD, SodaPlan, plan
from openblotter.domain.releases import Dataset, Release
from openblotter.services import disclosure, reading, soda_counts
from openblotter.services.portal import Portal
from openblotter.services.soda_ids import (
    FOUR_BY_FOUR,
    dataset_soda_id,
    release_soda_id,
    row_soda_id,
)
from openblotter.storage.engine import QueryEngine

#: Rows per batch read from the engine for a SODA answer.
BATCH_ROWS = 8_192


@dataclass(frozen=True)
class Resource:
    """A SODA resource: a dataset, and the release it is pinned to (None: the current one)."""

    soda_id: str
    dataset: Dataset
    label: str | None


@dataclass(frozen=True)
class SodaAnswer:
    """The fields of an answer and its rows as Arrow batches (columns named as the fields),
    streamed: values as the engine gives them, rendered by the door."""

    fields: tuple[OutputField, ...]
    batches: Iterator[pa.RecordBatch]
    release: Release
    synthetic: bool


def resolve(portal: Portal, soda_id: str) -> Resource:
    """The dataset (and release) behind a Socrata id; NotFound when none is."""
    if FOUR_BY_FOUR.fullmatch(soda_id):
        datasets = portal.catalog.datasets()
        for dataset in datasets:
            if dataset_soda_id(dataset.id) == soda_id:
                return Resource(soda_id, dataset, None)
        for dataset in datasets:
            for release in portal.catalog.releases(dataset.id):
                if release.public and release_soda_id(dataset.id, release.label) == soda_id:
                    return Resource(soda_id, dataset, release.label)
    raise NotFound(
        f"There is no dataset with the id '{soda_id[:40]}'. Ids look like abcd-1234; "
        "/api/catalog/v1 lists them.",
        detail={"parameter": "id", "allowed": "an id from /api/catalog/v1"},
    )


def target(portal: Portal, resource: Resource) -> reading.Target:
    """The release a resource reads (its pinned release, or the dataset's current one)."""
    pinned = [("_release", resource.label)] if resource.label else []
    return reading.target(portal, resource.dataset.id, pinned)


def release_ids(portal: Portal, dataset_id: str) -> dict[str, str]:
    """The Socrata id of every published release of a dataset, by label."""
    return {
        r.label: release_soda_id(dataset_id, r.label)
        for r in portal.catalog.releases(dataset_id)
        if r.public
    }


def query(portal: Portal, soda_id: str, params: list[tuple[str, str]]) -> SodaAnswer:
    """A SODA request's answer: its fields, and its rows or groups as a stream.

    Checks run now (an unknown column, a bad value, a counts-only dataset raise
    before anything is sent); rows are read as the stream is consumed.
    """
    resource = resolve(portal, soda_id)
    t = target(portal, resource)
    soda_plan = plan(params, t.schema)
    check_spec(soda_plan.spec, t.schema)
    if disclosure.aggregates_only(portal, resource.dataset.id):
        if not soda_plan.grouped:
            disclosure.refuse_rows(portal, resource.dataset.id)
        # Counts only: from the protected tables, as the native aggregate API answers.
        groups = soda_counts.counts(portal, resource.dataset.id, soda_plan)
        counted = _started(_as_batches(groups, soda_plan.fields))
        return SodaAnswer(soda_plan.fields, counted, t.release, t.dataset.synthetic)
    engine = reading.engine(portal)
    if soda_plan.grouped:
        batches = _as_batches(_groups(engine, t, soda_plan.spec), soda_plan.fields)
    else:
        batches = _rows(engine, t, soda_plan)
    return SodaAnswer(soda_plan.fields, _started(batches), t.release, t.dataset.synthetic)


def _started(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The same batches, the first already read: a query that cannot run (busy, too slow,
    out of memory) fails now, before a response starts, never as a 200 cut short."""
    first = next(batches, None)
    return batches if first is None else itertools.chain([first], batches)


def _rows(engine: QueryEngine, t: reading.Target, soda_plan: SodaPlan) -> Iterator[pa.RecordBatch]:
    wants_id = any(f.source == ROW_ID_FIELD for f in soda_plan.fields)
    batches = engine.batches(
        t.path, t.schema, soda_plan.spec, batch_rows=BATCH_ROWS, with_row_id=wants_id
    )
    names = [f.name for f in soda_plan.fields]
    for batch in batches:
        columns = {name: batch.column(name) for name in batch.schema.names}
        if wants_id:
            columns[ROW_ID_FIELD] = pa.array(_row_ids(batch, soda_plan.key, t.release.label))
        yield pa.RecordBatch.from_arrays([columns[f.source] for f in soda_plan.fields], names)


def _row_ids(batch: pa.RecordBatch, key: tuple[str, ...], label: str) -> list[str]:
    row_ids = batch.column("_row_id").to_pylist()
    if not key:
        return [row_soda_id(None, label, row_id) for row_id in row_ids]
    values = zip(*(batch.column(k).to_pylist() for k in key), strict=True)
    return [row_soda_id(list(v), label, r) for v, r in zip(values, row_ids, strict=True)]


def _as_batches(
    rows: Iterator[dict[str, Any]], fields: tuple[OutputField, ...], size: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Grouped answers (dicts) as batches of the answer's fields."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield _batch(chunk, fields)
            chunk = []
    if chunk:
        yield _batch(chunk, fields)


def _batch(rows: list[dict[str, Any]], fields: tuple[OutputField, ...]) -> pa.RecordBatch:
    arrays = [pa.array([row.get(f.source) for row in rows]) for f in fields]
    return pa.RecordBatch.from_arrays(arrays, [f.name for f in fields])


def _groups(engine: QueryEngine, t: reading.Target, spec: QuerySpec) -> Iterator[dict[str, Any]]:
    """Every group asked for (``$limit`` may exceed one engine page): page by offset."""
    remaining = spec.limit if spec.limit is not None else AGGREGATE_GROUP_LIMIT
    offset = spec.offset
    while remaining > 0:
        size = min(remaining, AGGREGATE_GROUP_LIMIT)
        page = engine.aggregate(t.path, t.schema, replace(spec, size=size, offset=offset))
        yield from page.groups
        if len(page.groups) < size:
            return
        remaining -= size
        offset += size


def last_modified(release: Release) -> datetime:
    """When the answer's data last changed: the release's publication."""
    return release.published_at or release.created_at
