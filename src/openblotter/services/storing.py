"""Store a conformed table as a release: scrub, write Parquet, record it in one transaction.

Shared by publishing (a file) and derived views (hate crimes from contacts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openblotter.domain.errors import Conflict
from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import ROW_ID, Dataset, Release
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.conform import ROW
from openblotter.ingest.privacy import scrub
from openblotter.ingest.report_privacy import public_report
from openblotter.services.portal import Portal
from openblotter.storage.diffing import diff_files
from openblotter.storage.files import sha256_file


@dataclass
class NewRelease:
    """A conformed (typed, validated, not yet scrubbed) table to store as a release."""

    dataset: Dataset
    quarter: Quarter
    frame: pl.DataFrame
    schema: TableSchema
    report: ValidationReport
    source_name: str
    source_checksum: str
    actor: str
    #: Rows of an earlier release, already published (scrubbed), kept in this one as they are.
    carried: pl.DataFrame | None = None


@dataclass
class Stored:
    release: Release
    changelog: dict[str, Any]


@dataclass
class Prepared:
    """A release whose file is stored, ready to be recorded in the catalog."""

    dataset: Dataset
    values: dict[str, Any]
    becomes_current: bool
    actor: str
    changelog: dict[str, Any]


def store_release(portal: Portal, new: NewRelease) -> Stored:
    """Scrub, write the file, and make the release current in one catalog transaction."""
    return commit_releases(portal, [prepare_release(portal, new)])[0]


def prepare_release(portal: Portal, new: NewRelease) -> Prepared:
    """Scrub and store the release's file (content-addressed); nothing is visible yet."""
    dataset_id = new.dataset.id
    allowed = {
        f.name
        for f in new.schema.fields
        if f.free_text and portal.settings.free_text_allowed(dataset_id, f.name)
    }
    scrubbed = scrub(
        new.frame,
        new.schema,
        salt=portal.settings.salt.get_secret_value(),
        free_text_allowed=allowed,
        reference_date=new.quarter.end,
    )
    new.report.facts["privacy"] = scrubbed.treatments
    existing = portal.catalog.dataset(dataset_id)
    previous = portal.release(dataset_id) if existing and existing.current_release_id else None
    frame = _keep_published_hashes(portal, new, scrubbed.frame, previous)
    if new.carried is not None and new.carried.height:
        kept = set(new.carried.columns)
        carried = new.carried.drop(ROW_ID, strict=False).select(
            [c for c in frame.columns if c in kept]
        )
        frame = pl.concat([frame, carried], how="diagonal_relaxed")
    staged, checksum = _write_parquet(portal, frame)
    key = f"releases/{dataset_id}/{new.quarter.label}-{checksum[:16]}.parquet"
    portal.files.store(staged, key)
    changelog = changelog_against(portal, previous, key, new.schema)
    dataset = replace(
        new.dataset,
        dropped_source_fields=sorted(
            set(new.dataset.dropped_source_fields) | set(scrubbed.dropped)
        ),
    )
    return Prepared(
        dataset=dataset,
        values=_values(portal, new, dataset, key, checksum, frame, changelog),
        becomes_current=previous is None or new.quarter >= previous.quarter,
        actor=new.actor,
        changelog=changelog,
    )


def commit_releases(portal: Portal, prepared: list[Prepared]) -> list[Stored]:
    """Record every prepared release (a publish and the views derived from it) and make them
    current in one catalog transaction: readers see all of them or none.

    A second publish of the same label that committed first is refused with a Conflict.
    """
    ids: list[int] = []
    try:
        with portal.catalog.transaction() as conn:
            for item in prepared:
                ids.append(_record(portal, conn, item))
    except IntegrityError as error:
        labels = ", ".join(f"{p.dataset.id} {p.values['label']}" for p in prepared)
        raise Conflict(
            f"Another publish recorded {labels} first (two publishes of the same release ran "
            "at once); nothing of this one was made current. See `openblotter releases` and "
            "publish under a new label if needed.",
            detail={"releases": [[p.dataset.id, p.values["label"]] for p in prepared]},
        ) from error
    stored = []
    for release_id, item in zip(ids, prepared, strict=True):
        release = portal.catalog.release(release_id)
        assert release is not None
        stored.append(Stored(release, item.changelog))
    return stored


