"""The publish of a large CSV of a custom dataset, in bounded memory.

``publishing.publish`` asks here first: a CSV of at least
``publish_chunked_min_bytes`` for a custom dataset (no family, mapping or schema
file) is published chunk by chunk by ``publish_stream.py``, with the layout
rules of ``publishing.py`` (the same layout check, renames, descriptions kept,
privacy review and dataset record). Anything else is read whole there.
"""

from __future__ import annotations

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.releases import Dataset, check_dataset_id, check_new_label
from openblotter.domain.schema import TableSchema
from openblotter.ingest.read.csv_batches import CsvStream, NotStreamable, open_csv_stream
from openblotter.ingest.read.readers import RawTable
from openblotter.services.portal import Portal
from openblotter.services.publish_stream import Job, Layout, publish_chunked
from openblotter.services.publishing import (
    Progress,
    PublishRequest,
    PublishResult,
    _check_file,
    _check_layout,
    _dataset_record,
    _keep_descriptions,
    _Prepared,
    _rename_to_schema,
    _review,
)


def publish_large(
    portal: Portal, request: PublishRequest, progress: Progress
) -> PublishResult | None:
    """A large CSV of a custom dataset, in bounded memory (services/publish_stream.py).

    None when the file is read whole instead (small, XLSX, a family, a mapping, a schema
    file, not UTF-8): that path gives the same report.
    """
    small = portal.settings.publish_chunked_min_bytes
    if request.mapping or request.family or request.schema_file or request.sheet:
        return None
    if request.path.suffix.lower() not in {".csv", ".txt", ".tsv"} or not request.path.is_file():
        return None
    if request.path.stat().st_size < small:
        return None
    portal.settings.require_safe()
    check_dataset_id(request.dataset_id)
    _check_file(request.path, portal.settings.upload_max_bytes)
    existing = portal.catalog.dataset(request.dataset_id)
    if existing is not None and existing.family:
        return None
    try:
        stream = open_csv_stream(request.path)
    except (NotStreamable, InvalidInput):
        return None
    quarter = check_new_label(request.label, portal.catalog.releases(request.dataset_id))
    job = Job(
        portal,
        stream,
        _chunked_layout(request, existing, stream),
        quarter,
        request.allow_invalid,
        request.actor,
        progress.advance,
        progress.stage,
    )
    try:
        outcome = publish_chunked(job)
    except NotStreamable:
        return None  # nothing was stored: the file is read whole instead
    return PublishResult(
        outcome.report, outcome.schema, outcome.inferred, outcome.release, outcome.changelog
    )


def _chunked_layout(request: PublishRequest, existing: Dataset | None, stream: CsvStream) -> Layout:
    raw = RawTable(
        pl.DataFrame(schema=dict.fromkeys(stream.names, pl.String)),
        request.path.name,
        "csv",
        stream.encoding,
        stream.delimiter,
        stream.header_row,
        None,
        None,
        [],
        "",
    )
    earlier = TableSchema.from_descriptor(existing.schema) if existing else None
    schema: TableSchema | None = None
    decided: frozenset[str] = frozenset()
    if earlier is not None and not request.accept_layout_change:
        _check_layout(raw, earlier, request.dataset_id)
        schema = earlier
    elif earlier is not None:
        decided = frozenset(f.name for f in earlier.fields)

    def rename(chunk: pl.DataFrame) -> pl.DataFrame:
        assert schema is not None
        return _rename_to_schema(chunk, schema)

    def keep(inferred: TableSchema) -> TableSchema:
        return _keep_descriptions(inferred, earlier) if earlier is not None else inferred

    def dataset(final: TableSchema) -> Dataset:
        prepared = _Prepared(pl.DataFrame(), final, schema is None, [])
        return _dataset_record(request, existing, prepared)

    return Layout(schema, rename, keep, _review(request, raw, decided), dataset)
