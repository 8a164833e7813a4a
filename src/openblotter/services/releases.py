"""Release history: list, withdraw, roll back, diff; a release's manifest and stored file.

The manifest, the file and the diff are what every door serves of a release;
access is checked here (a dataset published only as counts gets no file, no
diff and a manifest without what counts rows), so no door can forget it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openblotter.domain.errors import Conflict, InvalidInput, NotFound
from openblotter.domain.formats import RELEASE_FILE_FORMAT
from openblotter.domain.quarters import Quarter
from openblotter.domain.query.filters import main_date_field
from openblotter.domain.releases import Release, latest_published, previous_published
from openblotter.domain.schema import TableSchema
from openblotter.services import disclosure
from openblotter.services.person_tables import people_published_with
from openblotter.services.portal import Portal
from openblotter.services.publisher_notes import release_notes
from openblotter.storage.diffing import DiffResult, diff_files

DIFF_CHANGES = ("added", "removed", "changed")


def list_releases(portal: Portal, dataset_id: str) -> list[Release]:
    """Every release of a dataset (withdrawn ones too), oldest quarter first."""
    portal.dataset(dataset_id)
    return portal.catalog.releases(dataset_id)


def withdraw(
    portal: Portal, dataset_id: str, label: str, *, reason: str = "", actor: str = "cli"
) -> Release | None:
    """Withdraw a published release; if it was current, the latest remaining one becomes current.

    Returns the release that is current afterwards (None when none is left).
    """
    Quarter.parse(label)
    target = portal.release(dataset_id, label)
    dataset = portal.dataset(dataset_id)
    remaining = [r for r in portal.catalog.releases(dataset_id) if r.id != target.id]
    current_id = dataset.current_release_id
    if current_id == target.id:
        replacement = latest_published(remaining)
        current_id = replacement.id if replacement else None
    with portal.catalog.transaction() as conn:
        portal.catalog.set_status(conn, target.id, "withdrawn", reason or None)
        portal.catalog.set_current(conn, dataset_id, current_id)
        portal.catalog.audit(
            conn,
            actor=actor,
            action="withdraw",
            dataset_id=dataset_id,
            label=label,
            detail={"reason": reason, "current_after": current_id},
        )
    for person_id in people_published_with(portal, dataset_id, label):
        withdraw(portal, person_id, label, reason=reason, actor=actor)
    return portal.catalog.release(current_id) if current_id else None


def rollback(portal: Portal, dataset_id: str, *, reason: str = "", actor: str = "cli") -> Release:
    """Withdraw the current release and make the previous published one current again."""
    current = portal.release(dataset_id)
    previous = previous_published(portal.catalog.releases(dataset_id), current)
    if previous is None:
        raise Conflict(
            f"Release {current.label} is the only published release of '{dataset_id}'; there is "
            f"nothing to roll back to. To take it down, withdraw it: openblotter withdraw {dataset_id} {current.label}",
            detail={"dataset": dataset_id, "current": current.label},
        )
    with portal.catalog.transaction() as conn:
        portal.catalog.set_status(conn, current.id, "withdrawn", reason or "rolled back")
        portal.catalog.set_current(conn, dataset_id, previous.id)
        portal.catalog.audit(
            conn,
            actor=actor,
            action="rollback",
            dataset_id=dataset_id,
            label=current.label,
            detail={"reason": reason, "current_after": previous.label},
        )
    for person_id in people_published_with(portal, dataset_id, current.label):
        withdraw(portal, person_id, current.label, reason=reason or "rolled back", actor=actor)
    return previous


def diff_releases(
    portal: Portal,
    dataset_id: str,
    old_label: str,
    new_label: str,
    *,
    change: str | None = None,
    limit: int = 0,
    offset: int = 0,
) -> DiffResult:
    """Rows added, removed and changed (by primary key) from ``old_label`` to ``new_label``.

    Refused (Forbidden) for a dataset published only as counts: a diff lists and counts rows.
    """
    disclosure.refuse_rows(portal, dataset_id)
    if change is not None and change not in DIFF_CHANGES:
        raise InvalidInput(
            f"'{change}' is not a kind of change; use one of {', '.join(DIFF_CHANGES)}.",
            detail={"parameter": "change", "allowed": list(DIFF_CHANGES)},
        )
    old = portal.release(dataset_id, old_label)
    new = portal.release(dataset_id, new_label)
    key = TableSchema.from_descriptor(new.schema).public_schema().primary_key
    return diff_files(
        portal.release_path(old),
        portal.release_path(new),
        key,
        change=change,
        limit=limit,
        offset=offset,
        run=portal.query_engine().with_cursor,  # the engine's memory, time limit and turns
    )


def _main_date(release: Release) -> str | None:
    try:
        found = main_date_field(TableSchema.from_descriptor(release.schema))
    except (InvalidInput, ValueError):
        return None
    return found.name if found else None


def release_summary(release: Release) -> dict[str, Any]:
    """The manifest of a release as the API and CLI show it (a purged one: its tombstone)."""
    if release.status == "purged":
        return {
            "label": release.label,
            "status": "purged",
            "purged_at": release.withdrawn_at.isoformat() if release.withdrawn_at else None,
            "purge_reason": release.withdrawn_reason,
            "changelog": {},
        }
    return {
        "label": release.label,
        "status": release.status,
        # The data's own period (min..max of its main date), apart from the quarter.
        "period": {
            "start": release.period_start.isoformat() if release.period_start else None,
            "end": release.period_end.isoformat() if release.period_end else None,
            "field": _main_date(release),
        },
        "quarter": {
            "label": release.label,
            "start": release.quarter.start.isoformat(),
            "end": release.quarter.end.isoformat(),
        },
        "row_count": release.row_count,
        "checksum": {"algorithm": "sha256", "value": release.checksum},
        "file_size": release.file_size,
        "source": {"name": release.source_name, "sha256": release.source_checksum},
        "published_at": release.published_at.isoformat() if release.published_at else None,
        "withdrawn_at": release.withdrawn_at.isoformat() if release.withdrawn_at else None,
        "withdrawn_reason": release.withdrawn_reason,
        "changelog": release.changelog,
        "validation": {k: release.report.get(k) for k in ("ok", "errors", "warnings", "counts")},
        # What the mapping's rules blanked or numbered, for readers (ingest.mapping.rules).
        "rules_applied": release.report.get("facts", {}).get("rules_applied", []),
        "notes": release_notes(release.report),
    }


def find_release_or_404(portal: Portal, dataset_id: str, label: str) -> Release:
    """A release of any status (for its manifest page); NotFound otherwise."""
    for release in portal.catalog.releases(dataset_id):
        if release.label == label:
            return release
    raise NotFound(f"Release {label} of '{dataset_id}' does not exist.", detail={"release": label})


def release_manifest(portal: Portal, dataset_id: str, label: str) -> dict[str, Any]:
    """A release's manifest (any status) with its validation report and schema; for a
    dataset published only as counts, without what quotes or counts rows."""
    portal.dataset(dataset_id)
    release = find_release_or_404(portal, dataset_id, label)
    manifest = {**release_summary(release), "report": release.report, "schema": release.schema}
    return disclosure.protect_manifest(portal, dataset_id, manifest)


@dataclass(frozen=True)
class ReleaseFile:
    """A published release's stored file, to send byte for byte."""

    path: Path
    media_type: str
    filename: str
    checksum: str


def release_file(portal: Portal, dataset_id: str, label: str) -> ReleaseFile:
    """The stored Parquet file of a published release (its sha256 is in the manifest).

    Forbidden for a dataset published only as counts; NotFound for a withdrawn
    release, Gone for a purged one.
    """
    disclosure.refuse_rows(portal, dataset_id)
    release = portal.release(dataset_id, label)
    dataset = portal.dataset(dataset_id)
    prefix = "synthetic-demo-" if dataset.synthetic else ""
    return ReleaseFile(
        path=portal.release_path(release),
        media_type=RELEASE_FILE_FORMAT.media_type,
        filename=f"{prefix}{dataset_id}-{label}.{RELEASE_FILE_FORMAT.extension}",
        checksum=release.checksum,
    )
