"""The analysis API (``/api/v1/analysis/...``), made from the registry of analyses.

Each analysis gets a GET route with its own parameters (names, defaults, descriptions and
allowed values from its parameter model) and its result model as the response schema; the
analyses with a table also get it as CSV under ``<name>.csv``. Any other query parameter is a
filter of the events, as in the rows API.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from openblotter.services.analyses import registry
from openblotter.services.analyses.base import Analysis, allowed_values
from openblotter.services.analyses.base import Result as AnalysisResult
from openblotter.web.api_answers import files
from openblotter.web.deps import PortalDep

router = APIRouter(tags=["analysis"])

FILTERS = (
    "Any other query parameter filters the events as in `/api/v1/datasets/{dataset_id}/rows` "
    "(`col=value`, `col__gte=`, `_release=`, ...)."
)


def _query_parameters(spec: Analysis) -> list[inspect.Parameter]:
    """The analysis's own parameters as FastAPI reads them from a signature."""
    parameters = []
    for name, info in spec.params.model_fields.items():
        allowed = allowed_values(spec.params, name)
        query = Query(
            description=info.description,
            json_schema_extra={"enum": list(allowed)} if allowed else None,
        )
        default = inspect.Parameter.empty if info.is_required() else info.default
        annotation = Annotated[info.annotation, query]  # type: ignore[name-defined]
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    return parameters


def _signature(endpoint: Callable[..., Any], own: list[inspect.Parameter]) -> None:
    context = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("portal", inspect.Parameter.KEYWORD_ONLY, annotation=PortalDep),
    ]
    endpoint.__signature__ = inspect.Signature([*context, *own])  # type: ignore[attr-defined]


def _description(spec: Analysis) -> str:
    doc = (spec.result.__doc__ or spec.summary).strip()
    counts_only = f"A dataset published only as counts: {spec.counts_only.how}."
    return "\n\n".join([doc, *([FILTERS] if spec.filters else []), counts_only])


def _json_route(spec: Analysis) -> None:
    def endpoint(request: Request, portal: Any, **_: Any) -> AnalysisResult:
        return registry.run(portal, spec.name, list(request.query_params.multi_items()))

    _signature(endpoint, _query_parameters(spec))
    router.add_api_route(
        spec.path,
        endpoint,
        methods=["GET"],
        name=f"get_{(spec.api_name or spec.name).replace('-', '_')}",
        summary=spec.title,
        description=_description(spec),
        response_model=spec.result,
        response_model_exclude_unset=True,
    )


for _spec in registry.ANALYSES.values():
    _json_route(_spec)

CsvName = Literal[tuple(registry.csv_analyses())]  # type: ignore[valid-type]


@router.get(
    "/api/v1/analysis/{name}.csv",
    description=FILTERS,
    response_class=Response,
    responses=files("The analysis's table", "text/csv; charset=utf-8"),
)
def get_analysis_csv(
    name: Annotated[CsvName, Path(description="The analysis.")],
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Dataset id.")],
) -> Response:
    """The table behind an analysis as CSV (same parameters as its JSON; numbers unrounded)."""
    result = registry.run(portal, name, list(request.query_params.multi_items()))
    prefix = "synthetic-demo-" if result.get("synthetic") else ""
    return Response(
        registry.analysis_csv(name, result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{prefix}{name}-{dataset}.csv"'},
    )
