"""Person tables published with their incident dataset (``[[people]]`` in a mapping).

When a mapping splits the officers or subjects packed in an incident's cells
into rows of their own (ingest.mapping.people), the publish stores them as
datasets of their own, ``<dataset>_officers`` and ``<dataset>_subjects``, of the
families ``use_of_force_officers`` and ``use_of_force_subjects``, as the same
quarter's release, from the same file. They are conformed and validated with
the incident table, and nothing is stored unless all of them are valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import Dataset, check_dataset_id, check_new_label
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.conform import conform
from openblotter.ingest.families import load_family
from openblotter.ingest.mapping.model import PersonTable
from openblotter.ingest.mapping.people import ROLES
from openblotter.services.portal import Portal
from openblotter.services.storing import NewRelease, store_release


@dataclass
class ConformedPeople:
    """One role's people, typed and validated, with the dataset they are published as."""

    dataset_id: str
    role: str
    family: str
    frame: pl.DataFrame
    schema: TableSchema
    report: ValidationReport


def person_dataset_id(dataset_id: str, role: str) -> str:
    """``orlando_use_of_force`` + officers -> ``orlando_use_of_force_officers``."""
    return f"{dataset_id}_{role}"


def conform_people(
    portal: Portal,
    dataset_id: str,
    label: str,
    people: list[PersonTable],
    report: ValidationReport,
    *,
    allow_invalid: bool = False,
) -> list[ConformedPeople]:
    """Conform each person table; its problems are added to the publish's ``report`` too,
    so the publisher reads one report. Refuses a label a person dataset already has."""
    conformed = []
    for table in people:
        person_id = person_dataset_id(dataset_id, table.role)
        check_dataset_id(person_id)
        check_new_label(label, portal.catalog.releases(person_id))
        own = ValidationReport(source=f"{report.source} ({table.role})")
        result = conform(table.frame, table.schema, own, allow_invalid=allow_invalid)
        for group in own.groups.values():
            report.add_counted(group.code, group.severity, group.count, group.examples)
        own.facts.update({"rows": result.frame.height})
        conformed.append(
            ConformedPeople(person_id, table.role, table.family, result.frame, table.schema, own)
        )
    if conformed:
        report.facts["people"] = {
            c.role: {"dataset": c.dataset_id, "rows": c.frame.height} for c in conformed
        }
    return conformed


def people_published_with(portal: Portal, dataset_id: str, label: str) -> list[str]:
    """The person datasets whose ``label`` release was published with ``dataset_id``'s
    (a withdrawal or rollback of the incident release takes them down too)."""
    found = []
    for role in ROLES:
        person_id = person_dataset_id(dataset_id, role)
        if portal.catalog.dataset(person_id) is None:
            continue
        for release in portal.catalog.releases(person_id):
            facts = release.report.get("facts", {})
            people_of = facts.get("people_of", {}) if isinstance(facts, dict) else {}
            if (
                release.label == label
                and release.status == "published"
                and people_of.get("dataset") == dataset_id
            ):
                found.append(person_id)
    return found


def publish_people(
    portal: Portal,
    source: Dataset,
    quarter: Quarter,
    people: list[ConformedPeople],
    report: ValidationReport,
    actor: str,
) -> list[str]:
    """Store each person table as ``quarter``'s release of its dataset; returns their ids."""
    releases = person_releases(portal, source, quarter, people, report, actor)
    for new in releases:
        store_release(portal, new)
    return [new.dataset.id for new in releases]


def person_releases(
    portal: Portal,
    source: Dataset,
    quarter: Quarter,
    people: list[ConformedPeople],
    report: ValidationReport,
    actor: str,
) -> list[NewRelease]:
    """The releases to store for the person tables (built before any is stored, so a
    mechanism that stores several releases in one transaction can take them as they are)."""
    releases = []
    for table in people:
        existing = portal.catalog.dataset(table.dataset_id)
        family = load_family(table.family)
        now = datetime.now(UTC)
        dataset = Dataset(
            id=table.dataset_id,
            title=existing.title if existing else f"{source.title}: {table.role}",
            family=table.family,
            description=existing.description
            if existing
            else f"The {table.role} of each incident of '{source.title}', one row per person, "
            f"published with it from the same file. {family.prose.summary.splitlines()[0]}",
            schema=table.schema.to_descriptor(),
            created_at=existing.created_at if existing else now,
            updated_at=now,
            mapping=source.mapping,
            synthetic=source.synthetic,
        )
        table.report.facts.update(
            {
                "people_of": {"dataset": source.id, "role": table.role},
                "rules_applied": report.facts.get("rules_applied", []),
            }
        )
        releases.append(
            NewRelease(
                dataset=dataset,
                quarter=quarter,
                frame=table.frame,
                schema=table.schema,
                report=table.report,
                source_name=str(report.facts.get("file", report.source)),
                source_checksum="",
                actor=actor,
            )
        )
    return releases
