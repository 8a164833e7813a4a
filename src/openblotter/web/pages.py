"""The public HTML portal: catalog, dataset, explore, charts and release-diff pages.

Routes are thin: read the URL, call services, shape with :mod:`presenters` and
:mod:`summaries`, render a Jinja2 template (autoescaped; Markdown prose is
rendered without raw HTML). Every filter is a plain GET form, so every view
has a shareable URL and works without JavaScript.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from openblotter.domain.errors import InvalidInput, NotFound, OpenBlotterError
from openblotter.services import harvest, metadata, query, recording
from openblotter.services.families import family, family_titles
from openblotter.services.releases import DIFF_CHANGES, diff_releases
from openblotter.web import errors, identity, presenters, summaries
from openblotter.web.deps import PortalDep
from openblotter.web.security import public_url

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
POLICE_DATA_INITIATIVE = "https://www.policedatainitiative.org/"
# Pages load nothing from elsewhere; Vega runs with its CSP-safe expression interpreter.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str | None) -> Markup:
    """Markdown prose as HTML; raw HTML in the text is escaped, unsafe link schemes refused."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes raw HTML (html=False)


@cache
def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: browsers may cache it until the file changes."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def _portal_context(request: Request) -> dict[str, Any]:
    settings = request.app.state.portal.settings
    return {**identity.page_identity(settings), "path": request.url.path}


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["markdown"] = render_markdown
    environment.filters["number"] = lambda n: "" if n is None else f"{n:,}"
    environment.filters["percent"] = lambda share: f"{share:.1%}"
    environment.filters["day"] = lambda iso: (iso or "")[:10]
    environment.globals["static_url"] = static_url
    environment.globals["police_data_initiative"] = POLICE_DATA_INITIATIVE
    return environment


templates = Jinja2Templates(env=_environment(), context_processors=[_portal_context])


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page from a template, with the portal's security headers."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def html_error(request: Request, status: int, code: str, message: str) -> Response:
    """The error page (404 and others) for ``errors.install(app, html_error=...)``."""
    return render(
        request, "error.html", {"status": status, "code": code, "message": message}, status=status
    )


def static_files() -> StaticFiles:
    """Our CSS and JavaScript and the vendored USWDS and Vega files, to mount at /static."""
    return StaticFiles(directory=STATIC_DIR)


def _summary(entry: dict[str, Any]) -> str:
    """A card's summary: the dataset's description, else its family's first paragraph."""
    found = family(entry.get("family"))
    text = entry.get("description") or (found.prose.summary if found else "")
    return text.strip().split("\n\n")[0]


# --- routes --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, portal: PortalDep, q: str = "", family_name: str = Query("", alias="family")
) -> Response:
    """The catalog: who publishes and why, every dataset as a card, search and filter."""
    entries = [{**e, "summary": _summary(e)} for e in metadata.catalog(portal)]
    shown = summaries.search_catalog(entries, q, family_name)
    return render(
        request,
        "home.html",
        {
            "purpose": portal.settings.statement_of_purpose,
            "datasets": shown,
            "total": len(entries),
            "q": q,
            "family": family_name,
            "families": summaries.family_choices(entries, family_titles()),
            "family_titles": family_titles(),
        },
    )


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(request: Request, dataset_id: str, portal: PortalDep) -> Response:
    """What a dataset is, how it is collected, its dictionary, releases and downloads."""
    detail = metadata.dataset_detail(portal, dataset_id)
    return render(
        request,
        "dataset.html",
        {
            "dataset": detail,
            "family": family(detail.get("family")),
            "dictionary": detail["schema"],
            "releases": summaries.release_history(
                dataset_id, detail["releases"], rows_public=detail["access"] == "rows"
            ),
            "jsonld": summaries.dataset_jsonld(
                public_url(request, ""),
                detail,
                identity.publisher_name(portal.settings),
                catalog_name=portal.settings.portal_name,
                license_url=harvest.license_uri(portal.settings.license),
                place=portal.settings.place_name,
            ),
            "recording": recording.for_dataset_page(portal, dataset_id),
        },
    )


