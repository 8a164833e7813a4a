"""The web application: JSON API, downloads, pages and compatibility layers."""

from __future__ import annotations

from fastapi import FastAPI

from openblotter import __version__
from openblotter.config import Settings
from openblotter.services.portal import Portal
from openblotter.web import analysis_pages, api, api_docs, errors, identity, pages
from openblotter.web.cancellation import CancelOnDisconnect


def create_app(settings: Settings) -> FastAPI:
    """Build the app for one portal (the settings decide the catalog and data directory)."""
    portal = Portal.open(settings)
    app = FastAPI(
        title=f"{settings.portal_name} API",
        version=__version__,
        description=(
            f"Open data of {identity.publisher_name(settings)}: every release of every dataset, queryable. "
            'Errors have one shape: {"error": {"code", "message", "detail"}}.'
        ),
        docs_url=None,  # web/api_docs.py serves the docs from vendored files, not a CDN
        redoc_url=None,
    )
    app.state.portal = portal
    errors.install(app, html_error=pages.html_error)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(analysis_pages.router)
    app.include_router(api_docs.router)
    app.mount("/static", pages.static_files(), name="static")
    # The client going away stops the request's queries (outermost: it sees every request).
    app.add_middleware(CancelOnDisconnect)
    return app
