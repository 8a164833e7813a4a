"""Views derived from another family's release: hate crimes from contacts.

Since 2021 hate crimes are part of Contacts. When a contacts release for a
quarter on or after the derived family's ``since`` date is published, the
rows with a bias motivation are published as the same quarter's release of
the hate-crime dataset, so the hate-crime history continues where its own
releases stopped and both views exist.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import polars as pl

from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import Dataset
from openblotter.domain.report import ValidationReport
from openblotter.ingest.families import derive_rows, list_families
from openblotter.services.portal import Portal
from openblotter.services.storing import NewRelease, store_release


def derived_dataset_id(source_id: str, family: str) -> str:
    """``contacts`` -> ``hate_crimes``; ``seattle_contacts`` -> ``seattle_contacts_hate_crimes``."""
    return family if source_id == "contacts" else f"{source_id}_{family}"


def publish_derived_views(
    portal: Portal, source: Dataset, quarter: Quarter, conformed: pl.DataFrame, actor: str
) -> list[str]:
    """Publish every view derived from ``source``'s family for ``quarter``; returns their ids."""
    if source.family is None:
        return []
    published = []
    for family in list_families():
        spec = family.derived_from
        if not spec or spec.get("family") != source.family:
            continue
        since = date.fromisoformat(spec.get("since", "1900-01-01"))
        if quarter.start < since:
            continue
        dataset_id = derived_dataset_id(source.id, family.name)
        labels = {r.label for r in portal.catalog.releases(dataset_id) if r.status != "withdrawn"}
        if quarter.label in labels:
            continue  # published from its own file for this quarter: that one stands
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
        report = ValidationReport(source=f"{source.id} {quarter.label}")
        report.facts.update(
            {"derived_from": {"dataset": source.id, "release": quarter.label}, "rows": rows.height}
        )
        store_release(
            portal,
            NewRelease(
                dataset=replace(dataset),
                quarter=quarter,
                frame=rows,
                schema=family.schema,
                report=report,
                source_name=f"derived from {source.id} {quarter.label}",
                source_checksum="",
                actor=actor,
            ),
        )
        published.append(dataset_id)
    return published
