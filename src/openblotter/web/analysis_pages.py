"""The analysis pages: each measurement against the community, as a form, a chart and its table.

One page per analysis of the registry that has one (``templates/analysis/<name>.html``); its
form's controls come from the analysis's parameters. Routes are thin: read the GET
parameters, run the analysis, render. Every view is a shareable GET URL and works without
JavaScript (the table has every number the chart shows); the Vega-Lite charts read the same
JSON API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.services.analyses import registry
from openblotter.services.analyses.base import Analysis, Result, control
from openblotter.services.portal import Portal
from openblotter.web import errors, pages, presenters
from openblotter.web.analysis_charts import charts_for
from openblotter.web.deps import PortalDep

router = APIRouter(include_in_schema=False)
EXPLAINER = "/#about-the-data"
#: The analyses with a page, in the registry's order.
ANALYSES: dict[str, Analysis] = {n: a for n, a in registry.ANALYSES.items() if a.page}


def form_controls(
    analysis: Analysis, params: dict[str, str], result: Result | None
) -> list[dict[str, Any]]:
    """The form's controls after the dataset, one per parameter, as the analysis declares them."""
    controls = []
    for name, info in analysis.params.model_fields.items():
        declared = control(analysis.params, name)
        if name == "dataset" or declared is None:
            continue
        default = "" if info.default is None else str(info.default)
        controls.append(
            {
                "name": name,
                "id": f"{analysis.name}-{name}",
                "label": declared.label,
                "hint": declared.hint,
                "options": declared.choices(result),
                "value": params.get(name) or default,
            }
        )
    return controls


def _run_page(request: Request, portal: Portal, analysis: Analysis) -> Response:
    """Parse the page's GET parameters, run the analysis, and render its template (400/404 explained)."""
    params = presenters.clean_params(request.query_params.multi_items())
    choices = registry.datasets(portal, analysis)
    if "dataset" not in dict(params) and choices:
        params = [("dataset", choices[0]["id"]), *params]
    result: Result | None = None
    problem: OpenBlotterError | None = None
    if "dataset" in dict(params):
        try:
            result = registry.run_page(portal, analysis.name, params)
        except (InvalidInput, NotFound) as error:
            problem = error
    query = presenters.query_string(params)
    chosen = dict(params).get("dataset")
    own = analysis.params.model_fields
    context = {
        "analysis": analysis,
        "analyses": ANALYSES,
        "choices": choices,
        "params": dict(params),
        "controls": form_controls(analysis, dict(params), result),
        "extra": [(k, v) for k, v in params if k not in own],
        "result": result,
        "problem": problem,
        "explainer": EXPLAINER,
        "dataset": next((c for c in choices if c["id"] == chosen), None),
        "json_href": analysis.path + query,
        "csv_href": f"{analysis.path}.csv{query}" if analysis.csv_rows else None,
        "charts": charts_for(analysis.name, analysis.path + query, result) if result else [],
    }
    status = 200 if problem is None else errors.status_of(problem)
    return pages.render(request, f"analysis/{analysis.name}.html", context, status=status)


# --- routes --------------------------------------------------------------------------------


@router.get("/analysis", response_class=HTMLResponse)
def analysis_index(request: Request, portal: PortalDep) -> Response:
    """What each analysis measures, with links to run it on the datasets that have what it needs."""
    items = [{"analysis": a, "datasets": registry.datasets(portal, a)} for a in ANALYSES.values()]
    return pages.render(request, "analysis/index.html", {"items": items, "explainer": EXPLAINER})


def _page_route(analysis: Analysis) -> None:
    def page(request: Request, portal: PortalDep) -> Response:
        return _run_page(request, portal, analysis)

    page.__doc__ = analysis.summary
    router.add_api_route(
        f"/analysis/{analysis.name}",
        page,
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"{analysis.name.replace('-', '_')}_page",
    )


for _analysis in ANALYSES.values():
    _page_route(_analysis)
