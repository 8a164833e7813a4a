"""Datasets and releases as the catalog holds them, and the rules between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from openblotter.domain.errors import Conflict, InvalidInput
from openblotter.domain.quarters import Quarter

#: The column numbering a release file's rows from 1 (keyset pages and ``_next`` use it).
ROW_ID = "_row_id"

ReleaseStatus = Literal["staged", "published", "withdrawn", "purged"]


@dataclass(frozen=True)
class Release:
    """An immutable, complete snapshot of a dataset as of a quarter."""

    id: int
    dataset_id: str
    label: str
    status: ReleaseStatus
    row_count: int
    file_key: str
    file_size: int
    checksum: str
    source_name: str
    source_checksum: str
    schema: dict[str, Any]
    report: dict[str, Any]
    changelog: dict[str, Any]
    created_at: datetime
    period_start: date | None = None
    period_end: date | None = None
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None

    @property
    def quarter(self) -> Quarter:
        return Quarter.parse(self.label)

    @property
    def public(self) -> bool:
        return self.status == "published"


@dataclass(frozen=True)
class Dataset:
    """A catalog entry: what the dataset is, its schema, and which release is current."""

    id: str
    title: str
    family: str | None
    description: str
    schema: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    mapping: str | None = None
    dropped_source_fields: list[str] = field(default_factory=list)
    synthetic: bool = False
    current_release_id: int | None = None


_DATASET_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def check_dataset_id(dataset_id: str) -> str:
    """Dataset ids appear in URLs and file names: lowercase letters, digits, _ and -."""
    if not dataset_id or len(dataset_id) > 100 or not set(dataset_id) <= _DATASET_ID_CHARS:
        raise InvalidInput(
            f"'{dataset_id}' cannot be a dataset id: use 1-100 lowercase letters, digits, '_' or '-' "
            "(for example use_of_force).",
            detail={"parameter": "dataset", "value": dataset_id},
        )
    return dataset_id


def check_new_label(label: str, existing: list[Release]) -> Quarter:
    """A new release's label must be a quarter not already live for the dataset."""
    quarter = Quarter.parse(label)
    for release in existing:
        if release.label == quarter.label and release.status not in ("withdrawn", "purged"):
            raise Conflict(
                f"Release {quarter.label} of {release.dataset_id} already exists "
                f"(published {release.published_at:%Y-%m-%d}). Releases are immutable: withdraw it "
                f"first (openblotter withdraw {release.dataset_id} {quarter.label}) to publish a "
                "corrected file under the same label.",
                detail={"dataset": release.dataset_id, "release": quarter.label},
            )
    return quarter


def previous_published(releases: list[Release], current: Release) -> Release | None:
    """The latest published release older than ``current`` (what a rollback makes current)."""
    older = [
        r
        for r in releases
        if r.status == "published" and r.id != current.id and r.quarter <= current.quarter
    ]
    return max(older, key=lambda r: (r.quarter, r.id), default=None)


def latest_published(releases: list[Release]) -> Release | None:
    """The published release with the latest quarter (ties: the newest publish)."""
    live = [r for r in releases if r.status == "published"]
    return max(live, key=lambda r: (r.quarter, r.id), default=None)
