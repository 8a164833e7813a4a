"""CKAN's Action API (2.10 conventions) and DataStore dump: a thin door over the services.

``/api/3/action/{name}`` and ``/api/action/{name}``, GET (query string) and
POST (a JSON object, or a form). Answers are CKAN's envelope
``{"help", "success", "result"}``; errors ``{"help", "success": false,
"error": {"__type", "message" | field: [messages]}}`` with CKAN's status and
``__type`` strings. Parameters an action does not know are ignored, as CKAN
ignores them. What each action answers is in docs/interop.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from openblotter.domain.errors import (
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    OpenBlotterError,
    TimedOut,
    TooLarge,
    Unavailable,
)
from openblotter.services import ckan, ckan_datastore, ckan_search, ckan_sql
from openblotter.services.portal import Portal
from openblotter.web.api_answers import files
from openblotter.web.deps import PortalDep
from openblotter.web.openapi_errors import CKAN_ERRORS
from openblotter.web.security import public_url

router = APIRouter()
#: Bytes of a POSTed action: parameters, never data (CKAN's writes are not served here).
MAX_BODY = 1_000_000
Params = dict[str, Any]
Action = Callable[[Portal, str, Params, str], Any]


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("Missing value", detail={"ckan": {name: ["Missing value"]}})
    return value


def _package_list(portal: Portal, params: Params) -> list[str]:
    names = [dataset.id for dataset, _ in ckan.public_datasets(portal)]
    offset = ckan_search.whole_number(params.get("offset"), "offset", 0)
    limit = ckan_search.whole_number(params.get("limit"), "limit", len(names))
    return names[offset : offset + limit]


def _organization_show(portal: Portal, base: str, params: Params) -> dict[str, Any]:
    org = ckan.organization(portal)
    if _required(params, "id") not in (org["id"], org["name"]):
        raise NotFound(f"Organization '{params['id']}' was not found.")
    if str(params.get("include_datasets", "false")).lower() in ("true", "1"):
        org["packages"] = [
            ckan.package(portal, base, d, r) for d, r in ckan.public_datasets(portal)
        ]
    return org


def _organization_list(portal: Portal, params: Params) -> list[Any]:
    all_fields = str(params.get("all_fields", "false")).lower() in ("true", "1")
    return [ckan.organization(portal) if all_fields else ckan.organization_name(portal)]


ACTIONS: dict[str, Action] = {
    "status_show": lambda portal, base, params, path: ckan.status(portal, base),
    "site_read": lambda portal, base, params, path: True,
    "package_list": lambda portal, base, params, path: _package_list(portal, params),
    "package_show": lambda portal, base, params, path: ckan.package_show(
        portal, base, _required(params, "id")
    ),
    "package_search": lambda portal, base, params, path: ckan_search.package_search(
        portal, base, params
    ),
    "organization_list": lambda portal, base, params, path: _organization_list(portal, params),
    "organization_show": lambda portal, base, params, path: _organization_show(
        portal, base, params
    ),
    "resource_show": lambda portal, base, params, path: ckan.resource_show(
        portal, base, _required(params, "id")
    ),
    "datastore_search": lambda portal, base, params, path: ckan_datastore.datastore_search(
        portal, params, path
    ),
    "datastore_search_sql": lambda portal, base, params, path: ckan_sql.datastore_search_sql(
        portal, params
    ),
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        media_type="application/json;charset=utf-8",
        headers=headers,
    )


async def _params(request: Request) -> Params:
    """The action's parameters: the JSON object (or form) of a POST, else the query string.
    A name given several times in a query string becomes a list, as CKAN reads it."""
    if request.method == "POST":
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            raise ValueError(f"the request body is over {MAX_BODY:,} bytes (or unsized)")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise ValueError(f"the request body is over {MAX_BODY:,} bytes")
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            return {k: v for k, v in form.items() if isinstance(v, str)}
        if body.strip():
            parsed = json.loads(body)  # ValueError: answered as CKAN's "JSON Error"
            if not isinstance(parsed, dict):
                raise ValueError("the request body is not a JSON object")
            return parsed
    params: Params = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            previous = params[key]
            params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[key] = value
    return params


#: Query-model parameter names as the CKAN parameter that set them.
CKAN_NAMES = {"_sort": "sort", "_fields": "fields", "_q": "q", "_size": "limit", "_next": "offset"}
#: NotFound about these is a thing that is not there; about anything else, a parameter.
MISSING_THINGS = (None, "dataset", "_release", "resource_id", "id")


def _validation(error: OpenBlotterError, action: str) -> dict[str, Any]:
    """A Validation Error: the CKAN parameter with its messages (``query`` for SQL)."""
    if "ckan" in error.detail:
        return {"__type": "Validation Error", **error.detail["ckan"]}
    parameter = error.detail.get("parameter")
    if action == "datastore_search_sql":
        name = "query"
    elif parameter in CKAN_NAMES:
        name = CKAN_NAMES[parameter]
    else:  # a column named by a filter (or its value)
        name = "filters" if parameter else "message"
    return {"__type": "Validation Error", name: [error.message]}


def _error(error: OpenBlotterError, action: str) -> tuple[int, dict[str, Any]]:
    """CKAN's status and error object for a portal error."""
    if isinstance(error, ckan_search.SearchQueryError):
        return 400, {
            "__type": "Search Query Error",
            "message": f"Search Query is invalid: {error.message}",
        }
    if isinstance(error, Gone) or (
        isinstance(error, NotFound) and error.detail.get("parameter") in MISSING_THINGS
    ):
        return 404, {"__type": "Not Found Error", "message": f"Not found: {error.message}"}
    if isinstance(error, Forbidden):
        body = {"__type": "Authorization Error", "message": f"Access denied: {error.message}"}
        return 403, {**body, **error.detail.get("ckan", {})}
    if isinstance(error, TimedOut):
        body = {"__type": "Validation Error", "query": ["Query took too long"]}
        return 409, {**body, "message": error.message}
    if isinstance(error, Unavailable):
        return 503, {"__type": "Service Unavailable", "message": error.message}
    if isinstance(error, InvalidInput | TooLarge | NotFound):
        return 409, _validation(error, action)
    return 500, {"__type": "Internal Server Error", "message": error.message}


