"""Catalog cards, release history, charts and diffs as the pages show them (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openblotter.domain.formats import XLSX_MAX_ROWS
from openblotter.services import harvest
from openblotter.web.presenters import (
    CHART_FIELD_LIMIT,
    CHART_TOP_VALUES,
    Pairs,
    as_text,
    categorical_fields,
    facet_values,
    format_links,
    query_string,
)

# --- catalog -------------------------------------------------------------------------------


def search_catalog(
    entries: Sequence[dict[str, Any]], text: str, family: str
) -> list[dict[str, Any]]:
    """Catalog entries whose words contain every word of ``text``, of ``family`` when given."""
    words = text.casefold().split()
    out = []
    for entry in entries:
        if family and (entry.get("family") or "custom") != family:
            continue
        haystack = " ".join(
            str(entry.get(k) or "") for k in ("id", "title", "description", "family", "summary")
        ).casefold()
        if all(word in haystack for word in words):
            out.append(entry)
    return out


def family_choices(
    entries: Sequence[dict[str, Any]], titles: dict[str, str]
) -> list[dict[str, str]]:
    """The families present in the catalog, for the catalog's filter dropdown."""
    names = sorted({entry.get("family") or "custom" for entry in entries})
    return [
        {"value": n, "label": titles.get(n, "Other datasets" if n == "custom" else n)}
        for n in names
    ]


# --- release history and downloads -----------------------------------------------------------


def release_downloads(dataset_id: str, label: str, row_count: int | None) -> list[dict[str, Any]]:
    """Every format of one release: the API exports and the stored Parquet file."""
    links = format_links(f"/api/v1/datasets/{dataset_id}/rows", [("_release", label)], row_count)
    links.append(
        {
            "format": "file",
            "label": "Stored file (Parquet)",
            "available": True,
            "href": f"/api/v1/datasets/{dataset_id}/releases/{label}/file.parquet",
        }
    )
    return links


def release_history(
    dataset_id: str, releases: Sequence[dict[str, Any]], *, rows_public: bool = True
) -> list[dict[str, Any]]:
    """Releases newest first, each with its downloads and a link to what changed since the last.

    A dataset published only as counts lists its releases without downloads or row changes.
    """
    published = {r["label"] for r in releases if r["status"] == "published"}
    if not rows_public:
        return [
            {**r, "diff_href": None, "changes": {}, "downloads": [], "xlsx_note": ""}
            for r in releases
        ]
    out = []
    for release in releases:
        changelog = release.get("changelog") or {}
        previous = changelog.get("previous")
        diff_href = (
            f"/datasets/{dataset_id}/releases/{previous}/diff/{release['label']}"
            if previous in published and release["label"] in published
            else None
        )
        out.append(
            {
                **release,
                "diff_href": diff_href,
                "changes": {
                    k: changelog.get(k)
                    for k in ("added", "removed", "changed")
                    if isinstance(changelog.get(k), int)
                },
                "downloads": release_downloads(
                    dataset_id, release["label"], release.get("row_count")
                )
                if release["status"] == "published"
                else [],
                "xlsx_note": xlsx_note(release.get("row_count")),
            }
        )
    return out


def xlsx_note(row_count: int | None) -> str:
    """Why a release has no Excel download (more rows than a sheet holds), or nothing."""
    if row_count is not None and row_count > XLSX_MAX_ROWS:
        return f"Excel sheets hold {XLSX_MAX_ROWS:,} rows; use CSV or Parquet for this release."
    return ""


# --- charts --------------------------------------------------------------------------------


