"""The web application: the JSON API, downloads, pages, analysis pages and harvest doors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from openblotter import __version__
from openblotter.config import Settings
from openblotter.services.portal import Portal
from openblotter.web import (
    analysis_pages,
    api,
    api_docs,
    ckan,
    errors,
    harvest,
    identity,
    pages,
    soda,
)
from openblotter.web.cancellation import CancelOnDisconnect
from openblotter.web.clients import parse_networks
from openblotter.web.health import CatalogHealth, HealthAnswer
from openblotter.web.limits import Buckets, RequestLimits, TokenBuckets
from openblotter.web.openapi_errors import PORTAL_ERRORS, document_errors
from openblotter.web.openapi_links import add_links
from openblotter.web.security import ReadApiCors, SecurityHeaders, TrustedHosts


def create_app(settings: Settings, buckets: Buckets | None = None) -> FastAPI:
    """Build the app for one portal (the settings decide the catalog and data directory).

    ``buckets``: the rate limits' table when several processes share one
    (web/workers.py); by default each app counts in its own."""
    portal = Portal.open(settings)
    app = FastAPI(
        title=f"{settings.portal_name} API",
        version=__version__,
        description=(
            f"Open data of {identity.publisher_name(settings)}: every release of every dataset, queryable. "
            'The portal\'s errors have one shape, {"error": {"code", "message", "detail"}}; '
            "the SODA and CKAN doors answer in Socrata's and CKAN's."
        ),
        docs_url=None,  # web/api_docs.py serves the docs from vendored files, not a CDN
        redoc_url=None,
        responses=PORTAL_ERRORS,  # documented on every route; the doors replace default
    )
    app.state.portal = portal
    errors.install(app, html_error=pages.html_error)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(analysis_pages.router)
    app.include_router(api_docs.router)
    app.include_router(harvest.router)
    app.include_router(soda.router)
    app.include_router(ckan.router)
    app.mount("/static", pages.static_files(), name="static")
    _edit_openapi(app, add_links, document_errors)
    # The client going away stops the request's queries; added first, so it sits inside the
    # security headers, hosts and limits (a refused request runs no query to stop).
    app.add_middleware(CancelOnDisconnect, time_limit=settings.query_timeout_seconds)
    # /healthz on the event loop, inside the headers, hosts and limits (web/health.py).
    app.state.health = CatalogHealth(lambda: len(portal.catalog.datasets()))
    app.state.health.check()
    app.add_middleware(HealthAnswer, health=app.state.health)
    _add_middleware(app, settings, buckets)
    return app


def _edit_openapi(app: FastAPI, *edits: Callable[[dict[str, Any]], None]) -> None:
    """Make ``app.openapi()`` return FastAPI's document with ``edits`` made to it, once."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            schema = generate()
            for edit in edits:
                edit(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_middleware(app: FastAPI, settings: Settings, shared: Buckets | None) -> None:
    """Outermost first: headers on every answer, hosts, CORS, then limits before routing."""
    buckets = (
        shared or TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        if settings.rate_limit_enabled
        else None
    )
    proxies = parse_networks(settings.trusted_proxies)
    app.add_middleware(
        RequestLimits,
        max_url_bytes=settings.max_url_bytes,
        buckets=buckets,
        trusted_proxies=proxies,
        html_error=pages.html_error,
    )
    app.add_middleware(ReadApiCors)
    app.add_middleware(TrustedHosts, allowed=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders, behind_tls=settings.behind_tls)
