"""Datasets published only as counts: rows withheld, small counts hidden so they stay hidden.

A portal lists such datasets in the ``aggregates_only_datasets`` setting. For them:

- rows, downloads, release files, row-level diffs and Data Packages are refused
  (403) with a message that points to the counts, by the service functions every
  door calls (:mod:`query`, :mod:`releases`, :mod:`harvest`), never by a door;
- facets, aggregates and analyses answer only from a fixed set of tables per
  release, protected together (:mod:`openblotter.services.disclosure_tables`,
  :mod:`openblotter.services.disclosure_serving`,
  :mod:`openblotter.services.disclosure_analyses`);
- the release manifest keeps its row-quoting report and row counts back.
"""

from __future__ import annotations

from typing import Any

from openblotter.analysis.suppression import Status
from openblotter.domain.errors import Forbidden
from openblotter.services.portal import Portal

#: The changelog's counts of rows between two releases.
ROW_CHANGES = ("added", "removed", "changed")


def aggregates_only(portal: Portal, dataset_id: str) -> bool:
    """Whether the dataset is published only as counts."""
    return portal.settings.aggregates_only(dataset_id)


def threshold_for(portal: Portal, dataset_id: str) -> int:
    """The suppression threshold of a dataset's analysis tables (0: no suppression)."""
    if aggregates_only(portal, dataset_id):
        return portal.settings.aggregates_threshold
    return portal.settings.suppression_threshold


def refuse_rows(portal: Portal, dataset_id: str) -> None:
    """Raise :class:`Forbidden` when the dataset's rows are not public."""
    if not aggregates_only(portal, dataset_id):
        return
    api = f"/api/v1/datasets/{dataset_id}"
    raise Forbidden(
        f"Dataset '{dataset_id}' is published only as counts: its rows, downloads and release "
        f"files are not public. Ask for counts instead, e.g. {api}/aggregate?_group=quarter "
        f"or {api}/facets?_facet=FIELD.",
        detail={
            "dataset": dataset_id,
            "access": "aggregates",
            "links": {"aggregate": f"{api}/aggregate", "facets": f"{api}/facets"},
        },
    )


def protect_manifest(portal: Portal, dataset_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """A release manifest without what counts or quotes rows, when the rows are not public.

    The validation report quotes rows by number and counts blanks and codes per
    field, and the changelog counts rows added, removed and changed: both stay
    with the publisher (``openblotter publish --report``, ``openblotter releases``).
    """
    if not aggregates_only(portal, dataset_id):
        return manifest
    return {
        **without_row_counts(manifest),
        "report": {
            "withheld": "This dataset is published only as counts; its validation report "
            "quotes and counts rows, so it is kept by the publisher."
        },
    }


#: Parts of a release summary that count rows by condition (blanks, codes, rules applied).
ROW_COUNTS = ("validation", "rules_applied")


def without_row_counts(summary: dict[str, Any]) -> dict[str, Any]:
    """A release summary without counts of rows outside the protected tables: the
    validation counts (blanks and codes per field), the rules applied, the row changes."""
    kept = {k: v for k, v in summary.items() if k not in ROW_COUNTS}
    if "validation" in summary:
        kept["validation"] = {"ok": (summary["validation"] or {}).get("ok")}
    if "changelog" in summary:
        kept["changelog"] = without_row_changes(summary.get("changelog"))
    return kept


def without_row_changes(changelog: dict[str, Any] | None) -> dict[str, Any]:
    """A changelog without its counts of rows added, removed and changed (counts of rows too)."""
    return {k: v for k, v in (changelog or {}).items() if k not in ROW_CHANGES}


def hidden_row(
    row: dict[str, Any], figures: tuple[str, ...], status: Status, **extra: Any
) -> dict[str, Any]:
    """``row`` with ``figures`` blanked and marked ``suppressed``; unchanged when published."""
    if status == "published":
        return row
    return {**row, **dict.fromkeys(figures), "suppressed": status, **extra}
