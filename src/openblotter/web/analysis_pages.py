"""The analysis pages: each measurement against the community, as a form, a chart and its table.

Routes are thin: read the GET parameters, call the analysis service, render.
Every view is a shareable GET URL and works without JavaScript (the table has
every number the chart shows); the Vega-Lite charts read the same JSON API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.services import community, metadata, outcomes
from openblotter.services.portal import Portal
from openblotter.web import pages, presenters
from openblotter.web.deps import PortalDep

router = APIRouter(include_in_schema=False)
EXPLAINER = "/#about-the-data"
EVENT_FAMILIES = ("use_of_force", "complaints", "contacts", "hate_crimes")
COLORS = {"blue": "#005ea2", "gray": "#71767a", "light": "#a9aeb1", "red": "#b50909"}
POSITION_COLORS = {
    "above the 99.8% limit": "#b50909",
    "above the 95% limit": "#d83933",
    "within the 95% limits": "#71767a",
    "below the 95% limit": "#2378c3",
    "below the 99.8% limit": "#1a4480",
}
# Census names are long; the chart drops "(alone), not Hispanic or Latino" (the table keeps it).
SHORT_GROUP_AXIS = {
    "labelLimit": 150,
    "labelExpr": "replace(replace(datum.label, ' alone, not Hispanic or Latino', ''), "
    "', not Hispanic or Latino', '')",
}
CONFIG = {
    "font": "Source Sans Pro Web, Helvetica Neue, Helvetica, Arial, sans-serif",
    "axis": {"labelFontSize": 12, "titleFontSize": 13},
    "legend": {"labelFontSize": 12},
}


@dataclass(frozen=True)
class Analysis:
    """One analysis page: its name, what it measures in plain words, and which datasets it reads."""

    name: str
    title: str
    summary: str
    families: tuple[str, ...]
    api: str
    has_csv: bool = False


ANALYSES: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis(
            "benchmark",
            "Community benchmark",
            "How often people of each race, ethnicity, sex or age group are stopped, cited, arrested, subjected "
            "to force or file complaints, per 1,000 residents of the same group, with the range the "
            "numbers could plausibly take.",
            EVENT_FAMILIES,
            "/api/v1/analysis/benchmark",
            True,
        ),
        Analysis(
            "funnel",
            "Beats and quarters compared",
            "Which beats, districts or quarters have more or fewer events than chance alone would "
            "give, with control limits that widen where numbers are small (a funnel plot).",
            EVENT_FAMILIES,
            "/api/v1/analysis/funnel",
            True,
        ),
        Analysis(
            "outcomes",
            "What happened next",
            "How complaints arrived and how they ended, with sustained rates by complainant group; "
            "force by type and injury; contacts by role and outcome; hate crimes by bias and year.",
            EVENT_FAMILIES,
            "/api/v1/analysis/outcomes",
            True,
        ),
        Analysis(
            "representation",
            "Does the department look like the city?",
            "Officers and staff by race and ethnicity against the residents of the city: the "
            "representation index, for all staff, by sworn status and by rank.",
            ("department_demographics",),
            "/api/v1/analysis/representation",
        ),
        Analysis(
            "darkness",
            "Veil of darkness",
            "Are drivers of a group stopped less often after dark, when officers can less easily "
            "see who is driving? A test of traffic stops at the same clock time in light and dark.",
            ("contacts",),
            "/api/v1/analysis/veil-of-darkness",
        ),
    )
}


def _choices(portal: Portal, analysis: Analysis) -> list[dict[str, Any]]:
    return [
        e
        for e in metadata.catalog(portal)
        if e["family"] in analysis.families and e["current_release"]
    ]


def _run_page(
    request: Request,
    portal: Portal,
    name: str,
    compute: Callable[[list[tuple[str, str]]], dict[str, Any]],
    chart: Callable[[str, dict[str, Any]], list[dict[str, Any]]],
) -> Response:
    """Parse the page's GET parameters, run the analysis, and render its template (400/404 explained)."""
    analysis = ANALYSES[name]
    params = presenters.clean_params(request.query_params.multi_items())
    choices = _choices(portal, analysis)
    if "dataset" not in dict(params) and choices:
        params = [("dataset", choices[0]["id"]), *params]
    result: dict[str, Any] | None = None
    problem: OpenBlotterError | None = None
    if "dataset" in dict(params):
        try:
            result = compute(params)
        except (InvalidInput, NotFound) as error:
            problem = error
    query = presenters.query_string(params)
    chosen = dict(params).get("dataset")
    context = {
        "analysis": analysis,
        "analyses": ANALYSES,
        "choices": choices,
        "params": dict(params),
        "extra": [(k, v) for k, v in params if k not in _OWN.get(name, set())],
        "result": result,
        "problem": problem,
        "explainer": EXPLAINER,
        "dataset": next((c for c in choices if c["id"] == chosen), None),
        "json_href": analysis.api + query,
        "csv_href": f"{analysis.api}.csv{query}" if analysis.has_csv else None,
        "charts": chart(analysis.api + query, result) if result else [],
    }
    status = 200 if problem is None else 404 if isinstance(problem, NotFound) else 400
    return pages.render(request, f"analysis/{name}.html", context, status=status)


