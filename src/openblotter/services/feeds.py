"""What happened to releases, newest first: the entries of the portal's Atom feeds.

Every publication, withdrawal and purge of a release is an event with a stable id, so a feed
reader sees each once. A purged release keeps only its tombstone (label, when, why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from openblotter.domain.releases import Dataset, Release
from openblotter.services.portal import Portal

EventKind = Literal["published", "withdrawn", "purged"]
#: Feeds list this many events at most; older ones stay in each dataset's release history.
FEED_LENGTH = 100


@dataclass(frozen=True)
class ReleaseEvent:
    """One thing that happened to a release, for a feed entry."""

    kind: EventKind
    dataset_id: str
    dataset_title: str
    label: str
    at: datetime
    rows: int
    reason: str | None = None

    @property
    def key(self) -> str:
        """Stable across requests and servers: the feed entry's id ends with it."""
        return f"{self.dataset_id}/{self.label}/{self.kind}"

    @property
    def title(self) -> str:
        return f"{self.dataset_title}: release {self.label} {self.kind}"


def _events(dataset: Dataset, release: Release) -> list[ReleaseEvent]:
    found: list[ReleaseEvent] = []
    if release.published_at is not None:
        found.append(
            ReleaseEvent(
                "published", dataset.id, dataset.title, release.label,
                release.published_at, release.row_count,
            )
        )  # fmt: skip
    if release.withdrawn_at is not None:
        # A purge keeps its time and reason where a withdrawal does (the tombstone).
        kind: EventKind = "purged" if release.status == "purged" else "withdrawn"
        found.append(
            ReleaseEvent(
                kind, dataset.id, dataset.title, release.label,
                release.withdrawn_at, release.row_count, release.withdrawn_reason,
            )
        )  # fmt: skip
    return found


def release_events(portal: Portal, dataset_id: str | None = None) -> list[ReleaseEvent]:
    """Publications and withdrawals of one dataset's releases (or the whole portal's),
    newest first, at most FEED_LENGTH."""
    datasets = [portal.dataset(dataset_id)] if dataset_id else portal.catalog.datasets()
    events = [
        event
        for dataset in datasets
        for release in portal.catalog.releases(dataset.id)
        for event in _events(dataset, release)
    ]
    events.sort(key=lambda e: (e.at, e.key), reverse=True)
    return events[:FEED_LENGTH]
