"""The registry of analyses: every door (API, pages, CLI) is made from this one list.

:func:`run` takes raw query parameters (the analysis's own and, for the rest, the query API's
filters), refuses what a counts-only dataset must not give, and returns the typed result;
:func:`analysis_csv` writes an analysis's table as spreadsheet-safe CSV.
"""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
from collections.abc import Mapping
from typing import Any

from openblotter.domain.errors import NotFound
from openblotter.services import analyses, disclosure_analyses, metadata, reading
from openblotter.services.analyses.base import Analysis, Filters, Result, split
from openblotter.services.portal import Portal
from openblotter.services.requirements import missing_fields

#: The modules of this package that are not analyses.
_NOT_ANALYSES = frozenset({"base", "registry"})


def _discover() -> dict[str, Analysis]:
    """Every module of this package declares one ``ANALYSIS``: adding an analysis is adding its
    module (no list to edit here). Ordered as the pages list them (``Analysis.order``)."""
    found = []
    for module in pkgutil.iter_modules(analyses.__path__):
        if module.name not in _NOT_ANALYSES:
            found.append(importlib.import_module(f"{analyses.__name__}.{module.name}").ANALYSIS)
    names = [a.name for a in found]
    if len(set(names)) != len(names):  # a copied module left with its original's name
        raise RuntimeError(f"Two analyses share a name: {sorted(names)}.")
    return {a.name: a for a in sorted(found, key=lambda a: (a.order, a.name))}


#: Every analysis, in the order the pages list them.
ANALYSES: dict[str, Analysis] = _discover()


def analysis(name: str) -> Analysis:
    """One analysis by name, or a 404 naming them all."""
    if name not in ANALYSES:
        raise NotFound(f"There is no analysis '{name}'; choose {', '.join(ANALYSES)}.")
    return ANALYSES[name]


def run(portal: Portal, name: str, raw: Filters) -> Result:
    """One analysis from raw query parameters: its own, and the rest as the query API's filters."""
    spec = analysis(name)
    params, filters, _ = split(spec.params, raw)
    _guard(portal, spec, params.dataset)
    return spec.run(portal, params, filters)


def run_page(portal: Portal, name: str, raw: Filters) -> Result:
    """As :func:`run`, the page's way: a page may choose a parameter left out (funnel's unit)."""
    spec = analysis(name)
    params, filters, given = split(spec.params, raw)
    _guard(portal, spec, params.dataset)
    if spec.page_run is not None:
        return spec.page_run(portal, params, filters, given)
    return spec.run(portal, params, filters)


def datasets(portal: Portal, spec: Analysis) -> list[dict[str, Any]]:
    """The catalog entries of the published datasets an analysis's page offers: of its
    families (any, when it names none), with the fields it needs."""
    entries = [
        e
        for e in metadata.catalog(portal)
        if e["current_release"] and (not spec.families or e["family"] in spec.families)
    ]
    if not spec.needs:
        return entries
    return [
        e
        for e in entries
        if not missing_fields(reading.target(portal, e["id"], []).schema, spec.needs)
    ]


def _guard(portal: Portal, spec: Analysis, dataset_id: str) -> None:
    """Refuse, before any work, an analysis whose counts-only protection is a refusal."""
    if spec.counts_only.policy == "refused":
        disclosure_analyses.refuse_analysis(portal, dataset_id, spec.counts_only.noun)


def csv_analyses() -> list[str]:
    """The analyses whose table can be downloaded as CSV."""
    return [name for name, spec in ANALYSES.items() if spec.csv_rows is not None]


def analysis_csv(name: str, result: Result | Mapping[str, Any]) -> str:
    """The analysis table as CSV, numbers unrounded; text cells a spreadsheet would run as
    formulas start with '."""
    spec = analysis(name)
    if spec.csv_rows is None:
        raise NotFound(
            f"The {name} analysis has no table to download; choose {', '.join(csv_analyses())}."
        )
    rows = spec.csv_rows(result)
    header = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(row.get(k)) for k in header] for row in rows])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
