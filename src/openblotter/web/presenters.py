"""What the pages show, shaped from service results: pure functions, no I/O.

The routes in :mod:`openblotter.web.pages` call services and hand the results
here; the templates only lay out what these functions return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from openblotter.domain.formats import EXPORT_FORMATS

Pairs = list[tuple[str, str]]

#: Parameters that shape one page of the table, not which rows match.
PAGE_CONTROLS = frozenset({"_next", "_size", "_sort", "_fields", "_count"})
#: Parameters the charts page sets itself.
CHART_CONTROLS = PAGE_CONTROLS | {"_group", "_agg", "_facet"}
TEMPORAL_TYPES = frozenset({"date", "datetime"})
NUMERIC_TYPES = frozenset({"integer", "number", "year"})
#: Categories a chart and its table list before summing the rest as "other values".
CHART_TOP_VALUES = 20
CHART_FIELD_LIMIT = 6
DIFF_PAGE_SIZE = 50
TRUE_WORDS = frozenset({"true", "1", "yes"})


# --- query strings -------------------------------------------------------------------------


def clean_params(items: Iterable[tuple[str, str]]) -> Pairs:
    """Query pairs without blank values (an unused form control submits ``name=``)."""
    return [(key, value) for key, value in items if value.strip() != ""]


def query_string(params: Pairs, *, drop: Iterable[str] = (), **replace: str | None) -> str:
    """``?a=1&b=2`` from pairs, leaving out ``drop`` and setting ``replace`` (None removes)."""
    dropped = set(drop) | set(replace)
    pairs = [(k, v) for k, v in params if k not in dropped]
    pairs += [(k, v) for k, v in replace.items() if v is not None]
    return "?" + urlencode(pairs) if pairs else ""


def filter_params(params: Pairs, controls: Iterable[str] = PAGE_CONTROLS) -> Pairs:
    """The pairs that decide which rows match (filters, ``_q``, ``_release``)."""
    skip = set(controls)
    return [(k, v) for k, v in params if k not in skip]


def download_links(dataset_id: str, params: Pairs, row_count: int | None) -> list[dict[str, Any]]:
    """Export links for the rows these filters match, in every format."""
    kept = filter_params(params, {"_next", "_size", "_count"})
    return format_links(f"/api/v1/datasets/{dataset_id}/rows", kept, row_count)


def format_links(base: str, params: Pairs, row_count: int | None) -> list[dict[str, Any]]:
    links = []
    for fmt in EXPORT_FORMATS:
        links.append(
            {
                "format": fmt.name,
                "label": fmt.label,
                "href": f"{base}.{fmt.name}{query_string(params)}",
                "available": fmt.holds(row_count),
            }
        )
    return links


# --- the data dictionary, as the filter form needs it --------------------------------------


def has_dates(fields: Sequence[dict[str, Any]]) -> bool:
    """Whether quarter/year/month can be derived (the dataset has a date column)."""
    return any(f["type"] in TEMPORAL_TYPES for f in fields)


def categorical_fields(fields: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fields with a small set of values: codes, and yes/no fields (the agency records)."""
    return [
        f
        for f in fields
        if (f.get("categorical") or f.get("allowed_values") or f["type"] == "boolean")
        and f.get("recorded", True)
    ]


def facet_columns(fields: Sequence[dict[str, Any]]) -> list[str]:
    """Columns whose value counts the explore page shows (one facet query for all of them)."""
    names = [f["name"] for f in categorical_fields(fields)]
    if has_dates(fields) and "quarter" not in names and not _named(fields, "quarter"):
        names.insert(0, "quarter")
    return names


def _named(fields: Sequence[dict[str, Any]], name: str) -> bool:
    return any(f["name"] == name for f in fields)


# --- explore: filter controls ---------------------------------------------------------------


@dataclass
class Option:
    value: str
    count: int | None = None
    selected: bool = False


@dataclass
class Control:
    """One form control of the explore page, with the values the URL gave it."""

    kind: str  # "select" or "range"
    name: str
    label: str
    description: str = ""
    options: list[Option] = field(default_factory=list)
    multiple: bool = False
    note: str = ""
    low_name: str = ""
    high_name: str = ""
    low_value: str = ""
    high_value: str = ""
    low_label: str = "From"
    high_label: str = "To"
    input_type: str = "text"


def facet_values(facets: dict[str, Any] | None, name: str) -> tuple[list[dict[str, Any]], int]:
    """A facet's ``[{value, count}]`` and how many of its distinct values were left out.

    ``facets`` is what ``services.query.facet_counts`` returns (``facets`` and ``facet_info``).
    """
    if not facets:
        return [], 0
    entry = facets.get("facets", {}).get(name)
    if entry is None:
        return [], 0
    values = list(entry if isinstance(entry, list) else entry.get("values", []))
    info = facets.get("facet_info", {}).get(name, entry if isinstance(entry, dict) else {})
    left_out = int(info.get("distinct", len(values)) or 0) - len(values)
    return values, max(left_out, 0)


