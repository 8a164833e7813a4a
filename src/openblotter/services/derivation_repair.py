"""Derived views left behind their source by a publish stopped midway (issue 17).

Before publishes were atomic, a publish killed between the contacts commit and
the hate-crimes derivation left contacts at 2026-Q4 and hate crimes at 2026-Q3,
and publishing 2026-Q4 again was refused ("already exists"). Here such a gap is
found (``openblotter serve`` reports it at start) and completed by
``openblotter repair``: the missing view is derived from the source release as
it was published, scrubbed and stored as a publish would, and made current in
one catalog transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from openblotter.domain.quarters import Quarter
from openblotter.domain.releases import ROW_ID
from openblotter.ingest.conform import ROW
from openblotter.ingest.families import list_families
from openblotter.services.derived import derived_dataset_id, prepare_derived_views
from openblotter.services.portal import Portal
from openblotter.services.storing import Stored, commit_releases


@dataclass(frozen=True)
class MissingDerivation:
    """A published source release whose derived view has no release of the same quarter."""

    source: str
    derived: str
    label: str

    def describe(self) -> str:
        """One sentence for the operator: what is missing and what to run."""
        return (
            f"{self.derived} has no release {self.label}, though {self.source} {self.label} is "
            f"published (a publish stopped before deriving it). Run `openblotter repair` to "
            f"derive it from {self.source} {self.label}."
        )


def missing_derivations(portal: Portal) -> list[MissingDerivation]:
    """Every published source release (on or after its view's ``since``) whose derived view
    has no release of that quarter. A derived release withdrawn on purpose is not missing."""
    missing = []
    for dataset in portal.catalog.datasets():
        for family in list_families():
            spec = family.derived_from
            if dataset.family is None or not spec or spec.get("family") != dataset.family:
                continue
            since = date.fromisoformat(spec.get("since", "1900-01-01"))
            derived = derived_dataset_id(dataset.id, family.name)
            present = {r.label for r in portal.catalog.releases(derived)}
            missing += [
                MissingDerivation(dataset.id, derived, r.label)
                for r in portal.catalog.releases(dataset.id)
                if r.public and r.label not in present and Quarter.parse(r.label).start >= since
            ]
    return missing


def complete_derivations(portal: Portal, *, actor: str = "repair") -> list[Stored]:
    """Derive every missing view from its source release as published; each source release's
    views are stored and made current together, in one catalog transaction."""
    portal.settings.require_safe()  # scrubbing a view uses the portal's salt
    stored: list[Stored] = []
    for source, label in dict.fromkeys((m.source, m.label) for m in missing_derivations(portal)):
        release = portal.release(source, label)
        published = pl.read_parquet(portal.release_path(release))
        # The published rows, in the shape a publish derives from (its row numbers).
        rows = published.drop(ROW_ID).with_row_index(ROW, offset=1)
        views = prepare_derived_views(
            portal, portal.dataset(source), Quarter.parse(label), rows, actor
        )
        if views:
            stored += commit_releases(portal, views)
    return stored
