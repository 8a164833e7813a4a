"""Views derived from another family's release: hate crimes from contacts.

Since 2021 hate crimes are part of Contacts. When a contacts release for a
quarter on or after the derived family's ``since`` date is published, the
rows with a bias motivation are published as the same quarter's release of
the hate-crime dataset, so the hate-crime history continues where its own
releases stopped and both views exist. A release is a complete snapshot, so a
derived release also carries the rows dated before ``since`` of the newest
release published from the family's own files, as they were published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import Dataset
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.families import Family, derive_rows, list_families
from openblotter.services.portal import Portal
from openblotter.services.storing import (
    NewRelease,
    Prepared,
    Stored,
    commit_releases,
    prepare_release,
)

#: How a derived release names its source (``derived from contacts 2021-Q1``).
DERIVED_PREFIX = "derived from "


def derived_dataset_id(source_id: str, family: str) -> str:
    """``contacts`` -> ``hate_crimes``; ``seattle_contacts`` -> ``seattle_contacts_hate_crimes``."""
    return family if source_id == "contacts" else f"{source_id}_{family}"


def store_with_derived_views(
    portal: Portal, new: NewRelease, conformed: pl.DataFrame, also: Sequence[NewRelease] = ()
) -> Stored:
    """Store a release, the releases published ``also`` with it (its person tables) and the
    views derived from it, made current in one catalog transaction.

    A kill before that transaction leaves them all on their previous release (files
    already stored are orphans, removed on the next start); a retry publishes them all.
    """
    source = prepare_release(portal, new)
    companions = [prepare_release(portal, release) for release in also]
    views = prepare_derived_views(portal, new.dataset, new.quarter, conformed, new.actor)
    return commit_releases(portal, [source, *companions, *views])[0]


def prepare_derived_views(
    portal: Portal, source: Dataset, quarter: Quarter, conformed: pl.DataFrame, actor: str
) -> list[Prepared]:
    """The stored, not yet recorded, releases of every view derived from ``source`` for
    ``quarter`` (none when the family has no derived view or the quarter is before it)."""
    if source.family is None:
        return []
    prepared = []
    for family in list_families():
        spec = family.derived_from
        if not spec or spec.get("family") != source.family:
            continue
        new = _derived_release(portal, family, spec, source, quarter, conformed, actor)
        if new is not None:
            prepared.append(prepare_release(portal, new))
    return prepared


def _derived_release(
    portal: Portal,
    family: Family,
    spec: dict[str, Any],
    source: Dataset,
    quarter: Quarter,
    conformed: pl.DataFrame,
    actor: str,
) -> NewRelease | None:
    since = date.fromisoformat(spec.get("since", "1900-01-01"))
    if quarter.start < since:
        return None
    dataset_id = derived_dataset_id(source.id, family.name)
    labels = {r.label for r in portal.catalog.releases(dataset_id) if r.status != "withdrawn"}
    if quarter.label in labels:
        return None  # published from its own file for this quarter: that one stands
    rows = derive_rows(family, conformed)
    existing = portal.catalog.dataset(dataset_id)
    now = datetime.now(UTC)
    dataset = Dataset(
        id=dataset_id,
        title=existing.title if existing else f"{family.title} (from {source.title})",
        family=family.name,
        description=existing.description if existing else str(spec.get("description", "")),
        schema=family.schema.to_descriptor(),
        created_at=existing.created_at if existing else now,
        updated_at=now,
        synthetic=source.synthetic,
    )
    carried = _history_before(portal, dataset_id, since, family.schema, rows)
    report = ValidationReport(source=f"{source.id} {quarter.label}")
    report.facts.update(
        {
            "derived_from": {"dataset": source.id, "release": quarter.label},
            "rows": rows.height,
            "carried_from_own_releases": carried.height if carried is not None else 0,
        }
    )
    return NewRelease(
        dataset=dataset,
        quarter=quarter,
        frame=rows,
        schema=family.schema,
        report=report,
        source_name=f"{DERIVED_PREFIX}{source.id} {quarter.label}",
        source_checksum="",
        actor=actor,
        carried=carried,
    )


def _history_before(
    portal: Portal, dataset_id: str, since: date, schema: TableSchema, derived: pl.DataFrame
) -> pl.DataFrame | None:
    """The rows dated before ``since`` of the newest release published from the family's own
    files, so a derived release stays a complete snapshot (the pre-``since`` history included).

    Rows whose key the derived rows also hold are left to the derived rows.
    """
    own = [
        r
        for r in portal.catalog.releases(dataset_id)
        if r.public and not r.source_name.startswith(DERIVED_PREFIX)
    ]
    if not own:
        return None
    date_field = (schema.model_extra or {}).get("dateField")
    history = pl.read_parquet(portal.release_path(own[-1]))
    if date_field in history.columns:
        history = history.filter(pl.col(date_field) < since)
    key = [k for k in schema.public_schema().primary_key if k in history.columns]
    if key and set(key) <= set(derived.columns):
        history = history.join(derived.select(key).unique(), on=key, how="anti")
    return history