def _help(request: Request, name: str) -> str:
    return public_url(request, f"/api/3/action/help_show?name={name}")


@router.get(
    "/api/3/action/{name}", tags=["ckan"], operation_id="ckan_action_get", responses=CKAN_ERRORS
)
@router.post(
    "/api/3/action/{name}", tags=["ckan"], operation_id="ckan_action_post", responses=CKAN_ERRORS
)
@router.get("/api/action/{name}", include_in_schema=False)  # the same, without the version
@router.post("/api/action/{name}", include_in_schema=False)
async def action(name: str, request: Request, portal: PortalDep) -> Response:
    """A CKAN action: status_show, package_list, package_show, package_search,
    organization_list, organization_show, resource_show, datastore_search,
    datastore_search_sql (see docs/interop.md)."""
    known = ACTIONS.get(name)
    if known is None or (name == "datastore_search_sql" and not portal.settings.ckan_sql_enabled):
        return _json(f"Bad request - Action name not known: {name}", 400)
    try:
        params = await _params(request)
    except ValueError as problem:
        return _json(f"Bad request - JSON Error: {problem}", 400)
    base = public_url(request, "")
    try:
        result = await run_in_threadpool(known, portal, base, params, request.url.path)
    except OpenBlotterError as error:
        status, body = _error(error, name)
        retry = error.detail.get("retry_after")
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return _json(
            {"help": _help(request, name), "success": False, "error": body}, status, headers
        )
    return _json({"help": _help(request, name), "success": True, "result": result})


@router.get(
    "/datastore/dump/{resource_id}",
    tags=["ckan"],
    response_class=StreamingResponse,
    responses=files("The rows, as CSV or CKAN's JSON dump", "text/csv", "application/json"),
)
def datastore_dump(
    resource_id: str,
    request: Request,
    portal: PortalDep,
    format: str = "csv",  # noqa: A002 (CKAN's name)
) -> StreamingResponse:
    """Every row of a resource (under `filters`, `q`; `fields`, `sort`, `bom` apply) as CSV or
    CKAN's JSON dump, streamed (no row cap)."""
    dump = ckan_datastore.dump(portal, resource_id, dict(request.query_params))
    headers = {"Content-Disposition": f'attachment; filename="{dump.filename}"'}
    return StreamingResponse(dump.chunks, media_type=dump.media_type, headers=headers)
