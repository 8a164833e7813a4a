"""Publish a large CSV in bounded memory: two passes over the file, chunk by chunk.

Pass 1 reads every chunk to learn what needs the whole file: the inferred
schema (exact types from distinct values, ``ingest/infer_batches.py``), which
columns are blank on every row, which column names each row once, and a
bounded sample for the privacy detectors. Pass 2 reads it again and, per
chunk, reports damage and variants, conforms, scrubs and appends a row group
to the release file; the primary key is checked over a side file
(``storage/key_check.py``). Nothing is stored unless the whole report is clean;
the release is recorded in the same catalog transaction as any publish.

Memory is the chunk (``CHUNK_ROWS``: one checked, one being written by a
worker thread, ``overlap.py``) and the distinct values kept for inference
(``DISTINCT_LIMIT`` per column), not the file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import ROW_ID, Dataset, Release
from openblotter.domain.report import EXAMPLES_PER_COLUMN, ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.conform import (
    ROW,
    blank_column_problem,
    clean_cells,
    conform,
    duplicate_key_problem,
)
from openblotter.ingest.damage import SentinelTally, number_like_columns, report_damage
from openblotter.ingest.infer_batches import SchemaProfile
from openblotter.ingest.privacy import scrub
from openblotter.ingest.read.csv_batches import CsvStream
from openblotter.ingest.report_privacy import public_report
from openblotter.ingest.variants import (
    merge_spellings,
    needs_variants,
    report_spelling_groups,
    text_spellings,
)
from openblotter.services.overlap import WriteBehind, read_ahead
from openblotter.services.portal import Portal
from openblotter.services.privacy_review import Review, review_privacy
from openblotter.services.publisher_notes import COLUMNS_LEFT_OUT
from openblotter.services.storing import (
    DATA_PAGE_BYTES,
    Prepared,
    Stored,
    changelog_against,
    commit_releases,
    data_period,
)
from openblotter.storage.files import sha256_file
from openblotter.storage.key_check import duplicate_rows, unique_columns
from openblotter.storage.scratch import uploads_root

#: Rows of the file's start the privacy detectors see (they judge shares, not every row).
SAMPLE_ROWS = 200_000
ROW_GROUP_ROWS = 32_768


@dataclass
class Layout:
    """How the file's columns become the dataset's: decided by publishing.py."""

    #: The dataset's schema, or None to infer one from the file.
    schema: TableSchema | None
    #: Source headers -> field names (for a given schema).
    rename: Callable[[pl.DataFrame], pl.DataFrame]
    #: An inferred schema with what an earlier layout already said (descriptions, privacy).
    keep: Callable[[TableSchema], TableSchema]
    review: Review
    dataset: Callable[[TableSchema], Dataset]


@dataclass
class Job:
    """One chunked publish: the request's answers the passes need."""

    portal: Portal
    stream: CsvStream
    layout: Layout
    quarter: Quarter
    allow_invalid: bool
    actor: str
    advance: Callable[[int, int], None]
    stage: Callable[[str], None]


@dataclass
class Outcome:
    """The report, the schema, and the release when the report was clean."""

    report: ValidationReport
    schema: TableSchema
    inferred: bool
    release: Release | None = None
    changelog: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Learnt:
    """What pass 1 found out (``profile``: the inferred columns, None for a given schema)."""

    schema: TableSchema
    blank: frozenset[str]
    profile: SchemaProfile | None = None
    #: The cleaned text of every chunk (an inferred schema), read again by pass 2.
    cleaned: Path | None = None

    def not_recorded(self) -> list[str]:
        return [f.name for f in self.schema.fields if f.name in self.blank]


