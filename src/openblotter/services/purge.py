"""Purge a release that should never have been public: its rows gone for good, a tombstone kept.

``openblotter purge DATASET LABEL --reason "..."``:

- the release's Parquet file is deleted, unless another release that is not
  purged stores the same bytes (files are content-addressed);
- releases derived from it are purged with it, for the same reason: views
  derived from it (hate crimes derived from a contacts release), and later
  derived releases of its own dataset that carried its rows as history, and
  the officers and subjects tables published with it;
- its catalog row keeps only a tombstone: label, status ``purged``, when and
  why; the validation report (which quotes rows) and the changelog are
  erased, and the catalog is compacted (SQLite: checkpoint and VACUUM, so no
  deleted value stays in free pages or the write-ahead log);
- its serving copy (a DuckDB table of the same rows, storage/serving.py) is deleted
  with the file, after any build of it that is running;
- in-process caches of its file (schemas, counts-only tables) are dropped, and
  DuckDB spill files that a killed query left in the data directory are removed;
- the audit log gets a ``purge`` entry; earlier entries (which hold no row) stay;
- if the release was current, the latest published release becomes current,
  as a withdrawal does; every other release is left as it is.

Its rows, files and diffs answer 410 Gone with the tombstone from then on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from openblotter.domain.errors import InvalidInput, NotFound
from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import ROW_ID, Release, latest_published
from openblotter.domain.schema import TableSchema
from openblotter.ingest.mapping.people import ROLES
from openblotter.services import disclosure_tables, reading
from openblotter.services.person_tables import person_dataset_id
from openblotter.services.portal import Portal
from openblotter.storage.serving import remove_copy

#: How a derived release names its source (services/derived.py).
_DERIVED_PREFIX = "derived from "


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed and what is current afterwards."""

    purged: tuple[Release, ...]
    files_deleted: tuple[str, ...]
    files_kept: tuple[str, ...]
    current: dict[str, str | None]


def purge(
    portal: Portal,
    dataset_id: str,
    label: str,
    *,
    reason: str,
    release_id: int | None = None,
    actor: str = "cli",
) -> PurgeResult:
    """Purge one release (and the releases derived from it); see the module docstring."""
    if not reason.strip():
        raise InvalidInput(
            'Say why the release is purged: --reason "..." (it is shown on its tombstone).',
            detail={"parameter": "reason"},
        )
    target = _target(portal, dataset_id, Quarter.parse(label).label, release_id)
    targets = [target, *_derived(portal, target)]
    current = {r.dataset_id: _current_after(portal, r.dataset_id, targets) for r in targets}
    with portal.catalog.transaction() as conn:
        for release in targets:
            portal.catalog.mark_purged(conn, release.id, reason.strip())
        for dataset, (current_id, _) in current.items():
            portal.catalog.set_current(conn, dataset, current_id)
        portal.catalog.audit(
            conn,
            actor=actor,
            action="purge",
            dataset_id=dataset_id,
            label=target.label,
            detail={
                "reason": reason.strip(),
                "release_id": target.id,
                "derived": [f"{r.dataset_id} {r.label}" for r in targets[1:]],
                "current_after": {d: lab for d, (_, lab) in current.items()},
            },
        )
    deleted, kept = _delete_files(portal, targets)
    _clear_spills(portal)
    portal.catalog.compact()
    return PurgeResult(tuple(targets), deleted, kept, {d: lab for d, (_, lab) in current.items()})


def _target(portal: Portal, dataset_id: str, label: str, release_id: int | None) -> Release:
    portal.dataset(dataset_id)
    candidates = [
        r
        for r in portal.catalog.releases(dataset_id)
        if r.label == label and r.status != "purged" and (release_id in (None, r.id))
    ]
    if not candidates:
        raise NotFound(
            f"Release {label} of '{dataset_id}' does not exist or is already purged.",
            detail={"dataset": dataset_id, "release": label},
        )
    if len(candidates) > 1:
        ids = ", ".join(f"{r.id} ({r.status})" for r in candidates)
        raise InvalidInput(
            f"'{dataset_id}' has {len(candidates)} releases labelled {label}: {ids}. Say which "
            "one to purge with --id.",
            detail={"parameter": "id", "allowed": [r.id for r in candidates]},
        )
    return candidates[0]


