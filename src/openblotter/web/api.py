"""Native JSON API under /api/v1 (catalog, metadata, release files, health)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, StreamingResponse

from openblotter.domain.formats import format_names
from openblotter.services import analysis, community, metadata, outcomes, query
from openblotter.services.releases import diff_releases, release_file, release_manifest
from openblotter.web.deps import PortalDep
from openblotter.web.security import public_url

router = APIRouter()
#: Health checks ask the catalog on threads of their own (see healthz).
_HEALTH_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
#: Rows a diff page may skip: far beyond any release, inside the engine's 64-bit offsets.
MAX_DIFF_OFFSET = 10**12


@router.get("/healthz", tags=["operations"])
async def healthz(request: Request) -> dict[str, Any]:
    """Ready when the catalog answers. The catalog is asked on threads of its own, not in the
    pool that queries and exports fill (nor is the portal a dependency, which would run there),
    so a busy server still answers its health checks."""
    portal = request.app.state.portal
    loop = asyncio.get_running_loop()
    datasets = await loop.run_in_executor(_HEALTH_THREADS, portal.catalog.datasets)
    return {"status": "ok", "datasets": len(datasets)}


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


@router.get("/api/v1/datasets/{dataset_id}/releases/{label}/file.parquet", tags=["releases"])
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


class FastJSON(Response):
    """JSON rendered by orjson. The query results are JSON-ready already, so the hot routes
    skip FastAPI's response validation (most of a cached page's time otherwise)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


@router.get(
    "/api/v1/datasets/{dataset_id}/rows",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=FastJSON,
)
def get_rows(
    dataset_id: str,
    request: Request,
    response: Response,
    portal: PortalDep,
    _release: Annotated[str | None, Query(description="Release label (default: current).")] = None,
    _q: Annotated[str | None, Query(description="Full-text search over text columns.")] = None,
    _sort: Annotated[str | None, Query(description="Sort: col,-col2.")] = None,
    _fields: Annotated[str | None, Query(description="Columns to return: a,b.")] = None,
    _size: Annotated[
        int | None, Query(ge=1, le=1000, description="Rows per page (default 100).")
    ] = None,
    _next: Annotated[str | None, Query(description="Opaque token from `next`.")] = None,
    _count: Annotated[bool | None, Query(description="Add the exact `total`.")] = None,
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


@router.get("/api/v1/datasets/{dataset_id}/rows.{fmt}", tags=["query"], description=_FILTER_DOC)
def export_rows(
    dataset_id: str,
    fmt: Annotated[str, Path(description=_FORMATS_DOC)],
    request: Request,
    portal: PortalDep,
    _release: Annotated[str | None, Query(description="Release label (default: current).")] = None,
    _q: Annotated[str | None, Query(description="Full-text search over text columns.")] = None,
    _sort: Annotated[str | None, Query(description="Sort: col,-col2.")] = None,
    _fields: Annotated[str | None, Query(description="Columns: a,b.")] = None,
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
)
def get_facets(
    dataset_id: str,
    request: Request,
    portal: PortalDep,
    _facet: Annotated[
        list[str] | None, Query(description="Column to count values of (repeat).")
    ] = None,
    _release: Annotated[str | None, Query(description="Release label (default: current).")] = None,
    _q: Annotated[str | None, Query(description="Full-text search over text columns.")] = None,
) -> FastJSON:
    """Value counts per `_facet` column under the same filters."""
    result = query.facet_counts(portal, dataset_id, _params(request))
    return FastJSON(_with_notice(result.pop("synthetic"), result))


@router.get(
    "/api/v1/datasets/{dataset_id}/aggregate",
    tags=["query"],
    description=_FILTER_DOC,
    response_class=FastJSON,
)
def get_aggregate(
    dataset_id: str,
    request: Request,
    portal: PortalDep,
    _group: Annotated[str | None, Query(description="Group by: quarter,subject_race.")] = None,
    _agg: Annotated[
        list[str] | None, Query(description="count, sum:col, avg:col, min:col, max:col.")
    ] = None,
    _release: Annotated[str | None, Query(description="Release label (default: current).")] = None,
    _q: Annotated[str | None, Query(description="Full-text search over text columns.")] = None,
    _sort: Annotated[str | None, Query(description="Sort groups: col,-count.")] = None,
    _size: Annotated[int | None, Query(ge=1, description="Most groups to return.")] = None,
) -> FastJSON:
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


# --- analysis ------------------------------------------------------------------------------


@router.get("/api/v1/analysis/benchmark", tags=["analysis"], description=_FILTER_DOC)
def get_benchmark(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Dataset id (use of force, contacts, complaints).")],
    by: Annotated[
        str, Query(description="subject_race, subject_sex or subject_age_group.")
    ] = "subject_race",
    period: Annotated[str, Query(description="2025, 2025-Q3 or last4q.")] = "last4q",
    reference: Annotated[
        str | None, Query(description="Reference group (default: all residents).")
    ] = None,
) -> dict[str, Any]:
    """Events by group against residents by group: rates per 1,000, rate ratios, 95% intervals."""
    own = {"dataset", "by", "period", "reference"}
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in own]
    return jsonable_encoder(
        analysis.benchmark(
            portal, dataset, by=by, period=period, reference=reference, filters=filters
        )
    )


