"""Native JSON API under /api/v1 (catalog, metadata, release files, health)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from openblotter.domain.formats import format_names
from openblotter.domain.query.model import AGGREGATE_GROUP_LIMIT, MAX_PAGE_SIZE
from openblotter.services import metadata, query
from openblotter.services.releases import diff_releases, release_file, release_manifest
from openblotter.web import analysis_api
from openblotter.web.api_answers import (
    EXPORT_MEDIA_TYPES,
    Aggregate,
    Facets,
    RowsPage,
    answers,
    files,
)
from openblotter.web.deps import PortalDep
from openblotter.web.security import public_url

router = APIRouter()
#: Rows a diff page may skip: far beyond any release, inside the engine's 64-bit offsets.
MAX_DIFF_OFFSET = 10**12


@router.get("/healthz", tags=["operations"])
async def healthz(request: Request) -> Response:
    """Ready when the catalog answers (503 when it raised or has not answered for 10 s).
    Answered before routing (web/health.py), so a busy server still answers it promptly;
    this route documents it and answers the same when that middleware is not installed."""
    status, body = await request.app.state.health.report()
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.get("/api/v1/datasets", tags=["catalog"])
def list_datasets(portal: PortalDep) -> dict[str, Any]:
    """The catalog: every dataset with its current release."""
    return {"datasets": metadata.catalog(portal)}


@router.get("/api/v1/datasets/{dataset_id}", tags=["catalog"])
def get_dataset(dataset_id: str, portal: PortalDep) -> dict[str, Any]:
    """One dataset: metadata, data dictionary (with privacy treatment), releases."""
    return metadata.dataset_detail(portal, dataset_id)


@router.get("/api/v1/datasets/{dataset_id}/releases/{label}", tags=["releases"])
def get_release(dataset_id: str, label: str, portal: PortalDep) -> dict[str, Any]:
    """A release's manifest, with its full validation report (not for a counts-only dataset)."""
    return release_manifest(portal, dataset_id, label)


@router.get(
    "/api/v1/datasets/{dataset_id}/releases/{label}/file.parquet",
    tags=["releases"],
    response_class=FileResponse,
    responses=files("The release file", "application/vnd.apache.parquet"),
)
def download_release_file(dataset_id: str, label: str, portal: PortalDep) -> FileResponse:
    """The release's stored Parquet file, byte for byte (its sha256 is in the manifest)."""
    stored = release_file(portal, dataset_id, label)
    return FileResponse(
        stored.path,
        media_type=stored.media_type,
        filename=stored.filename,
        headers={
            "ETag": f'"{stored.checksum}"',
            "Cache-Control": "public, max-age=31536000, immutable",
            "Digest": f"sha-256={stored.checksum}",
        },
    )


# --- the query API -------------------------------------------------------------------------

_FILTER_DOC = (
    "Filters: any column as `col=value` (repeat for any of), `col__ne`, `col__gt`, `col__gte`, "
    "`col__lt`, `col__lte`, `col__contains`, `col__in=a,b`, `col__isnull=true|false`; the date "
    "parts `quarter`, `year`, `month` of the dataset's main date."
)


_FORMATS_DOC = ", ".join(format_names()[:-1]) + " or " + format_names()[-1]


