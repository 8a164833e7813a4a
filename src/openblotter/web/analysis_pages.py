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
from openblotter.services.families import event_families
from openblotter.services.funnel import funnel_by_choices
from openblotter.services.portal import Portal
from openblotter.web import errors, pages, presenters
from openblotter.web.analysis_charts import (
    benchmark_charts,
    darkness_charts,
    funnel_charts,
    outcome_charts,
    outcome_test_charts,
    representation_charts,
)
from openblotter.web.deps import PortalDep

router = APIRouter(include_in_schema=False)
EXPLAINER = "/#about-the-data"
#: The families analyses count events of (``eventFields`` in their schema files).
EVENT_FAMILIES = event_families()


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
            "outcome-tests",
            "Searches, finds and arrests",
            "Of the people stopped in each group, how many were searched, how often a search "
            "found contraband (the outcome test), and how many were arrested, with exact "
            "intervals.",
            ("contacts",),
            "/api/v1/analysis/outcome-tests",
            True,
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
    status = 200 if problem is None else errors.status_of(problem)
    return pages.render(request, f"analysis/{name}.html", context, status=status)


_OWN = {
    "benchmark": {"dataset", "by", "period", "reference"},
    "funnel": {"dataset", "by", "period"},
    "outcomes": {"dataset"},
    "representation": {"dataset"},
    "darkness": {"dataset", "group", "reference", "controls", "period"},
    "outcome-tests": {"dataset", "by", "period"},
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

    def compute(p: list[tuple[str, str]]) -> dict[str, Any]:
        if "by" in dict(p):
            return outcomes.run(portal, "funnel", p)
        # Not every dataset records beats: compare by the first unit this one fills in.
        usable = funnel_by_choices(portal, dict(p)["dataset"], _filters(p, "funnel"))
        for by in usable[:-1]:
            try:
                return outcomes.run(portal, "funnel", [*p, ("by", by)])
            except InvalidInput:
                continue
        return outcomes.run(portal, "funnel", [*p, ("by", usable[-1])] if usable else p)

    return _run_page(request, portal, "funnel", compute, funnel_charts)


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
    from openblotter.services.darkness import darkness, parse_controls

    def compute(p: list[tuple[str, str]]) -> dict[str, Any]:
        chosen = dict(p)
        return darkness(
            portal,
            chosen["dataset"],
            group=chosen.get("group", "Black or African American"),
            reference=chosen.get("reference", "White"),
            controls=parse_controls(chosen.get("controls")),
            period=chosen.get("period", "all"),
            filters=_filters(p, "darkness"),
        )

    return _run_page(request, portal, "darkness", compute, darkness_charts)


@router.get("/analysis/outcome-tests", response_class=HTMLResponse)
def outcome_tests_page(request: Request, portal: PortalDep) -> Response:
    """Search, hit and arrest rates by group with exact intervals and the threshold caveat."""
    return _run_page(
        request,
        portal,
        "outcome-tests",
        lambda p: outcomes.run(portal, "outcome-tests", p),
        outcome_test_charts,
    )