@router.get("/datasets/{dataset_id}/explore", response_class=HTMLResponse)
def explore_page(request: Request, dataset_id: str, portal: PortalDep) -> Response:
    """A table of matching rows with filters, facet counts, keyset pages and downloads."""
    detail = metadata.dataset_detail(portal, dataset_id)
    fields = detail["schema"]["fields"]
    params = presenters.clean_params(request.query_params.multi_items())
    page: dict[str, Any] | None = None
    facets: dict[str, Any] | None = None
    problem: OpenBlotterError | None = None
    try:
        page = query.rows_page(portal, dataset_id, params)
        facets = query.facet_counts(
            portal, dataset_id, presenters.filter_params(params), presenters.facet_columns(fields)
        )
    except (InvalidInput, NotFound) as error:
        problem = error
    candidates = summaries.chart_candidates(portal.dataset(dataset_id).schema, fields)
    key_names = ["quarter", *(f["name"] for f in summaries.chart_fields(candidates, facets)[0])]
    view = presenters.explore_view(dataset_id, fields, params, page, facets, key_names)
    return render(
        request,
        "explore.html",
        {"dataset": detail, "problem": problem, **view},
        status=_status(problem),
    )


@router.get("/datasets/{dataset_id}/charts", response_class=HTMLResponse)
def charts_page(request: Request, dataset_id: str, portal: PortalDep) -> Response:
    """Counts by quarter and by the family's key fields: charts with table alternatives."""
    detail = metadata.dataset_detail(portal, dataset_id)
    fields = detail["schema"]["fields"]
    params = presenters.filter_params(
        presenters.clean_params(request.query_params.multi_items()), presenters.CHART_CONTROLS
    )
    candidates = summaries.chart_candidates(portal.dataset(dataset_id).schema, fields)
    charts: list[dict[str, Any]] = []
    uniform: list[dict[str, str]] = []
    problem: OpenBlotterError | None = None
    suppression: dict[str, Any] | None = None
    try:
        facets = query.facet_counts(portal, dataset_id, params, [f["name"] for f in candidates])
        suppression = facets.get("suppression")
        chosen, uniform = summaries.chart_fields(candidates, facets)
        if presenters.has_dates(fields):
            by_quarter = [*params, ("_group", "quarter"), ("_sort", "quarter")]
            groups = query.aggregate(portal, dataset_id, by_quarter)["groups"]
            charts.append(summaries.quarter_chart(dataset_id, params, groups, facets["total"]))
        charts += [summaries.breakdown_chart(dataset_id, params, f, facets) for f in chosen]
    except (InvalidInput, NotFound) as error:
        problem, charts = error, []
    titles = {f["name"]: f.get("title") or f["name"] for f in fields}
    return render(
        request,
        "charts.html",
        {
            "dataset": detail,
            "charts": charts,
            "uniform": uniform,
            "problem": problem,
            "suppression": suppression,
            "release_label": dict(params).get("_release", detail.get("current_release")),
            "conditions": presenters.describe_filters(params, titles),
            "explore_href": f"/datasets/{dataset_id}/explore" + presenters.query_string(params),
        },
        status=_status(problem),
    )


@router.get("/datasets/{dataset_id}/releases/{old}/diff/{new}", response_class=HTMLResponse)
def diff_page(
    request: Request,
    dataset_id: str,
    old: str,
    new: str,
    portal: PortalDep,
    change: str = "added",
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    """What changed between two releases: counts, changed fields, and the rows, a page at a time."""
    detail = metadata.dataset_detail(portal, dataset_id)
    size = presenters.DIFF_PAGE_SIZE
    result = diff_releases(
        portal, dataset_id, old, new, change=change, limit=size + 1, offset=(page - 1) * size
    )
    shown = summaries.diff_rows(result.rows[:size], change, result.key)
    base = f"/datasets/{dataset_id}/releases/{old}/diff/{new}"
    return render(
        request,
        "diff.html",
        {
            "dataset": detail,
            "old": old,
            "new": new,
            "result": result,
            "change": change,
            "changes": DIFF_CHANGES,
            "base": base,
            "shown": shown,
            "page": page,
            "next_href": f"{base}?change={change}&page={page + 1}"
            if len(result.rows) > size
            else None,
            "previous_href": f"{base}?change={change}&page={page - 1}" if page > 1 else None,
        },
    )


# --- helpers -------------------------------------------------------------------------------


def _status(problem: OpenBlotterError | None) -> int:
    return 200 if problem is None else errors.form_status(problem)
