"""The Socrata SODA 2.1 door at the host root, where sodapy and RSocrata look for it:
``/resource/{id}.json|.csv|.geojson`` with SoQL, ``/api/views/{id}.json``, ``/api/catalog/v1``.

Thin: the raw parameters go to :mod:`openblotter.services.soda`; answers are
rendered by :mod:`openblotter.web.soda_render`; errors take Socrata's shape
(docs/interop.md says where this door differs from Socrata).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from openblotter.domain.errors import Forbidden, Gone, NotFound, OpenBlotterError
from openblotter.services import soda, soda_catalog
from openblotter.services.query import cancellable_request
from openblotter.web import soda_render
from openblotter.web.api_answers import files
from openblotter.web.deps import PortalDep
from openblotter.web.errors import status_of
from openblotter.web.openapi_errors import SODA_ERRORS
from openblotter.web.security import public_url

router = APIRouter(tags=["socrata"], responses=SODA_ERRORS)

Body = Callable[..., Iterator[bytes]]
FORMATS: dict[str, tuple[Body, str]] = {
    "json": (soda_render.json_body, soda_render.JSON_TYPE),
    "csv": (soda_render.csv_body, soda_render.CSV_TYPE),
    "geojson": (soda_render.geojson_body, soda_render.GEOJSON_TYPE),
}


def soda_error(error: OpenBlotterError) -> JSONResponse:
    """A portal error in Socrata's shape, with Socrata's status (a missing release is a 404)."""
    status = 404 if isinstance(error, Gone) else status_of(error)
    detail = dict(error.detail)
    if isinstance(error, Forbidden):
        code = "permission_denied"
    elif isinstance(error, NotFound | Gone):
        code = "not_found" if detail.get("parameter") == "id" else "query.soql.no-such-column"
    elif "expected" in detail:
        code = "query.compiler.malformed"
    else:
        code = "query.soql.invalid"
    response = JSONResponse(soda_render.error_body(code, error.message, detail), status)
    if "retry_after" in detail:
        response.headers["Retry-After"] = str(detail["retry_after"])
    return response


def _split(name: str) -> tuple[str, str]:
    soda_id, dot, fmt = name.partition(".")
    if dot and fmt not in FORMATS:
        raise NotFound(
            f"'.{fmt[:20]}' is not a format of this portal's SODA door.",
            detail={"parameter": "format", "allowed": list(FORMATS)},
        )
    return soda_id, fmt or "json"


@router.get(
    "/resource/{name}",
    response_class=Response,
    responses=files(
        "The rows as JSON (an array of objects), CSV or GeoJSON, by the name's extension",
        soda_render.JSON_TYPE,
        soda_render.CSV_TYPE,
        soda_render.GEOJSON_TYPE,
    ),
)
def resource(name: str, request: Request, portal: PortalDep) -> Response:
    """Rows (or groups) of a dataset as SODA 2.1 answers them; every SoQL parameter."""
    params = list(request.query_params.multi_items())
    try:
        soda_id, fmt = _split(name)
        with cancellable_request():
            answer = soda.query(portal, soda_id, params)
            render, media_type = FORMATS[fmt]
            chunks = render(answer.batches, answer.fields)
    except OpenBlotterError as error:
        return soda_error(error)
    modified = soda.last_modified(answer.release).astimezone(UTC)
    headers = soda_render.headers(answer.fields, modified)
    if answer.synthetic:
        headers["X-OpenBlotter-Synthetic"] = "true"
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


@router.get("/api/views/{name}", response_class=JSONResponse)
def view(name: str, request: Request, portal: PortalDep) -> Response:
    """A dataset's Socrata metadata: id, name, description, columns, rowsUpdatedAt, ..."""
    try:
        soda_id = name.removesuffix(".json")
        return JSONResponse(soda_catalog.view(portal, soda_id, public_url(request, "")))
    except OpenBlotterError as error:
        return soda_error(error)


@router.get("/api/catalog/v1", response_class=JSONResponse)
def catalog(request: Request, portal: PortalDep) -> Response:
    """Socrata's Discovery API: every dataset with a published release."""
    params = list(request.query_params.multi_items())
    try:
        body: dict[str, Any] = soda_catalog.catalog(portal, public_url(request, ""), params)
    except OpenBlotterError as error:
        return soda_error(error)
    return JSONResponse(body)


@router.get("/d/{soda_id}", response_class=Response, include_in_schema=False)
def permalink(soda_id: str, portal: PortalDep) -> Response:
    """A Socrata permalink: the dataset's page."""
    try:
        found = soda.resolve(portal, soda_id)
    except OpenBlotterError as error:
        return soda_error(error)
    return RedirectResponse(f"/datasets/{found.dataset.id}", status_code=302)