def _params(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def _with_notice(portal_dataset_synthetic: bool, body: dict[str, Any]) -> dict[str, Any]:
    if portal_dataset_synthetic:
        body["notice"] = metadata.SYNTHETIC_NOTICE
    return body


class FastJSON(JSONResponse):
    """JSON rendered by orjson. The query results are JSON-ready already, so the hot routes
    skip FastAPI's response validation (most of a cached page's time otherwise); their
    shapes are documented by web/api_answers.py."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


#: The controls of the query routes (rows, downloads, facets, aggregate) as the API docs
#: show them. The query parser (domain/query/parse.py) checks them with the filters, in one
#: place: declared as FastAPI parameters they were checked twice on every request (0.1-0.4 ms
#: of the 3-4 ms of CPU a first page takes, A/B in process), by rules that had drifted apart.
_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_CONTROLS: dict[str, tuple[dict[str, Any], str]] = {
    "_release": (_TEXT, "Release label (default: current)."),
    "_q": (_TEXT, "Full-text search over text columns."),
    "_sort": (_TEXT, "Sort: col,-col2."),
    "_fields": (_TEXT, "Columns to return: a,b."),
    "_size": (
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "Rows per page (default 100).",
    ),
    "_next": (_TEXT, "Opaque token from `next`."),
    "_count": ({"type": "boolean"}, "Add the exact `total`."),
    "_facet": (_TEXTS, "Column to count values of (repeat)."),
    "_group": (_TEXT, "Group by: quarter,subject_race."),
    "_agg": (_TEXTS, "count, sum:col, avg:col, min:col, max:col (repeat)."),
}


def _documented(*names: str, **described: str) -> dict[str, Any]:
    """A route's ``openapi_extra`` listing these controls; ``described`` replaces the
    description of a control by name (``_sort="Sort groups: col,-count."``)."""
    parameters = [
        {"name": name, "in": "query", "required": False, "schema": _CONTROLS[name][0],
         "description": described.get(name, _CONTROLS[name][1])}
        for name in names
    ]  # fmt: skip
    return {"parameters": parameters}


@router.get(
    "/api/v1/datasets/{dataset_id}/rows",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=FastJSON,
    responses=answers(RowsPage),
    openapi_extra=_documented("_release", "_q", "_sort", "_fields", "_size", "_next", "_count"),
)
def get_rows(
    dataset_id: str,
    request: Request,
    response: Response,
    portal: PortalDep,
) -> FastJSON:
    """Rows of the current release (or `_release`), filtered, sorted, keyset-paged."""
    page = query.rows_page(portal, dataset_id, _params(request))
    if page["next"]:
        # From the configured public address (or relative): never the request's Host header.
        query_string = request.url.include_query_params(_next=page["next"]).query
        link = public_url(request, f"{request.url.path}?{query_string}")
        response.headers["Link"] = f'<{link}>; rel="next"'
    page.pop("columns")
    return FastJSON(_with_notice(page.pop("synthetic"), page), headers=dict(response.headers))


@router.get(
    "/api/v1/datasets/{dataset_id}/rows.{fmt}",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=StreamingResponse,
    responses=files("Every matching row, in the format the path names", *EXPORT_MEDIA_TYPES),
    openapi_extra=_documented("_release", "_q", "_sort", "_fields"),
)
def export_rows(
    dataset_id: str,
    fmt: Annotated[str, Path(description=_FORMATS_DOC)],
    request: Request,
    portal: PortalDep,
) -> StreamingResponse:
    """Every matching row, streamed (no row cap). CSV cells that would run as formulas are inert."""
    download = query.export(portal, dataset_id, _params(request), fmt)
    headers = {"Content-Disposition": f'attachment; filename="{download.filename}"'}
    if download.synthetic:
        headers["X-Data-Notice"] = metadata.SYNTHETIC_NOTICE
    return StreamingResponse(download.chunks, media_type=download.media_type, headers=headers)


@router.get(
    "/api/v1/datasets/{dataset_id}/facets",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=FastJSON,
    responses=answers(Facets),
    openapi_extra=_documented("_facet", "_release", "_q"),
)
def get_facets(dataset_id: str, request: Request, portal: PortalDep) -> FastJSON:
    """Value counts per `_facet` column under the same filters."""
    result = query.facet_counts(portal, dataset_id, _params(request))
    return FastJSON(_with_notice(result.pop("synthetic"), result))


@router.get(
    "/api/v1/datasets/{dataset_id}/aggregate",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=FastJSON,
    responses=answers(Aggregate),
    openapi_extra=_documented(
        "_group",
        "_agg",
        "_release",
        "_q",
        "_sort",
        "_size",
        _sort="Sort groups: col,-count.",
        _size=f"Most groups to return (default {AGGREGATE_GROUP_LIMIT:,}; more are flagged).",
    ),
)
def get_aggregate(dataset_id: str, request: Request, portal: PortalDep) -> FastJSON:
    """Grouped counts and sums under the filters."""
    result = query.aggregate(portal, dataset_id, _params(request))
    return FastJSON(_with_notice(result.pop("synthetic"), result))


@router.get("/api/v1/datasets/{dataset_id}/releases/{old}/diff/{new}", tags=["releases"])
def get_diff(
    dataset_id: str,
    old: str,
    new: str,
    portal: PortalDep,
    change: Annotated[
        Literal["added", "removed", "changed"] | None, Query(description="Which rows to list.")
    ] = None,
    _size: Annotated[int, Query(ge=1, le=1000, description="Rows per page.")] = 100,
    _offset: Annotated[int, Query(ge=0, le=MAX_DIFF_OFFSET, description="Rows to skip.")] = 0,
) -> dict[str, Any]:
    """Rows added, removed and changed (by primary key) between two releases, with paged rows."""
    result = diff_releases(
        portal, dataset_id, old, new, change=change, limit=_size if change else 0, offset=_offset
    )
    body: dict[str, Any] = {"dataset": dataset_id, "old": old, "new": new, **result.counts()}
    if change:
        body["change"] = change
        body["rows"] = jsonable_encoder(result.rows)
        total = {"added": result.added, "removed": result.removed, "changed": result.changed}[
            change
        ]
        if _offset + _size < total:
            body["next_offset"] = _offset + _size
    return _with_notice(portal.dataset(dataset_id).synthetic, body)


# --- analysis: one route per analysis of the registry (web/analysis_api.py) -----------------

router.include_router(analysis_api.router)
