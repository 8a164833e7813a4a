"""A dry run of a publish (``openblotter publish --check``): everything but storing.

The file is read, mapped, validated and typed exactly as a publish would; the
result shows the schema (inferred or mapped), the privacy treatment of every
column as the schema states it, and a sample of the rows as they would become
public (scrubbed). Nothing is written: no release file, no catalog row, no
audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import SchemaField, TableSchema
from openblotter.ingest.conform import ROW
from openblotter.ingest.privacy import scrub
from openblotter.services.portal import Portal
from openblotter.services.publishing import Progress, PublishRequest, validate

#: Rows of the public sample a dry run shows.
SAMPLE_ROWS = 5


@dataclass
class CheckResult:
    """What a publish would do with a file: report, schema, treatments and a public sample."""

    report: ValidationReport
    schema: TableSchema
    schema_inferred: bool
    family: str | None
    columns: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    #: The dataset is published only as counts: no row becomes public, so none is sampled.
    counts_only: bool = False
    #: Person tables the mapping splits out (officers, subjects), published with the file.
    people: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "stored": False,
            "family": self.family,
            "schema_inferred": self.schema_inferred,
            "primary_key": self.schema.primary_key,
            "columns": self.columns,
            "sample": self.sample,
            "counts_only": self.counts_only,
            "people": self.people,
        }


def _treatment(f: SchemaField, free_text_allowed: bool) -> str:
    if f.free_text and f.privacy is None:
        return "masked free text" if free_text_allowed else "withheld (free text not published)"
    return f.privacy_label() or "published as recorded"


def _column(f: SchemaField, free_text_allowed: bool) -> dict[str, Any]:
    published_as = (f.privacy.published_as or f.name) if f.privacy else f.name
    treatment = _treatment(f, free_text_allowed)
    return {
        "name": f.name,
        "source": f.title if f.title and f.title != f.name else None,
        "type": f.type,
        "categorical": f.categorical or bool(f.enum),
        "recorded": not f.not_recorded,
        "privacy": treatment,
        "public": not treatment.startswith(("dropped", "withheld")),
        "published_as": published_as,
    }


def check(portal: Portal, request: PublishRequest, progress: Progress | None = None) -> CheckResult:
    """Validate ``request`` as a publish would and show what would become public; store nothing."""
    checked = validate(portal, request, progress)
    schema = checked.prepared.schema
    allowed = {
        f.name
        for f in schema.fields
        if f.free_text and portal.settings.free_text_allowed(request.dataset_id, f.name)
    }
    result = CheckResult(
        report=checked.report,
        schema=schema,
        schema_inferred=checked.prepared.inferred,
        family=checked.prepared.family,
        columns=[_column(f, f.name in allowed) for f in schema.fields],
        people=[
            {"dataset": p.dataset_id, "role": p.role, "rows": p.frame.height}
            for p in checked.people
        ],
    )
    result.counts_only = portal.settings.aggregates_only(request.dataset_id)
    if checked.frame.height and not result.counts_only:
        scrubbed = scrub(
            checked.frame.head(SAMPLE_ROWS),
            schema,
            salt=portal.settings.salt.get_secret_value(),
            free_text_allowed=allowed,
            reference_date=checked.quarter.end,
        )
        public = scrubbed.frame.drop(ROW, strict=False)
        result.sample = public.to_dicts()
    return result