def publish_chunked(job: Job) -> Outcome:
    """Validate, scrub and publish ``job.stream`` chunk by chunk (see the module doc)."""
    settings = job.portal.settings
    report = ValidationReport(source=job.stream.path.name)
    scratch = uploads_root(settings.data_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chunked-", dir=scratch) as tmp:
        work = Path(tmp)
        job.stage("Reading")
        learnt = _first_pass(job, report, work)
        job.stage("Validating and writing")
        written = _second_pass(job, learnt, report, work)
        schema = learnt.schema.with_not_recorded(learnt.not_recorded())
        outcome = Outcome(report, schema, job.layout.schema is None)
        if not report.ok:
            written.staged.unlink(missing_ok=True)
            return outcome
        stored = _store(job, schema, report, written)
    outcome.release, outcome.changelog = stored.release, stored.changelog
    return outcome


def _chunks(job: Job, second: bool) -> Iterator[pl.DataFrame]:
    """The file's chunks; the progress bar runs over the two passes as one."""
    total = max(job.stream.path.stat().st_size, 1)
    start = total // 2 if second else 0

    def progress(done: int) -> None:
        job.advance(min(start + done // 2, total), total)

    yield from read_ahead(job.stream.chunks(progress))


def _first_pass(job: Job, report: ValidationReport, work: Path) -> _Learnt:
    schema = job.layout.schema
    if schema is not None:
        present = _present_counts(job, schema)
        _reading_facts(job.stream, report)
        blank = frozenset(f.name for f in schema.fields if present.get(f.name) == 0)
        return _Learnt(schema, blank)
    profile = SchemaProfile(job.stream.names, job.portal.settings.city_timezone)
    sample: list[pl.DataFrame] = []
    sampled = 0
    # The cleaned text is kept for pass 2 (read back, not parsed and cleaned again).
    kept = work / "cleaned.parquet"
    with _SideFile(kept, compression="lz4") as side:
        for chunk in _chunks(job, second=False):
            cleaned = profile.clean(chunk)
            profile.add(cleaned)
            if sampled < SAMPLE_ROWS:
                sample.append(cleaned.head(SAMPLE_ROWS - sampled))
                sampled += sample[-1].height
            side.write(cleaned)
    _reading_facts(job.stream, report)
    frame = (
        pl.concat(sample)
        if sample
        else pl.DataFrame(schema=dict.fromkeys(profile.renames.values(), pl.String))
    )
    # The key check reads the kept text while the privacy detectors look at the sample:
    # they share nothing (the detectors read the fields, never the key), so they overlap.
    with ThreadPoolExecutor(1, thread_name_prefix="key-check") as pool:
        named = profile.key_candidates()
        unique = pool.submit(unique_columns, kept, named, work / "duckdb") if profile.rows else None
        inferred = job.layout.keep(profile.schema([]))
        reviewed = review_privacy(inferred, frame, job.layout.review, report)
        key = unique.result()[:1] if unique is not None else []
    schema = reviewed.model_copy(update={"primary_key": key})
    blank = frozenset(c.name for c in profile.columns if c.present == 0)
    return _Learnt(schema, blank, profile, kept if side.writer is not None else None)


def _present_counts(job: Job, schema: TableSchema) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in _chunks(job, second=False):
        renamed = job.layout.rename(chunk)
        for f in schema.fields:
            if f.name in renamed.columns:
                text = clean_cells(renamed[f.name], schema.missing_values)
                counts[f.name] = counts.get(f.name, 0) + text.len() - text.null_count()
    return counts


def _reading_facts(stream: CsvStream, report: ValidationReport) -> None:
    """What reading found, counted exactly, as ``RawTable.add_problems_to`` counts it."""
    for code, count in stream.log.counts.items():
        examples = [p for p in stream.log.examples if p.code == code]
        severity = examples[0].severity if examples else "warning"
        report.add_counted(code, severity, count, examples)
    report.facts.update(
        {
            "file": stream.path.name,
            "format": "csv",
            "encoding": stream.encoding,
            "delimiter": stream.delimiter,
            "header_row": stream.header_row,
            "second_header": stream.second_header,
            "sheet": None,
            "source_rows": stream.rows,
            "read_in_chunks": True,
        }
    )


@dataclass
class _Written:
    staged: Path
    rows: int = 0
    period: tuple[date | None, date | None] = (None, None)
    treatments: dict[str, Any] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    kept: dict[str, int] = field(default_factory=dict)


def _second_pass(job: Job, learnt: _Learnt, report: ValidationReport, work: Path) -> _Written:
    schema, inferred = learnt.schema, job.layout.schema is None
    keyless = schema.model_copy(update={"primary_key": []})
    key = [k for k in schema.primary_key if k not in learnt.blank]
    written = _Written(job.portal.files.staging_path(".parquet"))
    unknown: dict[str, int] = {}
    rows = 0
    release = _ReleaseWriter(job, schema, written)
    # An inferred schema's chunks are the text pass 1 cleaned (trimmed, blanks null).
    variants = _Spellings(schema, learnt.profile.spellings() if learnt.profile else {})
    codes = SentinelTally(schema, cleaned=inferred)  # column-wide: judged once over every chunk
    # The damage detectors and the sentinel tally look only at columns with a number-like
    # cell: known for the file where pass 1 kept a column's every distinct value, asked of
    # each chunk for the others.
    known = _numbers_known(learnt)
    anywhere = {name for name, has in known.items() if has}
    asked = [f.name for f in schema.fields if not f.free_text and f.name not in known]
    with _SideFile(work / "key.parquet") as keys, release:
        for frame in _fields_chunks(job, learnt):
            numbers = anywhere | number_like_columns(frame, asked, cleaned=inferred)
            report_damage(
                frame, schema, report, skip=("suspicious_sentinel",), cleaned=inferred,
                numbers=numbers,
            )  # fmt: skip
            codes.add(frame, numbers)
            variants.add(frame)
            conformed = conform(
                frame,
                keyless,
                report,
                allow_invalid=job.allow_invalid,
                consume=True,
                cleaned=inferred,
                time_zone=job.portal.settings.city_timezone,
                blank=learnt.blank,
            )
            rows += conformed.frame.height
            for name, count in report.facts.get("blank_coded_as_unknown", {}).items():
                unknown[name] = unknown.get(name, 0) + count
            if key and not inferred:
                keys.write(conformed.frame.select([*key, ROW]))
            if report.ok:
                release.write(conformed.frame)
    codes.report(report)
    variants.report(report)
    _finish_report(job, learnt, report, rows, unknown)
    if key and not inferred:
        _check_key(keys.path, key, report, work)
    return written


def _fields_chunks(job: Job, learnt: _Learnt) -> Iterator[pl.DataFrame]:
    """Pass 2's chunks under their field names: cleaned already when the schema is inferred."""
    if learnt.profile is None:
        for chunk in _chunks(job, second=True):
            yield job.layout.rename(chunk)
        return
    if learnt.cleaned is None:
        return
    yield from _kept_chunks(job, learnt.cleaned)


def _numbers_known(learnt: _Learnt) -> dict[str, bool]:
    """Whether a number-like cell is anywhere in each column of which pass 1 kept every
    distinct value (cleaned text, as pass 2 reads it); other columns are not listed."""
    if learnt.profile is None:
        return {}
    return {
        c.name: bool(number_like_columns(c.distinct.to_frame(c.name), [c.name], cleaned=True))
        for c in learnt.profile.columns
        if not c.overflow and c.distinct is not None
    }


def _kept_chunks(job: Job, cleaned: Path) -> Iterator[pl.DataFrame]:
    """Pass 1's cleaned text, a row group (a chunk) at a time.

    Read by polars, which reads only the row groups a slice covers: half the time of
    pyarrow's ``read_row_group`` and the conversion to polars (0.10 against 0.25 s for
    1,000,000 rows), and less memory.
    """
    meta = pq.read_metadata(cleaned)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    scan = pl.scan_parquet(cleaned)
    size = max(job.stream.path.stat().st_size, 1)
    start = 0
    for index, rows in enumerate(sizes):
        job.advance(size // 2 + size * index // (2 * len(sizes)), size)
        yield scan.slice(start, rows).collect()
        start += rows


def _finish_report(
    job: Job, learnt: _Learnt, report: ValidationReport, rows: int, unknown: dict[str, int]
) -> None:
    for f in learnt.schema.fields:
        if f.name in learnt.blank and not f.constraints.required:
            report.add(blank_column_problem(f))
    report.facts[COLUMNS_LEFT_OUT] = []
    report.facts["rows"] = rows
    report.facts["blank_coded_as_unknown"] = {k: v for k, v in unknown.items() if v}
    if learnt.blank:
        report.facts["not_recorded"] = learnt.not_recorded()


def _check_key(path: Path, key: list[str], report: ValidationReport, work: Path) -> None:
    count, rows = duplicate_rows(path, key, ROW, EXAMPLES_PER_COLUMN, work / "duckdb")
    examples = [duplicate_key_problem(key, r) for r in rows]
    report.add_counted("duplicate_key", "error", count, examples)


class _Spellings:
    """The spellings of each uncoded category over every chunk: a variant may span chunks.

    ``counted``: spellings known for the whole file already (pass 1 of an inferred schema
    counts every distinct value of a column with few, and an uncoded category has few):
    those columns are not grouped again."""

    def __init__(self, schema: TableSchema, counted: dict[str, pl.DataFrame]) -> None:
        self.fields = [f for f in schema.fields if needs_variants(f)]
        self.seen = {f.name: counted[f.name] for f in self.fields if f.name in counted}
        self.asked = [f.name for f in self.fields if f.name not in counted]

    def add(self, frame: pl.DataFrame) -> None:
        present = set(frame.columns)
        names = [name for name in self.asked if name in present]
        for name, part in text_spellings(frame, names).items():
            known = self.seen.get(name)
            self.seen[name] = part if known is None else merge_spellings([known, part])

    def report(self, report: ValidationReport) -> None:
        for f in self.fields:
            if f.name in self.seen:
                report_spelling_groups(f, self.seen[f.name], report)


class _SideFile:
    """Frames appended to a Parquet file, each encoded and written in a worker thread
    while the next chunk is checked (``overlap.py``)."""

    def __init__(self, path: Path, compression: str = "zstd", release: bool = False) -> None:
        self.path = path
        self.compression = compression
        # A work file, read back only by this publish, goes without column statistics (min
        # and max of every page, for readers that skip row groups): half the time to write
        # it. Its text is handed to Arrow as polars holds it (string views, no copy); the
        # release keeps plain strings in its Arrow schema, which every reader takes.
        self.statistics = release
        self.compat = pl.CompatLevel.oldest() if release else pl.CompatLevel.newest()
        self.writer: pq.ParquetWriter | None = None
        self.columns: list[str] = []
        self.behind: WriteBehind[tuple[pa.Table, int | None]] = WriteBehind(self._write)

    def write(self, frame: pl.DataFrame, row_group_rows: int | None = None) -> None:
        table = frame.to_arrow(compat_level=self.compat)
        if self.writer is None:
            self.columns = frame.columns
            self.writer = pq.ParquetWriter(
                self.path,
                table.schema,
                compression=self.compression,
                data_page_size=DATA_PAGE_BYTES,
                write_statistics=self.statistics,
                use_dictionary=repetitive_columns(frame),
            )
        self.behind.submit((table.cast(self.writer.schema), row_group_rows))

    def _write(self, item: tuple[pa.Table, int | None]) -> None:
        assert self.writer is not None
        table, row_group_rows = item
        self.writer.write_table(table, row_group_size=row_group_rows)
        del table, item
        # The encoded chunk's buffers go back to the system, not to this thread's cache
        # (10 million rows: 425 MiB peak instead of 446).
        pa.default_memory_pool().release_unused()

    def __enter__(self) -> _SideFile:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.behind.close()
        except Exception:
            if exc[0] is None:
                raise
            # Leaving on an error already: that error is the one to report, not the
            # failed write of a file that is thrown away with it.
        finally:
            if self.writer is not None:
                self.writer.close()


def repetitive_columns(frame: pl.DataFrame) -> list[str]:
    """The columns of a file's first chunk that repeat their values (at most one distinct
    value in two rows): the ones worth a dictionary in Parquet.

    A column of mostly distinct values (an id, a timestamp) overflows Parquet's dictionary
    and is written plain after all, but only once the dictionary has been built (a third of
    the time it takes to encode a chunk of text) and thrown away."""
    if frame.height == 0:
        return frame.columns
    distinct = frame.select(pl.all().n_unique()).row(0)
    return [name for name, n in zip(frame.columns, distinct, strict=True) if n * 2 <= frame.height]


class _ReleaseWriter:
    """Scrub each conformed chunk and append it to the staged release file."""

    def __init__(self, job: Job, schema: TableSchema, written: _Written) -> None:
        settings = job.portal.settings
        dataset_id = job.layout.review.dataset_id
        self.job, self.schema, self.written = job, schema, written
        self.allowed = {
            f.name
            for f in schema.fields
            if f.free_text and settings.free_text_allowed(dataset_id, f.name)
        }
        self.salt = settings.salt.get_secret_value()
        self.hashes = _PublishedHashes(job.portal, dataset_id, schema, written.kept)
        self.file = _SideFile(written.staged, release=True)

    def write(self, conformed: pl.DataFrame) -> None:
        scrubbed = scrub(
            conformed,
            self.schema,
            salt=self.salt,
            free_text_allowed=self.allowed,
            reference_date=self.job.quarter.end,
        )
        self.written.treatments = scrubbed.treatments
        self.written.dropped |= set(scrubbed.dropped)
        frame = self.hashes.keep(conformed, scrubbed.frame).drop(ROW)
        start = self.written.rows + 1
        frame = frame.with_row_index(ROW_ID, offset=start).with_columns(
            pl.col(ROW_ID).cast(pl.Int64)
        )
        self.written.rows += frame.height
        self.written.period = _widen(self.written.period, data_period(frame, self.schema))
        self.file.write(frame, ROW_GROUP_ROWS)

    def __enter__(self) -> _ReleaseWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.__exit__(*exc)
        if self.file.writer is None:
            pq.write_table(pa.table({ROW_ID: pa.array([], pa.int64())}), self.written.staged)


def _widen(
    seen: tuple[date | None, date | None], chunk: tuple[date | None, date | None]
) -> tuple[date | None, date | None]:
    low = min((d for d in (seen[0], chunk[0]) if d is not None), default=None)
    high = max((d for d in (seen[1], chunk[1]) if d is not None), default=None)
    return low, high


class _PublishedHashes:
    """IDs that already are this portal's hashes stay as they are (see storing.py)."""

    def __init__(
        self, portal: Portal, dataset_id: str, schema: TableSchema, kept: dict[str, int]
    ) -> None:
        self.known: dict[str, tuple[str, pl.Series]] = {}
        self.kept = kept
        existing = portal.catalog.dataset(dataset_id)
        previous = portal.release(dataset_id) if existing and existing.current_release_id else None
        if previous is None:
            return
        path = portal.release_path(previous)
        stored = set(pq.read_schema(path).names)
        for f in schema.fields:
            if f.privacy and f.privacy.treatment == "hash":
                published = f.privacy.published_as or f.name
                if published in stored:
                    column = pl.read_parquet(path, columns=[published])[published]
                    self.known[f.name] = (published, column.drop_nulls().unique().cast(pl.String))

    def keep(self, conformed: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
        for source, (published, known) in self.known.items():
            if source not in conformed.columns or published not in frame.columns:
                continue
            original = conformed[source].cast(pl.String)
            is_known = original.is_in(known.implode())
            if is_known.any():
                self.kept[published] = self.kept.get(published, 0) + int(is_known.sum())
                frame = frame.with_columns(
                    pl.when(is_known).then(original).otherwise(frame[published]).alias(published)
                )
        return frame


def _store(job: Job, schema: TableSchema, report: ValidationReport, written: _Written) -> Stored:
    portal, dataset_id = job.portal, job.layout.review.dataset_id
    report.facts["privacy"] = written.treatments
    if written.kept:
        report.facts["kept_published_hashes"] = written.kept
    checksum = sha256_file(written.staged)
    key = f"releases/{dataset_id}/{job.quarter.label}-{checksum[:16]}.parquet"
    existing = portal.catalog.dataset(dataset_id)
    previous = portal.release(dataset_id) if existing and existing.current_release_id else None
    portal.files.store(written.staged, key)
    changelog = changelog_against(portal, previous, key, schema)
    dataset = job.layout.dataset(schema)
    dataset = replace(
        dataset,
        dropped_source_fields=sorted(set(dataset.dropped_source_fields) | written.dropped),
    )
    now = datetime.now(UTC)
    values = {
        "dataset_id": dataset.id,
        "label": job.quarter.label,
        "status": "published",
        "period_start": written.period[0],
        "period_end": written.period[1],
        "row_count": written.rows,
        "file_key": key,
        "file_size": portal.files.local_path(key).stat().st_size,
        "checksum": checksum,
        "source_name": job.stream.path.name,
        "source_checksum": job.stream.checksum,
        "schema": schema.to_descriptor(),
        "report": public_report(report.to_dict(), schema),
        "changelog": changelog,
        "created_at": now,
        "published_at": now,
    }
    becomes_current = previous is None or job.quarter >= previous.quarter
    prepared = Prepared(dataset, values, becomes_current, job.actor, changelog)
    return commit_releases(portal, [prepared])[0]