def chart_candidates(
    descriptor: dict[str, Any], fields: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Fields worth a breakdown: the schema's ``chartFields``, else its coded fields."""
    by_name = {f["name"]: f for f in fields}
    named = descriptor.get("chartFields")
    if isinstance(named, list) and named:
        return [by_name[n] for n in named if n in by_name]
    coded = [f for f in categorical_fields(fields) if f["type"] != "boolean"]
    return [f for f in coded if f.get("allowed_values")] + [
        f for f in coded if not f.get("allowed_values")
    ]


def chart_fields(
    candidates: Sequence[dict[str, Any]], facets: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The candidates with more than one value (at most CHART_FIELD_LIMIT), and those with one.

    A field where every row has the same value (often "Unknown") makes an empty chart;
    the page names it and its one value instead.
    """
    if facets is None:  # no counts (the filters were refused): the first candidates
        return list(candidates[:CHART_FIELD_LIMIT]), []
    chosen: list[dict[str, Any]] = []
    uniform: list[dict[str, str]] = []
    for field in candidates:
        values, left_out = facet_values(facets, field["name"])
        if len(values) + left_out > 1:
            chosen.append(field)
        elif values:
            uniform.append(
                {
                    "title": field.get("title") or field["name"],
                    "value": as_text(values[0]["value"]) or "(blank)",
                }
            )
    return chosen[:CHART_FIELD_LIMIT], uniform


def breakdown(facets: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """A field's most common values (by count) and the rest summed, with shares of all rows.

    A hidden count (a dataset published only as counts) stays None, and so does the rest
    when a hidden count is among the values shown: it would give the hidden one away.
    """
    values, left_out = facet_values(facets, name)
    given = (facets or {}).get("total")
    total = None if given is None and facets else int(given or 0)
    top = values[:CHART_TOP_VALUES]
    rows: list[dict[str, Any]] = [
        {
            "value": as_text(v["value"]) or "(blank)",
            "count": None if v["count"] is None else int(v["count"]),
        }
        for v in top
    ]
    rest = len(values) - len(top) + left_out
    if rest:
        shown = [r["count"] for r in rows]
        hidden = total is None or any(c is None for c in shown)
        rows.append(
            {
                "value": f"{rest:,} other values",
                "count": None if hidden else total - sum(shown),  # type: ignore[operator,arg-type]
                "other": True,
            }
        )
    for row in rows:
        row["share"] = _share(row["count"], total)
    return {"rows": rows, "other_values": rest}


def _share(count: int | None, total: int | None) -> float | None:
    if count is None or total is None:
        return None
    return count / total if total else 0.0


def chart_spec(
    aggregate_url: str, name: str, title: str, *, temporal: bool = False
) -> dict[str, Any]:
    """A Vega-Lite bar chart reading the JSON API's aggregate endpoint."""
    category = {"field": name, "type": "ordinal", "title": title}
    count = {"field": "count", "type": "quantitative", "title": "Rows"}
    if temporal:
        encoding = {
            "x": {**category, "axis": {"labelAngle": -45, "labelOverlap": "parity"}},
            "y": count,
        }
    else:
        encoding = {"y": {**category, "sort": "-x", "axis": {"labelLimit": 180}}, "x": count}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"Bar chart of rows by {title}",
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"url": aggregate_url, "format": {"type": "json", "property": "groups"}},
        "mark": {"type": "bar", "color": "#005ea2", "tooltip": True},
        "encoding": encoding,
        "config": {
            "font": "Source Sans Pro Web, Helvetica Neue, Helvetica, Arial, sans-serif",
            "axis": {"labelFontSize": 12, "titleFontSize": 13},
        },
    }


def aggregate_url(dataset_id: str, params: Pairs, group: str, *, top: bool) -> str:
    extra = {"_group": group, "_sort": "-count" if top else group}
    if top:
        extra["_size"] = str(CHART_TOP_VALUES)
    return f"/api/v1/datasets/{dataset_id}/aggregate{query_string(params, **extra)}"