_OWN = {
    "benchmark": {"dataset", "by", "period", "reference"},
    "funnel": {"dataset", "by", "period"},
    "outcomes": {"dataset"},
    "representation": {"dataset"},
    "darkness": {"dataset", "group"},
}


def _filters(params: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params if k not in _OWN[name]]


# --- routes --------------------------------------------------------------------------------


@router.get("/analysis", response_class=HTMLResponse)
def analysis_index(request: Request, portal: PortalDep) -> Response:
    """What each analysis measures, with links to run it on the datasets that have what it needs."""
    items = [{"analysis": a, "datasets": _choices(portal, a)} for a in ANALYSES.values()]
    return pages.render(request, "analysis/index.html", {"items": items, "explainer": EXPLAINER})


@router.get("/analysis/benchmark", response_class=HTMLResponse)
def benchmark_page(request: Request, portal: PortalDep) -> Response:
    """Rates per 1,000 residents by group, with intervals, the mapping, the method and the caveats."""
    return _run_page(
        request,
        portal,
        "benchmark",
        lambda p: outcomes.run(portal, "benchmark", p),
        benchmark_charts,
    )


@router.get("/analysis/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, portal: PortalDep) -> Response:
    """Events per beat or quarter against exact Poisson control limits."""
    return _run_page(
        request, portal, "funnel", lambda p: outcomes.run(portal, "funnel", p), funnel_charts
    )


@router.get("/analysis/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, portal: PortalDep) -> Response:
    """The outcome tables of a dataset's family, each with a chart."""
    return _run_page(
        request, portal, "outcomes", lambda p: outcomes.run(portal, "outcomes", p), outcome_charts
    )


@router.get("/analysis/representation", response_class=HTMLResponse)
def representation_page(request: Request, portal: PortalDep) -> Response:
    """Staff against residents by race and ethnicity: the representation index."""
    return _run_page(
        request,
        portal,
        "representation",
        lambda p: community.representation(
            portal, dict(p)["dataset"], filters=_filters(p, "representation")
        ),
        representation_charts,
    )


@router.get("/analysis/darkness", response_class=HTMLResponse)
def darkness_page(request: Request, portal: PortalDep) -> Response:
    """The veil-of-darkness test of traffic stops, with its assumptions beside the result."""

    def compute(p: list[tuple[str, str]]) -> dict[str, Any]:
        group = dict(p).get("group", "Black or African American")
        return community.darkness(
            portal, dict(p)["dataset"], group=group, filters=_filters(p, "darkness")
        )

    return _run_page(request, portal, "darkness", compute, darkness_charts)


# --- Vega-Lite charts (each reads the JSON API; the page's table holds the same numbers) ------


def _spec(url: str, prop: str | None, description: str, **spec: Any) -> dict[str, Any]:
    data_format: dict[str, Any] = {"type": "json", **({"property": prop} if prop else {})}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": description,
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"url": url, "format": data_format},
        **spec,
        "config": CONFIG,
    }


def _interval_chart(
    url: str,
    prop: str,
    category: str,
    value: str,
    low: str,
    high: str,
    title: str,
    reference: float | None,
    *,
    percent: bool = False,
) -> dict[str, Any]:
    """Points with interval bars, one line per category, and a dashed reference line."""
    axis = {"format": ".0%"} if percent else {}
    y = {
        "field": category,
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": SHORT_GROUP_AXIS,
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "errorbar", "ticks": True, "color": COLORS["gray"]},
            "encoding": {
                "y": y,
                "x": {"field": low, "type": "quantitative", "title": title, "axis": axis},
                "x2": {"field": high},
            },
        },
        {
            "mark": {
                "type": "point",
                "filled": True,
                "size": 80,
                "color": COLORS["blue"],
                "tooltip": True,
            },
            "encoding": {
                "y": y,
                "x": {"field": value, "type": "quantitative", "title": title, "axis": axis},
            },
        },
    ]
    if reference is not None:
        layers.append(
            {
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
                "encoding": {"x": {"datum": reference}},
            }
        )
    return _spec(
        url,
        prop,
        f"{title}, with 95% intervals, by {category}",
        transform=[{"filter": f"isValid(datum.{value})"}],
        height={"step": 26},
        layer=layers,
    )


