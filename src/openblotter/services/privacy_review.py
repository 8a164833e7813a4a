"""Privacy is decided before anything is public: the review of a new layout's columns.

The column detectors (``ingest/detectors.py``) propose a treatment for each
column of a schema that no publisher has reviewed yet (an inferred schema, or
fields of a ``--schema`` file without a privacy marker). A proposal that
changes what is published needs the publisher's word: ``--accept-privacy``
after reading it, or a schema file that states the treatment (``keep`` with a
reason publishes a column as recorded). Without it the publish stops before
anything is stored and lists every column's proposal.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openblotter.domain.errors import InvalidInput
from openblotter.domain.report import ValidationReport
from openblotter.domain.schema import TableSchema
from openblotter.ingest.detectors import (
    ColumnProposal,
    apply_proposals,
    describe,
    propose_treatments,
)


@dataclass(frozen=True)
class Review:
    """What a publish asks of the review: the dataset, the file, and whether it is confirmed."""

    dataset_id: str
    source: str
    accepted: bool
    #: Fields whose treatment a publisher already decided (schema file markers, earlier releases).
    decided: frozenset[str] = frozenset()


def review_privacy(
    schema: TableSchema, frame: pl.DataFrame, review: Review, report: ValidationReport
) -> TableSchema:
    """``schema`` with the confirmed treatments; raises ``InvalidInput`` when unconfirmed."""
    proposals = propose_treatments(schema, frame)
    pending = [p for p in proposals if p.protects and p.field not in review.decided]
    report.facts["privacy_review"] = {
        "proposals": [p.to_dict() for p in proposals if p.finding],
        "confirmed_by": "--accept-privacy" if pending else "nothing left to confirm",
    }
    if pending and not review.accepted:
        raise InvalidInput(_message(review, proposals, pending), detail=_detail(review, proposals))
    return apply_proposals(schema, proposals, only={p.field for p in pending})


def decided_fields(schema: TableSchema) -> frozenset[str]:
    """Fields of a publisher's schema whose privacy is stated (a marker, or free text)."""
    return frozenset(f.name for f in schema.fields if f.privacy is not None or f.free_text)


def _message(review: Review, proposals: list[ColumnProposal], pending: list[ColumnProposal]) -> str:
    return (
        f"{review.source}: nothing was published. Dataset '{review.dataset_id}' has a layout whose "
        f"privacy no one has confirmed yet, and {len(pending)} column(s) look personal. "
        "Proposed treatment of each column:\n"
        f"{describe(proposals)}\n"
        "To publish with these treatments, run the same command again with --accept-privacy. "
        "To decide otherwise, write each column's treatment in a Table Schema file "
        '("privacy": {"treatment": "drop" | "hash" | "generalize" | "keep", "reason": "..."}; '
        "see docs/privacy.md) and publish with --schema FILE."
    )


def _detail(review: Review, proposals: list[ColumnProposal]) -> dict[str, object]:
    return {
        "file": review.source,
        "dataset": review.dataset_id,
        "privacy_proposals": [p.to_dict() for p in proposals],
        "confirm_with": "--accept-privacy",
    }