def selected_values(params: Pairs, name: str) -> list[str]:
    """Values the URL selects for ``name`` (``name=a&name=b`` or ``name__in=a,b``)."""
    out: list[str] = []
    for key, value in params:
        if key == name:
            out.append(value)
        elif key == f"{name}__in":
            out.extend(v for v in value.split(",") if v)
    return list(dict.fromkeys(out))


def select_control(field: dict[str, Any], params: Pairs, facets: dict[str, Any] | None) -> Control:
    """A dropdown of a coded field: allowed values and facet counts under the current filters."""
    name = field["name"]
    counted, left_out = facet_values(facets, name)
    counts = {as_text(v["value"]): int(v["count"]) for v in counted if v["value"] is not None}
    chosen = selected_values(params, name)
    values = list(counts) + [
        str(v) for v in field.get("allowed_values") or [] if str(v) not in counts
    ]
    values += [v for v in chosen if v not in values]
    options = [Option(v, counts.get(v), v in chosen) for v in values]
    note = f"{left_out:,} rarer values are not listed; search for them." if left_out else ""
    return Control(
        kind="select",
        name=name,
        label=field.get("title") or name,
        description=field.get("description", ""),
        options=options,
        multiple=len(chosen) > 1,
        note=note,
    )


def quarter_control(params: Pairs, facets: dict[str, Any] | None) -> Control:
    counted, _ = facet_values(facets, "quarter")
    chosen = selected_values(params, "quarter")
    counts = {as_text(v["value"]): int(v["count"]) for v in counted if v["value"] is not None}
    values = sorted(set(counts) | set(chosen), reverse=True)
    return Control(
        kind="select",
        name="quarter",
        label="Quarter",
        description="The calendar quarter of the record's main date.",
        options=[Option(v, counts.get(v), v in chosen) for v in values],
        multiple=len(chosen) > 1,
    )


def range_control(field: dict[str, Any], params: Pairs) -> Control:
    """From/to inputs of a date or number field (datetime 'to' is exclusive: 'before')."""
    name, kind = field["name"], field["type"]
    high_operator = "lt" if kind == "datetime" else "lte"
    given = dict(params)
    return Control(
        kind="range",
        name=name,
        label=field.get("title") or name,
        description=field.get("description", ""),
        low_name=f"{name}__gte",
        high_name=f"{name}__{high_operator}",
        low_value=given.get(f"{name}__gte", ""),
        high_value=given.get(f"{name}__{high_operator}", ""),
        low_label="From" if kind in TEMPORAL_TYPES else "At least",
        high_label=("Before" if kind == "datetime" else "To")
        if kind in TEMPORAL_TYPES
        else "At most",
        input_type="date" if kind in TEMPORAL_TYPES else "text",
    )


def filter_controls(
    fields: Sequence[dict[str, Any]], params: Pairs, facets: dict[str, Any] | None
) -> list[Control]:
    """Every control of the filter form: coded fields as dropdowns, dates and numbers as ranges."""
    controls: list[Control] = []
    if has_dates(fields) and not _named(fields, "quarter"):
        controls.append(quarter_control(params, facets))
    controls += [select_control(f, params, facets) for f in categorical_fields(fields)]
    controls += [
        range_control(f, params)
        for f in fields
        if f["type"] in TEMPORAL_TYPES | NUMERIC_TYPES and not f.get("categorical")
    ]
    return controls


def handled_params(control: Control) -> set[str]:
    """The query parameters a control reads and writes."""
    if control.kind == "select":
        return {control.name, f"{control.name}__in"}
    return {control.low_name, control.high_name}


def split_controls(
    controls: list[Control], key_names: Sequence[str], params: Pairs
) -> tuple[list[Control], list[Control]]:
    """The controls shown (those in use, then the key fields) and those folded away.

    Controls in use stay in view, so that the form shows what filters the rows.
    """
    given = {key for key, _ in params}
    in_use = [c for c in controls if handled_params(c) & given]
    keys = in_use + [
        c for name in key_names for c in controls if c.name == name and c not in in_use
    ]
    more = [c for c in controls if c not in keys]
    return keys, more


def leftover_params(params: Pairs, controls: Sequence[Control]) -> Pairs:
    """Conditions the form has no control for (``col__ne``, ``col__contains``): kept as given."""
    handled = {"_q", "_sort", "_next", "_release"}
    for control in controls:
        handled |= handled_params(control)
    return [(k, v) for k, v in params if k not in handled]


#: Filter operators (``col__gte``) in words.
OPERATOR_WORDS = {
    "eq": "is",
    "ne": "is not",
    "gt": "is after / above",
    "gte": "is at least / from",
    "lt": "is before / below",
    "lte": "is at most / up to",
    "contains": "contains",
    "in": "is one of",
}


