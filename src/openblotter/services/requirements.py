"""What each analysis needs from a dataset, checked before it runs.

An analysis asked of a dataset that lacks a field it needs is refused with a
message that names the missing fields and what the dataset has (HTTP 400),
never left to fail inside a query. A field the schema marks as not recorded
by the agency (``notRecorded``: the family has it, the agency's file did not)
counts as missing: its values are all null.
"""

from __future__ import annotations

from collections.abc import Sequence

from openblotter.domain.errors import InvalidInput
from openblotter.domain.query.model import TEMPORAL_TYPES
from openblotter.domain.schema import TableSchema
from openblotter.services import reading
from openblotter.services.portal import Portal

#: One requirement: a field name, or alternatives of which any one is enough.
Need = str | tuple[str, ...]

#: A requirement met by any published date or datetime field (quarter, year and period filters).
A_DATE = "a date field"


def _recorded_names(schema: TableSchema) -> set[str]:
    return {f.name for f in schema.published_fields() if not f.not_recorded}


def _has_date(schema: TableSchema) -> bool:
    return any(f.type in TEMPORAL_TYPES and not f.not_recorded for f in schema.published_fields())


def _met(need: Need, names: set[str], schema: TableSchema) -> bool:
    options = (need,) if isinstance(need, str) else need
    return any(_has_date(schema) if o == A_DATE else o in names for o in options)


def _words(need: Need) -> str:
    return need if isinstance(need, str) else " or ".join(need)


def missing_fields(schema: TableSchema, needs: Sequence[Need]) -> list[str]:
    """The requirements ``schema`` does not meet, in words (``subject_age or subject_age_group``)."""
    names = _recorded_names(schema)
    return [_words(n) for n in needs if not _met(n, names, schema)]


def require_fields(
    portal: Portal,
    dataset_id: str,
    analysis: str,
    needs: Sequence[Need],
    filters: Sequence[tuple[str, str]] | None = None,
) -> None:
    """Refuse ``analysis`` of ``dataset_id`` (InvalidInput, HTTP 400) when a needed field is missing.

    ``filters`` may hold ``_release``: the release whose schema is checked.
    """
    release = [(k, v) for k, v in filters or [] if k == "_release"]
    schema = reading.target(portal, dataset_id, release).schema
    missing = missing_fields(schema, needs)
    if not missing:
        return
    dataset = portal.dataset(dataset_id)
    kind = f"the {dataset.family} family" if dataset.family else "a custom dataset"
    needed = [n for m in missing for n in m.split(" or ") if n != A_DATE]
    not_recorded = [f.name for f in schema.fields if f.not_recorded and f.name in needed]
    note = (
        f" The family has {', '.join(not_recorded)} but this agency's file does not record "
        f"{'it' if len(not_recorded) == 1 else 'them'}."
        if not_recorded
        else ""
    )
    them = "it" if len(missing) == 1 else "them"
    raise InvalidInput(
        f"Dataset '{dataset_id}' ({kind}) has no {' field, no '.join(missing)} field, which the "
        f"{analysis} needs.{note} Choose a dataset that records {them}, or publish this file "
        f"into a family with a mapping that says which of its columns hold {them}.",
        detail={
            "parameter": "dataset",
            "dataset": dataset_id,
            "analysis": analysis,
            "missing_fields": missing,
            "fields_needed": needed,
            "not_recorded": not_recorded,
            "fields": sorted(_recorded_names(schema)),
        },
    )