def quarter_chart(
    dataset_id: str, params: Pairs, groups: Sequence[dict[str, Any]], total: int | None = None
) -> dict[str, Any]:
    """Rows by quarter (aggregate groups in quarter order): table rows and the chart's spec.

    ``total`` is the number of matching rows when some quarters' counts are hidden.
    """
    counts = [
        (as_text(g.get("quarter")) or "(no date)", None if g["count"] is None else int(g["count"]))
        for g in groups
    ]
    if all(c is not None for _, c in counts):
        total = sum(c for _, c in counts if c is not None)
    rows = [{"value": v, "count": c, "share": _share(c, total)} for v, c in counts]
    url = aggregate_url(dataset_id, params, "quarter", top=False)
    return {
        "name": "quarter",
        "title": "Quarter",
        "total": total,
        "temporal": True,
        "table": {"rows": rows, "other_values": 0},
        "spec": chart_spec(url, "quarter", "Quarter", temporal=True),
    }


def breakdown_chart(
    dataset_id: str, params: Pairs, field: dict[str, Any], facets: dict[str, Any]
) -> dict[str, Any]:
    """Rows by one coded field, from the facet counts: table rows and the chart's spec."""
    name, title = field["name"], field.get("title") or field["name"]
    url = aggregate_url(dataset_id, params, name, top=True)
    return {
        "name": name,
        "title": title,
        "total": facets["total"],
        "temporal": False,
        "table": breakdown(facets, name),
        "spec": chart_spec(url, name, title),
    }


# --- diffs ---------------------------------------------------------------------------------


def diff_rows(rows: Sequence[dict[str, Any]], change: str, key: Sequence[str]) -> dict[str, Any]:
    """Columns and cells of a page of diff rows; a changed row lists each old and new value."""
    if change == "changed":
        return {
            "columns": [*key, "Changes"],
            "rows": [
                {
                    "cells": [as_text(r.get(k)) for k in key],
                    "changes": [
                        {"field": f, "old": as_text(v.get("old")), "new": as_text(v.get("new"))}
                        for f, v in (r.get("changes") or {}).items()
                    ],
                }
                for r in rows
            ],
        }
    columns = list(rows[0]) if rows else []
    return {
        "columns": columns,
        "rows": [{"cells": [as_text(r.get(c)) for c in columns], "changes": []} for r in rows],
    }


# --- search engines ----------------------------------------------------------------------------


def dataset_jsonld(
    base: str,
    detail: dict[str, Any],
    agency: str,
    *,
    catalog_name: str = "OpenBlotter",
    license_url: str | None = None,
    place: str | None = None,
) -> dict[str, Any]:
    """schema.org Dataset metadata of a dataset page, for search engines and harvesters."""
    label = detail.get("current_release")
    rows_public = detail.get("access", "rows") == "rows"
    downloads = (
        release_downloads(detail["id"], label, detail.get("row_count"))
        if label and rows_public
        else []
    )
    published = [r for r in detail.get("releases", []) if r.get("status") == "published"]
    starts = [r["period"]["start"] for r in published if (r.get("period") or {}).get("start")]
    ends = [r["period"]["end"] for r in published if (r.get("period") or {}).get("end")]
    keywords = ["police", "open data"]
    if detail.get("family"):
        keywords.append(detail["family"].replace("_", " "))
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": detail["title"],
        "description": detail.get("description") or detail["title"],
        "url": f"{base}/datasets/{detail['id']}",
        "identifier": detail["id"],
        "keywords": keywords,
        "isAccessibleForFree": True,
        "dateModified": detail.get("updated"),
        "creator": {"@type": "Organization", "name": agency},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": catalog_name, "url": f"{base}/"},
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": harvest.media_type(d["format"]),
                "contentUrl": base + d["href"],
            }
            for d in downloads
        ],
    }
    optional = {
        "version": label,
        "license": license_url,
        "temporalCoverage": f"{min(starts)}/{max(ends)}" if starts and ends else None,
        "spatialCoverage": {"@type": "Place", "name": place} if place else None,
    }
    document.update({k: v for k, v in optional.items() if v is not None})
    return document