def split_operator(key: str) -> tuple[str, str]:
    """``col__gte`` -> (``col``, ``gte``); a key without a known operator suffix is ``eq``."""
    column, _, suffix = key.rpartition("__")
    if column and (suffix in OPERATOR_WORDS or suffix == "isnull"):
        return column, suffix
    return key, "eq"


def describe_filters(params: Pairs, titles: dict[str, str]) -> list[str]:
    """The active conditions in words, for the summary above the table."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, value in filter_params(params, PAGE_CONTROLS | {"_release"}):
        condition = ("", "search") if key == "_q" else split_operator(key)
        grouped.setdefault(condition, []).append(value)
    out = []
    for (column, operator), values in grouped.items():
        shown = " or ".join(f"“{v}”" for v in values)
        title = titles.get(column, column)
        if operator == "search":
            out.append(f"text matches {shown}")
        elif operator == "isnull":
            out.append(f"{title} {'is' if values[0].lower() in TRUE_WORDS else 'is not'} blank")
        else:
            out.append(f"{title} {OPERATOR_WORDS[operator]} {shown}")
    return out


def sort_links(columns: Sequence[str], params: Pairs) -> dict[str, dict[str, str]]:
    """Per column: the link that sorts by it (toggling direction) and its aria-sort state."""
    current = dict(params).get("_sort", "")
    first = current.split(",")[0] if current else ""
    out = {}
    for column in columns:
        state = (
            "ascending" if first == column else "descending" if first == f"-{column}" else "none"
        )
        target = f"-{column}" if state == "ascending" else column
        out[column] = {"href": query_string(params, drop=("_next",), _sort=target), "state": state}
    return out


def sort_options(fields: Sequence[dict[str, Any]], params: Pairs) -> list[Option]:
    current = dict(params).get("_sort", "")
    options = [Option("", None, current == "")]
    for f in fields:
        for value in (f["name"], f"-{f['name']}"):
            options.append(Option(value, None, value == current))
    return options


def cells(row: dict[str, Any] | Sequence[Any], columns: Sequence[str]) -> list[str]:
    """A row's values in column order, as text (blank for a missing value)."""
    values = [row.get(c) for c in columns] if isinstance(row, dict) else list(row)
    return [as_text(v) for v in values]


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- explore: the whole page ----------------------------------------------------------------


def explore_view(
    dataset_id: str,
    fields: Sequence[dict[str, Any]],
    params: Pairs,
    page: dict[str, Any] | None,
    facets: dict[str, Any] | None,
    key_names: Sequence[str],
) -> dict[str, Any]:
    """What the explore template shows: controls, rows, links (page/facets None on a bad query)."""
    controls = filter_controls(fields, params, facets)
    key_controls, more_controls = split_controls(controls, key_names, params)
    columns = page["columns"] if page else [f["name"] for f in fields]
    titles = {f["name"]: f.get("title") or f["name"] for f in fields}
    given = dict(params)
    here = f"/datasets/{dataset_id}/explore"
    total = facets["total"] if facets else None
    return {
        "params": params,
        "page": page,
        "total": total,
        "key_controls": key_controls,
        "more_controls": more_controls,
        "leftover": leftover_params(params, controls),
        "search": given.get("_q", ""),
        "release": given.get("_release", ""),
        "sort_options": sort_options(fields, params),
        "titles": titles,
        "columns": columns,
        "sorting": sort_links(columns, params),
        "rows": [cells(r, columns) for r in page["rows"]] if page else [],
        "conditions": describe_filters(params, titles),
        "next_href": here + query_string(params, _next=page["next"])
        if page and page["next"]
        else None,
        "first_href": here + query_string(params, _next=None) if "_next" in given else None,
        "downloads": download_links(dataset_id, params, total),
        "charts_href": f"/datasets/{dataset_id}/charts" + query_string(filter_params(params)),
        "facets": facet_lists(key_controls, facets, params),
    }


def facet_lists(
    controls: Sequence[Control], facets: dict[str, Any] | None, params: Pairs
) -> list[dict[str, Any]]:
    """The most common values of the shown fields, each a link that filters by it."""
    out = []
    for control in controls:
        counted, _ = facet_values(facets, control.name)
        if control.kind != "select" or not counted:
            continue
        chosen = selected_values(params, control.name)
        entries = []
        for item in counted[:5]:
            if item["value"] is None:
                continue
            value = as_text(item["value"])
            href = query_string(
                params, drop=("_next", f"{control.name}__in"), **{control.name: value}
            )
            entries.append(
                {"value": value, "count": item["count"], "href": href, "selected": value in chosen}
            )
        out.append({"label": control.label, "entries": entries})
    return out