@router.get("/api/v1/analysis/representation", tags=["analysis"])
def get_representation(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[
        str, Query(description="Department demographics dataset id.")
    ] = "department_demographics",
) -> dict[str, Any]:
    """Staff by race and ethnicity against residents: representation index, by sworn status and rank."""
    filters = [(k, v) for k, v in request.query_params.multi_items() if k != "dataset"]
    return jsonable_encoder(community.representation(portal, dataset, filters=filters))


@router.get("/api/v1/analysis/veil-of-darkness", tags=["analysis"])
def get_veil_of_darkness(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Traffic stops / contacts dataset id.")],
    group: Annotated[
        str, Query(description="The driver group of interest.")
    ] = "Black or African American",
    reference: Annotated[
        str, Query(description="The group compared with (White, as published; all: everyone else).")
    ] = "White",
    controls: Annotated[
        str | None,
        Query(
            description="Fixed effects: geography,year,month,day_of_week or none "
            "(default: geography and year when the data has them)."
        ),
    ] = None,
    period: Annotated[str, Query(description="2025, 2025-Q3, last4q or all.")] = "all",
) -> dict[str, Any]:
    """Are drivers of a group stopped less often after dark? (Pierson et al. 2020's specification)."""
    from openblotter.services.darkness import darkness, parse_controls

    own = ("dataset", "group", "reference", "controls", "period")
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in own]
    result = darkness(
        portal,
        dataset,
        group=group,
        reference=reference,
        controls=parse_controls(controls),
        period=period,
        filters=filters,
    )
    return jsonable_encoder(result)


@router.get("/api/v1/analysis/outcome-tests", tags=["analysis"], description=_FILTER_DOC)
def get_outcome_tests(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Stops / contacts dataset id.")],
    by: Annotated[str, Query(description="subject_race or subject_sex.")] = "subject_race",
    period: Annotated[str, Query(description="2025, 2025-Q3, last4q or all.")] = "all",
) -> dict[str, Any]:
    """Search, hit and arrest rates by group with exact (Clopper-Pearson) intervals."""
    return jsonable_encoder(outcomes.run(portal, "outcome-tests", _params(request)))


@router.get("/api/v1/analysis/recording-changes", tags=["analysis"])
def get_recording_changes(
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Dataset id.")],
    release: Annotated[str | None, Query(description="Release label (default: current).")] = None,
) -> dict[str, Any]:
    """Abrupt shifts in the shares of each coded field, month by month: how recording changed."""
    from openblotter.services.recording import changes

    return jsonable_encoder(changes(portal, dataset, release))


# --- outcomes and funnel plots (services/outcomes.py) ----------------------------------------


@router.get("/api/v1/analysis/funnel", tags=["analysis"], description=_FILTER_DOC)
def get_funnel(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Dataset id.")],
    by: Annotated[str, Query(description="beat, sector, district or quarter.")] = "beat",
    period: Annotated[
        str | None, Query(description="2025, 2025-Q3 or last4q (default: all).")
    ] = None,
) -> dict[str, Any]:
    """Events per beat or per quarter against exact Poisson control limits (a funnel plot)."""
    return jsonable_encoder(outcomes.run(portal, "funnel", _params(request)))


@router.get("/api/v1/analysis/outcomes", tags=["analysis"], description=_FILTER_DOC)
def get_outcomes(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[
        str, Query(description="Complaints, use of force, contacts or hate crimes dataset id.")
    ],
) -> dict[str, Any]:
    """Outcome tables of a dataset's family: channels, findings, sustained rates, force, roles, bias."""
    return jsonable_encoder(outcomes.run(portal, "outcomes", _params(request)))


@router.get("/api/v1/analysis/{name}.csv", tags=["analysis"], description=_FILTER_DOC)
def get_analysis_csv(
    name: Annotated[
        Literal["benchmark", "outcomes", "funnel", "outcome-tests"],
        Path(description="The analysis."),
    ],
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Dataset id.")],
) -> Response:
    """The table behind an analysis as CSV (same parameters as its JSON; numbers unrounded)."""
    result = outcomes.run(portal, name, _params(request))
    prefix = "synthetic-demo-" if result.get("synthetic") else ""
    return Response(
        outcomes.analysis_csv(name, result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{prefix}{name}-{dataset}.csv"'},
    )


@router.get("/api/v1/analysis/race-pairs", tags=["analysis"])
def get_race_pairs(
    request: Request,
    portal: PortalDep,
    dataset: Annotated[str, Query(description="Use of force, complaints or contacts dataset id.")],
) -> dict[str, Any]:
    """Officer race by community-member race: counts and shares, every pair listed."""
    filters = [(k, v) for k, v in request.query_params.multi_items() if k != "dataset"]
    return jsonable_encoder(community.race_pairs(portal, dataset, filters=filters))
