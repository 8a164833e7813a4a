"""Publish a quarter's export file as a dataset's release.

read -> map (family datasets) -> conform to the schema -> scrub personal data
-> write Parquet to staging -> store under a content-addressed key -> in one
catalog transaction: record the release, make it current, audit it.

A failure or a kill before that transaction commits leaves the previous
release current and nothing new visible; files are never overwritten. A CSV of
at least ``publish_chunked_min_bytes`` for a custom dataset runs the same steps
chunk by chunk in bounded memory (``publish_stream.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import Dataset, Release, check_dataset_id, check_new_label
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.census.layout import census_rows, is_census_download
from openblotter.ingest.conform import ROW, conform
from openblotter.ingest.damage import report_damage
from openblotter.ingest.families import load_family
from openblotter.ingest.infer import field_name, infer_schema
from openblotter.ingest.mapping.apply import (
    apply_mapping,
    bundled_mapping,
    bundled_mappings,
    load_mapping,
    related_paths,
)
from openblotter.ingest.mapping.model import Mapping, PersonTable, RawTableLike
from openblotter.ingest.read.csv_batches import CsvStream, NotStreamable, open_csv_stream
from openblotter.ingest.read.readers import RawTable, read_table
from openblotter.ingest.read.xlsx_guard import XlsxLimits
from openblotter.ingest.variants import report_variants
from openblotter.services.derived import store_with_derived_views
from openblotter.services.person_tables import ConformedPeople, conform_people, person_releases
from openblotter.services.portal import Portal
from openblotter.services.privacy_review import Review, decided_fields, review_privacy
from openblotter.services.publish_stream import Job, Layout, publish_chunked
from openblotter.services.publisher_notes import COLUMNS_LEFT_OUT, PUBLISHER, mapping_facts
from openblotter.services.storing import NewRelease
from openblotter.storage.scratch import uploads_root

_SUPPORTED = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}


class Progress(Protocol):
    """Where a long publish reports what it is doing (a progress bar in the CLI)."""

    def stage(self, name: str) -> None: ...

    def advance(self, done: int, total: int) -> None: ...


class _Silent:
    def stage(self, name: str) -> None:
        pass

    def advance(self, done: int, total: int) -> None:
        pass


@dataclass
class PublishRequest:
    """What a publisher asks for; every option of ``openblotter publish``."""

    path: Path
    dataset_id: str
    label: str
    family: str | None = None
    mapping: Path | None = None
    schema_file: Path | None = None
    title: str | None = None
    description: str | None = None
    sheet: str | None = None
    allow_invalid: bool = False
    accept_layout_change: bool = False
    #: The publisher read the proposed privacy treatments of a new layout and accepts them.
    accept_privacy: bool = False
    synthetic: bool = False
    actor: str = "cli"


@dataclass
class PublishResult:
    """The release (None when the report has errors and nothing was stored) and the report."""

    report: ValidationReport
    schema: TableSchema
    schema_inferred: bool = False
    release: Release | None = None
    changelog: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Prepared:
    frame: pl.DataFrame
    schema: TableSchema
    inferred: bool
    dropped_source: list[str]
    family: str | None = None
    people: list[PersonTable] = field(default_factory=list)


@dataclass
class Validated:
    """A file read, mapped and conformed, not stored: what publish and a dry run share."""

    report: ValidationReport
    prepared: _Prepared
    frame: pl.DataFrame
    quarter: Quarter
    existing: Dataset | None
    source_name: str
    source_checksum: str
    #: The person tables (officers, subjects) conformed beside the main table.
    people: list[ConformedPeople] = field(default_factory=list)


def validate(
    portal: Portal, request: PublishRequest, progress: Progress | None = None
) -> Validated:
    """Read, map, check and type ``request.path``; no release, catalog row or audit entry."""
    progress = progress or _Silent()
    portal.settings.require_safe()
    check_dataset_id(request.dataset_id)
    _check_file(request.path, portal.settings.upload_max_bytes)
    existing = portal.catalog.dataset(request.dataset_id)
    quarter = check_new_label(request.label, portal.catalog.releases(request.dataset_id))

    progress.stage("Reading")
    scratch = uploads_root(portal.settings.data_dir)
    raw = read_table(
        request.path,
        sheet=request.sheet,
        progress=progress.advance,
        scratch=scratch,
        xlsx_limits=XlsxLimits(
            max_uncompressed_bytes=portal.settings.xlsx_max_uncompressed_bytes,
            max_cells=portal.settings.xlsx_max_cells,
        ),
    )
    report = ValidationReport(source=raw.source_name)
    raw.add_problems_to(report)
    report.facts.update(_read_facts(raw))

    progress.stage("Validating")
    prepared = _prepare(raw, request, existing, report, scratch, portal.settings.city_timezone)
    report_damage(prepared.frame, prepared.schema, report)
    report_variants(prepared.frame, prepared.schema, report)
    report.facts[COLUMNS_LEFT_OUT] = sorted(prepared.dropped_source)
    conformed = conform(
        prepared.frame,
        prepared.schema,
        report,
        allow_invalid=request.allow_invalid,
        time_zone=portal.settings.city_timezone,
    )
    people = conform_people(
        portal,
        request.dataset_id,
        request.label,
        prepared.people,
        report,
        allow_invalid=request.allow_invalid,
    )
    prepared.schema = prepared.schema.with_not_recorded(conformed.not_recorded)
    return Validated(
        report,
        prepared,
        conformed.frame,
        quarter,
        existing,
        raw.source_name,
        raw.source_checksum,
        people,
    )


def publish(
    portal: Portal, request: PublishRequest, progress: Progress | None = None
) -> PublishResult:
    """Validate, scrub and publish ``request.path`` as release ``request.label``."""
    progress = progress or _Silent()
    chunked = _publish_chunked(portal, request, progress)
    if chunked is not None:
        return chunked
    checked = validate(portal, request, progress)
    report, prepared, quarter = checked.report, checked.prepared, checked.quarter
    result = PublishResult(report=report, schema=prepared.schema, schema_inferred=prepared.inferred)
    if not report.ok:
        return result

    progress.stage("Writing release file")
    dataset = _dataset_record(request, checked.existing, prepared)
    # The release, its person tables and the views derived from it: current in one transaction.
    stored = store_with_derived_views(
        portal,
        NewRelease(
            dataset=dataset,
            quarter=quarter,
            frame=checked.frame,
            schema=prepared.schema,
            report=report,
            source_name=checked.source_name,
            source_checksum=checked.source_checksum,
            actor=request.actor,
        ),
        checked.frame,
        also=person_releases(portal, dataset, quarter, checked.people, report, request.actor),
    )
    release, changelog = stored.release, stored.changelog
    result.release = release
    result.changelog = changelog
    return result


def _publish_chunked(
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


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise InvalidInput(f"File not found: {path}. Check the path.", detail={"file": str(path)})
    if path.suffix.lower() not in _SUPPORTED:
        raise InvalidInput(
            f"{path.name}: only CSV and XLSX files can be published (got '{path.suffix or 'no extension'}'). "
            "Save the export as CSV or XLSX.",
            detail={"file": path.name, "allowed": sorted(_SUPPORTED)},
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidInput(
            f"{path.name} is {size:,} bytes; the portal accepts files up to {max_bytes:,} bytes "
            "(setting OPENBLOTTER_UPLOAD_MAX_BYTES).",
            detail={"file": path.name, "size": size, "limit": max_bytes},
        )


def _read_facts(raw: RawTable) -> dict[str, Any]:
    return {
        "file": raw.source_name,
        "format": raw.format,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
        "header_row": raw.header_row,
        "second_header": raw.second_header,
        "sheet": raw.sheet,
        "source_rows": raw.frame.height,
    }


def _prepare(
    raw: RawTable,
    request: PublishRequest,
    existing: Dataset | None,
    report: ValidationReport,
    scratch: Path,
    time_zone: str | None = None,
) -> _Prepared:
    mapping = _mapping(request.mapping) if request.mapping else None
    if mapping is not None and request.family and request.family != mapping.family:
        raise InvalidInput(
            f"The mapping {request.mapping} is for family '{mapping.family}', not "
            f"'{request.family}'; give the family the mapping declares, or leave --family out.",
            detail={"mapping": str(request.mapping), "family": request.family},
        )
    # A mapping says which family its file fits: without --family, that family is used.
    family_name = (
        request.family
        or (mapping.family if mapping else None)
        or (existing.family if existing else None)
    )
    if (
        family_name == "community_demographics"
        and not request.mapping
        and is_census_download([c for c in raw.frame.columns if c != ROW])
    ):
        frame, problems = census_rows(request.path)
        for problem in problems:
            report.add(problem)
        report.facts["census_download"] = True
        return _Prepared(frame, load_family(family_name).schema, False, [], family_name)
    if family_name:
        family = load_family(family_name)
        related: dict[str, RawTableLike] = {
            name: read_table(path, scratch=scratch)
            for name, path in (related_paths(mapping, request.path) if mapping else {}).items()
        }
        mapped = apply_mapping(raw, mapping, family.schema, related=related)
        for problem in mapped.problems:
            # Without a mapping, conform reports missing columns itself; do not count them twice.
            if mapping is not None or problem.code != "missing_column":
                report.add(problem)
        report.facts["related_files"] = {n: t.source_name for n, t in related.items()}
        report.facts["rules_applied"] = mapped.rules_applied
        report.facts[PUBLISHER] = mapping_facts(mapping)
        return _Prepared(
            mapped.frame,
            mapped.schema,
            False,
            mapped.dropped_source_columns,
            family_name,
            mapped.people,
        )
    if request.schema_file:
        schema = _load_schema_file(request.schema_file)
        frame = _rename_to_schema(raw.frame, schema)
        review = _review(request, raw, decided_fields(schema))
        return _Prepared(frame, review_privacy(schema, frame, review, report), False, [])
    if existing and not request.accept_layout_change:
        schema = TableSchema.from_descriptor(existing.schema)
        _check_layout(raw, schema, request.dataset_id)
        return _Prepared(_rename_to_schema(raw.frame, schema), schema, False, [])
    # The read text is consumed column by column as it is cleaned (memory on large files).
    schema, _, cleaned = infer_schema(raw.frame, consume=True, time_zone=time_zone)
    decided: frozenset[str] = frozenset()
    if existing:
        schema = _keep_descriptions(schema, TableSchema.from_descriptor(existing.schema))
        decided = frozenset(f.name for f in TableSchema.from_descriptor(existing.schema).fields)
    schema = review_privacy(schema, cleaned, _review(request, raw, decided), report)
    return _Prepared(cleaned, schema, True, [])


def _review(request: PublishRequest, raw: RawTable, decided: frozenset[str]) -> Review:
    return Review(request.dataset_id, raw.source_name, request.accept_privacy, decided)


def _mapping(path: Path) -> Mapping:
    """A mapping file, or a bundled mapping by name (``--mapping dallas_use_of_force``)."""
    if not path.exists() and path.suffix == "" and str(path) in bundled_mappings():
        return bundled_mapping(str(path))
    return load_mapping(path)


def _load_schema_file(path: Path) -> TableSchema:
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        return TableSchema.from_descriptor(descriptor)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"Cannot read the schema file {path}: {error}", detail={"file": str(path)}
        ) from error
    except ValueError as error:
        raise InvalidInput(
            f"{path} is not a valid Table Schema: {error}", detail={"file": str(path)}
        ) from error


def _header_lookup(schema: TableSchema) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for f in schema.fields:
        for alias in [f.name, f.title or "", *f.source_names]:
            if alias:
                lookup[field_name(alias)] = f.name
    return lookup


def _rename_to_schema(frame: pl.DataFrame, schema: TableSchema) -> pl.DataFrame:
    """Headers -> field names (by name, title or a former source name); others stay as they are."""
    lookup = _header_lookup(schema)
    renames: dict[str, str] = {}
    present = set(frame.columns)  # sets: the loop must stay linear in the column count
    for column in frame.columns:
        target = lookup.get(field_name(column)) if column != ROW else None
        if target and target not in present:
            renames[column] = target
            present.add(target)
    return frame.rename(renames)


def _check_layout(raw: RawTable, schema: TableSchema, dataset_id: str) -> None:
    lookup = _header_lookup(schema)
    headers = [c for c in raw.frame.columns if c != ROW]
    matched = {lookup[field_name(h)] for h in headers if field_name(h) in lookup}
    new_columns = [h for h in headers if field_name(h) not in lookup]
    missing = [f.name for f in schema.fields if f.name not in matched]
    if not new_columns and not missing:
        return
    parts = []
    if missing:
        parts.append(f"columns no longer in the file: {', '.join(missing)}")
    if new_columns:
        parts.append(f"new columns: {', '.join(new_columns)}")
    raise InvalidInput(
        f"The layout of {raw.source_name} differs from dataset '{dataset_id}': {'; '.join(parts)}. "
        "If the new layout is intended, publish again with --accept-layout-change (the schema is "
        "inferred anew and the change is recorded in the release); otherwise fix the export.",
        detail={"file": raw.source_name, "missing_columns": missing, "new_columns": new_columns},
    )


def _keep_descriptions(new: TableSchema, old: TableSchema) -> TableSchema:
    """Descriptions and privacy decisions of the fields an earlier layout already had."""
    fields = []
    for f in new.fields:
        before = old.field(f.name)
        if before is None:
            fields.append(f)
            continue
        kept: dict[str, Any] = {"description": before.description, "privacy": before.privacy}
        kept["free_text"] = f.free_text or before.free_text
        fields.append(f.model_copy(update=kept))
    return new.model_copy(update={"fields": fields})


def _dataset_record(
    request: PublishRequest, existing: Dataset | None, prepared: _Prepared
) -> Dataset:
    now = datetime.now(UTC)
    descriptor = prepared.schema.to_descriptor()
    extras = prepared.schema.model_extra or {}
    title = (
        request.title
        or (existing.title if existing else None)
        or extras.get("title")
        or request.dataset_id.replace("_", " ").capitalize()
    )
    description = (
        request.description
        or (existing.description if existing else "")
        or extras.get("description", "")
    )
    return Dataset(
        id=request.dataset_id,
        title=str(title),
        family=prepared.family or request.family or (existing.family if existing else None),
        description=str(description),
        schema=descriptor,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        mapping=request.mapping.name
        if request.mapping
        else (existing.mapping if existing else None),
        dropped_source_fields=sorted(prepared.dropped_source),
        synthetic=request.synthetic or (existing.synthetic if existing else False),
    )