def benchmark_charts(url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rate per 1,000 residents of each group with its interval; the reference rate dashed."""
    spec = _interval_chart(
        url,
        "rows",
        "group",
        "rate_per_1000",
        "rate_ci_low",
        "rate_ci_high",
        "Rate per 1,000 residents",
        result.get("reference_rate_per_1000"),
    )
    return [{"id": "benchmark", "spec": spec}]


def funnel_charts(url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each unit's rate against its 95% (dark) and 99.8% (light) control limits; the target dashed."""
    by = {
        "field": "unit",
        "type": "ordinal",
        "sort": None,
        "title": result["by"].capitalize(),
        "axis": {"labelLimit": 160},
    }
    title = result["rate_unit"].capitalize()
    layers = [
        {
            "mark": {"type": "errorbar", "color": COLORS["light"], "thickness": 6},
            "encoding": {
                "y": by,
                "x": {"field": "limit_99_8_low", "type": "quantitative", "title": title},
                "x2": {"field": "limit_99_8_high"},
            },
        },
        {
            "mark": {"type": "errorbar", "color": COLORS["gray"], "thickness": 6},
            "encoding": {
                "y": by,
                "x": {"field": "limit_95_low", "type": "quantitative", "title": title},
                "x2": {"field": "limit_95_high"},
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 60, "tooltip": True},
            "encoding": {
                "y": by,
                "x": {"field": "rate", "type": "quantitative", "title": title},
                "color": {
                    "field": "position",
                    "type": "nominal",
                    "title": "Where it falls",
                    "scale": {
                        "domain": list(POSITION_COLORS),
                        "range": list(POSITION_COLORS.values()),
                    },
                    "legend": {"orient": "bottom", "direction": "vertical"},
                },
            },
        },
        {
            "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
            "encoding": {"x": {"datum": result["target_rate"]}},
        },
    ]
    spec = _spec(
        url,
        "units",
        f"Rates by {result['by']} with 95% and 99.8% control limits",
        transform=[{"filter": "isValid(datum.rate)"}],
        height={"step": 16},
        layer=layers,
    )
    return [{"id": "funnel", "spec": spec}]


def outcome_charts(url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """One chart per outcome table: bars of counts, sustained rates with intervals, bias by year."""
    charts = []
    for key, table in result["tables"].items():
        prop = f"tables.{key}.rows"
        if table["kind"] == "rates":
            spec = _interval_chart(
                url,
                prop,
                "value",
                "sustained_rate",
                "ci_low",
                "ci_high",
                "Share of investigated allegations sustained",
                None,
                percent=True,
            )
        elif table["kind"] == "crosstab":
            spec = _spec(
                url,
                prop,
                table["title"],
                transform=[{"filter": "isValid(datum.count)"}],
                mark={"type": "bar", "tooltip": True},
                height=260,
                encoding={
                    "x": {"field": "year", "type": "ordinal", "title": "Year"},
                    "y": {"field": "count", "type": "quantitative", "title": "Offenses"},
                    "color": {
                        "field": "bias_category",
                        "type": "nominal",
                        "title": "Bias",
                        "legend": {"orient": "bottom", "direction": "vertical"},
                    },
                },
            )
        else:
            spec = _spec(
                url,
                prop,
                table["title"],
                transform=[{"filter": "isValid(datum.count)"}],
                mark={"type": "bar", "color": COLORS["blue"], "tooltip": True},
                height={"step": 24},
                encoding={
                    "y": {
                        "field": "value",
                        "type": "nominal",
                        "sort": "-x",
                        "title": None,
                        "axis": {"labelLimit": 200},
                    },
                    "x": {
                        "field": "count",
                        "type": "quantitative",
                        "title": table["unit"].capitalize(),
                    },
                },
            )
        charts.append({"id": key, "spec": spec})
    return charts


def representation_charts(url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The representation index of every staff member's group; 1 (the city's mix) dashed."""
    spec = _spec(
        url,
        "results[0].rows",
        "Representation index by group, all staff",
        transform=[{"filter": "isValid(datum.representation_index)"}],
        height={"step": 26},
        layer=[
            {
                "mark": {"type": "bar", "color": COLORS["blue"], "tooltip": True},
                "encoding": {
                    "y": {
                        "field": "group",
                        "type": "nominal",
                        "sort": None,
                        "title": None,
                        "axis": SHORT_GROUP_AXIS,
                    },
                    "x": {
                        "field": "representation_index",
                        "type": "quantitative",
                        "title": "Share of staff / share of residents",
                    },
                },
            },
            {
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": COLORS["red"]},
                "encoding": {"x": {"datum": 1}},
            },
        ],
    )
    return [{"id": "representation", "spec": spec}]


def darkness_charts(url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The group's share of stopped drivers in daylight and after dark, in the same clock-time window."""
    spec = _spec(
        url,
        None,
        "Share of stopped drivers in the group, daylight and dark",
        transform=[
            {"fold": ["share_in_group_light", "share_in_group_dark"], "as": ["light", "share"]},
            {
                "calculate": "datum.light === 'share_in_group_dark' ? 'After dark' : 'In daylight'",
                "as": "when",
            },
        ],
        mark={"type": "bar", "color": COLORS["blue"], "tooltip": True},
        height={"step": 40},
        encoding={
            "y": {
                "field": "when",
                "type": "nominal",
                "title": None,
                "sort": ["In daylight", "After dark"],
            },
            "x": {
                "field": "share",
                "type": "quantitative",
                "axis": {"format": ".0%"},
                "title": "Share of stopped drivers in the group",
            },
        },
    )
    return [{"id": "darkness", "spec": spec}]