def _derived(portal: Portal, source: Release) -> list[Release]:
    """Releases made from ``source``'s rows: views derived from it (hate crimes from a
    contacts release), and later derived releases of its own dataset that carried its
    rows forward as history."""
    name = f"{_DERIVED_PREFIX}{source.dataset_id} {source.label}"
    views = [
        r
        for d in portal.catalog.datasets()
        if d.id != source.dataset_id
        for r in portal.catalog.releases(d.id)
        if r.source_name == name and r.status != "purged"
    ]
    carried = [
        r
        for r in portal.catalog.releases(source.dataset_id)
        if r.id != source.id
        and r.status != "purged"
        and r.source_name.startswith(_DERIVED_PREFIX)
        and r.created_at > source.created_at
        and _shares_rows(portal, source, r)
    ]
    return views + carried + _people(portal, source)


def _people(portal: Portal, source: Release) -> list[Release]:
    """The officers and subjects releases published with ``source`` (services/person_tables.py).

    Each is matched to the incident release of its label published nearest in time, so a
    withdrawn earlier version's people stay with that version.
    """
    incidents = [r for r in portal.catalog.releases(source.dataset_id) if r.label == source.label]
    found = []
    for role in ROLES:
        person_id = person_dataset_id(source.dataset_id, role)
        if portal.catalog.dataset(person_id) is None:
            continue
        for release in portal.catalog.releases(person_id):
            facts = release.report.get("facts", {})
            people_of = facts.get("people_of", {}) if isinstance(facts, dict) else {}
            if (
                release.label != source.label
                or release.status == "purged"
                or people_of.get("dataset") != source.dataset_id
            ):
                continue
            nearest = min(incidents, key=lambda r: abs(r.created_at - release.created_at))
            if nearest.id == source.id:
                found.append(release)
    return found


def _shares_rows(portal: Portal, source: Release, other: Release) -> bool:
    """Whether ``other``'s file holds any row of ``source`` (by primary key, else whole rows)."""
    mine = pl.read_parquet(portal.files.local_path(source.file_key)).drop(ROW_ID, strict=False)
    theirs = pl.read_parquet(portal.files.local_path(other.file_key)).drop(ROW_ID, strict=False)
    key = TableSchema.from_descriptor(source.schema).public_schema().primary_key
    on = [c for c in key if c in mine.columns and c in theirs.columns] or [
        c for c in mine.columns if c in theirs.columns
    ]
    if not on:
        return False
    return mine.select(on).join(theirs.select(on), on=on, how="semi").height > 0


def _current_after(
    portal: Portal, dataset_id: str, targets: list[Release]
) -> tuple[int | None, str | None]:
    dataset = portal.dataset(dataset_id)
    gone = {r.id for r in targets}
    if dataset.current_release_id not in gone:
        current = portal.catalog.release(dataset.current_release_id or 0)
        return dataset.current_release_id, current.label if current else None
    remaining = [r for r in portal.catalog.releases(dataset_id) if r.id not in gone]
    replacement = latest_published(remaining)
    return (replacement.id, replacement.label) if replacement else (None, None)


#: DuckDB spill files older than this belong to no running query.
_SPILL_AGE_SECONDS = 60


def _clear_spills(portal: Portal) -> None:
    """Remove DuckDB spill files a killed query left in the data directory (they hold rows)."""
    spills = portal.spill_directory
    if not spills.is_dir():
        return
    now = time.time()
    for path in spills.rglob("*"):
        if path.is_file() and now - path.stat().st_mtime > _SPILL_AGE_SECONDS:
            path.unlink(missing_ok=True)


def _delete_files(
    portal: Portal, targets: list[Release]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    deleted, kept = [], []
    for key in dict.fromkeys(r.file_key for r in targets):
        disclosure_tables.forget(key)
        reading.forget_file(key)
        if portal.catalog.file_in_use(key):
            kept.append(key)  # the same bytes are another release's, which stays
        else:
            # The serving copy holds the same rows (storage/serving.py); a running server
            # lets it go within seconds (ServingCopies.table).
            remove_copy(portal.serving_directory, portal.files.local_path(key))
            if portal.files.delete(key):
                deleted.append(key)
    return tuple(deleted), tuple(kept)
