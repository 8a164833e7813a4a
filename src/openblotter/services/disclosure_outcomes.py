"""Outcome tables of a counts-only dataset, from its protected tables only.

The same tables as :func:`openblotter.services.outcomes.outcomes` where a
protected table holds them: a count table per coded column (complaints by
channel, allegations by finding, force by type, contacts by role and outcome),
and bias motivations by year and category. Every count is of rows; a hidden
cell has no count and no share. The sustained rates by complainant group are
left out: an allegation count per group is a sum of cells of the finding by
group table, which no published table holds. Filters are refused (the tables
are of the whole release).
"""

from __future__ import annotations

from typing import Any

from openblotter.analysis.caveats import FINDINGS_ARE_ABOUT_ALLEGATIONS, SMALL_NUMBERS
from openblotter.domain.errors import InvalidInput
from openblotter.services import disclosure_serving
from openblotter.services.disclosure_analyses import COUNTS_ONLY_UNIT
from openblotter.services.disclosure_tables import YEAR, counts_tables
from openblotter.services.funnel import SUPPRESSED, release_label
from openblotter.services.portal import Portal

#: Per family: (key, title, column) of each count table.
COUNT_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "complaints": (
        ("received_channel", "Complaints by how they were received", "received_channel"),
        ("anonymous", "Anonymous complaints", "anonymous"),
        ("third_party", "Complaints made by a third party", "third_party"),
        ("finding", "Allegations by finding", "finding"),
    ),
    "use_of_force": (
        ("force_type", "Force by type", "force_type"),
        ("subject_injured", "Force applications by the person's injury", "subject_injured"),
    ),
    "contacts": (
        ("subject_role", "Contacts by the person's role", "subject_role"),
        ("outcome", "Contacts by outcome", "outcome"),
    ),
    "hate_crimes": (),
}
_BIAS = "bias_category"
_NO_BIAS = "None (no bias)"
NOT_RECORDED = "Not recorded"


def outcomes(portal: Portal, dataset_id: str, filters: list[tuple[str, str]]) -> dict[str, Any]:
    """The outcome tables (the outcomes service's shape) from the protected tables."""
    dataset = portal.dataset(dataset_id)
    if dataset.family not in COUNT_TABLES:
        raise InvalidInput(
            f"'{dataset_id}' is not a complaints, use of force, contacts or hate crimes dataset; "
            "outcomes are counted for those families.",
            detail={"parameter": "dataset"},
        )
    label = release_label(filters)
    tables = counts_tables(portal, dataset_id, label)
    asked = [(k, v) for k, v in filters if k != "_release"]
    if asked:
        raise InvalidInput(
            f"Dataset '{dataset_id}' is published only as counts; its outcome tables are of the "
            f"whole release, so filters ({', '.join(k for k, _ in asked)}) are not available.",
            detail={"dataset": dataset_id, "access": "aggregates"},
        )
    release = [("_release", label)] if label else []
    built = [
        _count_table(portal, dataset_id, release, key, title, column, tables.total)
        for key, title, column in COUNT_TABLES.get(dataset.family or "", ())
        if column in tables.dimensions
    ]
    if dataset.family in ("contacts", "hate_crimes") and tables.table([YEAR, _BIAS]):
        built.append(_bias_table(portal, dataset_id, release))
    hidden = sum(1 for t in built for row in t["rows"] if row["suppressed"])
    caveats = [FINDINGS_ARE_ABOUT_ALLEGATIONS] if dataset.family == "complaints" else []
    caveats += [SMALL_NUMBERS] + ([SUPPRESSED] if hidden else [])
    return {
        "dataset": dataset_id,
        "family": dataset.family,
        "release": tables.release,
        "filters": [],
        "tables": {t["key"]: t for t in built},
        "suppression_threshold": portal.settings.aggregates_threshold,
        "small_number_threshold": portal.settings.small_number_threshold,
        "suppressed_cells": hidden,
        "caveats": [c.to_dict() for c in caveats],
        "suppression": disclosure_serving.suppression(portal, hidden),
        "synthetic": dataset.synthetic,
    }


def _label(value: Any) -> Any:
    if value is None or value == "":
        return NOT_RECORDED
    return {True: "Yes", False: "No"}.get(value, value) if isinstance(value, bool) else value


def _count_table(
    portal: Portal,
    dataset_id: str,
    release: list[tuple[str, str]],
    key: str,
    title: str,
    column: str,
    total: int,
) -> dict[str, Any]:
    counts, hidden = disclosure_serving.analysis_table(portal, dataset_id, [column], release)
    shown = sorted((k for k in counts if k not in hidden), key=lambda k: (-counts[k], str(k[0])))
    rows = [
        {"value": _label(k[0]), "count": counts[k], "share": counts[k] / total, "suppressed": None}
        for k in shown
    ]
    rows += [
        {"value": _label(k[0]), "count": None, "share": None, "suppressed": "primary"}
        for k in sorted(hidden, key=lambda k: str(_label(k[0])))
    ]
    return {
        "key": key,
        "title": title,
        "kind": "counts",
        "dimensions": [column],
        "unit": COUNTS_ONLY_UNIT,
        "total": total,
        "rows": rows,
    }


def _bias_table(portal: Portal, dataset_id: str, release: list[tuple[str, str]]) -> dict[str, Any]:
    counts, hidden = disclosure_serving.analysis_table(portal, dataset_id, [YEAR, _BIAS], release)
    cells = sorted((k for k in counts if k[1] != _NO_BIAS), key=lambda k: (k[0], str(_label(k[1]))))
    rows = [
        {
            "year": k[0],
            "bias_category": _label(k[1]),
            "count": None if k in hidden else counts[k],
            "suppressed": "primary" if k in hidden else None,
        }
        for k in cells
    ]
    # The total leaves the "no bias" cells out: a sum no table holds when a cell is hidden.
    total = None if any(r["suppressed"] for r in rows) else sum(r["count"] for r in rows)
    return {
        "key": "bias_by_year",
        "title": "Offenses with a bias motivation, by category and year",
        "kind": "crosstab",
        "dimensions": ["year", "bias_category"],
        "unit": COUNTS_ONLY_UNIT,
        "total": total,
        "rows": rows,
    }