def _record(portal: Portal, conn: Connection, item: Prepared) -> int:
    portal.catalog.save_dataset(conn, item.dataset)
    release_id = portal.catalog.insert_release(conn, item.values)
    if item.becomes_current:
        portal.catalog.set_current(conn, item.dataset.id, release_id)
    portal.catalog.audit(
        conn,
        actor=item.actor,
        action="publish",
        dataset_id=item.dataset.id,
        label=item.values["label"],
        detail={
            "rows": item.values["row_count"],
            "checksum": item.values["checksum"],
            "source": item.values["source_name"],
            "current": item.becomes_current,
        },
    )
    return release_id


def _keep_published_hashes(
    portal: Portal, new: NewRelease, frame: pl.DataFrame, previous: Release | None
) -> pl.DataFrame:
    """Keep IDs that already are this portal's hashes (a published export published again).

    A value of a hashed field that the current release publishes as a hash is that hash,
    not a new ID: hashing it again would change every row (issue 17: 929 rows "changed").
    """
    present = set(new.frame.columns)
    hashed = {
        f.name: f.privacy.published_as or f.name
        for f in new.schema.fields
        if f.privacy and f.privacy.treatment == "hash" and f.name in present
    }
    if previous is None or not hashed:
        return frame
    path = portal.release_path(previous)
    stored = set(pq.read_schema(path).names)
    kept: dict[str, int] = {}
    for source, published in hashed.items():
        if published not in stored or published not in frame.columns:
            continue
        known = pl.read_parquet(path, columns=[published])[published].drop_nulls().unique()
        original = new.frame[source].cast(pl.String)
        is_known = original.is_in(known.cast(pl.String).implode())
        if is_known.any():
            kept[published] = int(is_known.sum())
            frame = frame.with_columns(
                pl.when(is_known).then(original).otherwise(frame[published]).alias(published)
            )
    if kept:
        new.report.facts["kept_published_hashes"] = kept
    return frame


#: Bytes per Parquet data page of a release file: a 100-row page decodes one small page, not
#: a whole column chunk (first page: 5.1 -> 3.4 ms of DuckDB CPU; the file ~5% larger).
DATA_PAGE_BYTES = 65_536


def _write_parquet(portal: Portal, frame: pl.DataFrame) -> tuple[Path, str]:
    staged = portal.files.staging_path(".parquet")
    published = (
        frame.drop(ROW).with_row_index(ROW_ID, offset=1).with_columns(pl.col(ROW_ID).cast(pl.Int64))
    )
    published.write_parquet(
        staged,
        compression="zstd",
        statistics=True,
        row_group_size=32_768,
        data_page_size=DATA_PAGE_BYTES,
    )
    return staged, sha256_file(staged)


def changelog_against(
    portal: Portal, previous: Release | None, key: str, schema: TableSchema
) -> dict[str, Any]:
    if previous is None:
        return {"previous": None, "note": "First release of this dataset."}
    public_key = schema.public_schema().primary_key
    diff = diff_files(portal.release_path(previous), portal.files.local_path(key), public_key)
    return {"previous": previous.label, **diff.counts()}


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def data_period(frame: pl.DataFrame, schema: TableSchema) -> tuple[date | None, date | None]:
    """The data's own period: min..max of the main date (not the quarter it is published for)."""
    date_field = (schema.model_extra or {}).get("dateField")
    candidates = (
        [date_field]
        if date_field
        else [f.name for f in schema.fields if f.type in ("date", "datetime")]
    )
    for name in candidates:
        if name in frame.columns and frame[name].null_count() < frame.height:
            return _as_date(frame[name].min()), _as_date(frame[name].max())
    return None, None


def _values(
    portal: Portal,
    new: NewRelease,
    dataset: Dataset,
    key: str,
    checksum: str,
    frame: pl.DataFrame,
    changelog: dict[str, Any],
) -> dict[str, Any]:
    now = datetime.now(UTC)
    period_start, period_end = data_period(frame, new.schema)
    return {
        "dataset_id": dataset.id,
        "label": new.quarter.label,
        "status": "published",
        "period_start": period_start,
        "period_end": period_end,
        "row_count": frame.height,
        "file_key": key,
        "file_size": portal.files.local_path(key).stat().st_size,
        "checksum": checksum,
        "source_name": new.source_name,
        "source_checksum": new.source_checksum,
        "schema": new.schema.to_descriptor(),
        "report": public_report(new.report.to_dict(), new.schema),
        "changelog": changelog,
        "created_at": now,
        "published_at": now,
    }
