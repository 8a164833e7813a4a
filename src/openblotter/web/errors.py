"""The one place that maps portal errors to HTTP status, and the one JSON error shape.

Every door answers a domain error (``domain.errors``) with :func:`status_of`: the API's
handlers, the pages that show a problem beside a form, any new door.

``{"error": {"code": ..., "message": ..., "detail": {...}}}`` — a test pins it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from openblotter.domain.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    OpenBlotterError,
    TimedOut,
    TooLarge,
    Unavailable,
)

STATUS: dict[type[OpenBlotterError], int] = {
    NotFound: 404,
    InvalidInput: 400,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Forbidden: 403,
    ConfigurationError: 500,
    Unavailable: 503,
    TimedOut: 504,
}


def error_body(code: str, message: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail or {}}}


def status_of(error: OpenBlotterError) -> int:
    """The HTTP status of a portal error (its most specific kind in :data:`STATUS`)."""
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def form_status(error: OpenBlotterError) -> int:
    """The status of a page that shows a problem beside its filters (explore, charts): the
    page exists, so a filter the data cannot answer is a 400; a release that does not exist
    (``_release``) is a 404."""
    if error.detail.get("parameter") == "_release":
        return STATUS[NotFound]
    return STATUS[InvalidInput]


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith(
        ("/api/", "/resource/")
    ) and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, html_error: Any = None) -> None:
    """Register the handlers; ``html_error(request, status, code, message)`` renders pages."""

    def respond(
        request: Request, status: int, code: str, message: str, detail: dict[str, Any]
    ) -> Response:
        if html_error is not None and wants_html(request):
            return html_error(request, status, code, message)  # type: ignore[no-any-return]
        return JSONResponse(error_body(code, message, detail), status_code=status)

    @app.exception_handler(OpenBlotterError)
    async def portal_error(request: Request, error: OpenBlotterError) -> Response:
        response = respond(request, status_of(error), error.code, error.message, error.detail)
        if "retry_after" in error.detail:
            response.headers["Retry-After"] = str(error.detail["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"parameter": ".".join(str(p) for p in e.get("loc", [])[1:]), "message": e.get("msg")}
            for e in error.errors()
        ]
        names = ", ".join(p["parameter"] for p in problems)
        return respond(
            request,
            400,
            "invalid_input",
            f"Invalid request parameter(s): {names}.",
            {"problems": problems},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = "not_found" if error.status_code == 404 else "http_error"
        message = (
            f"Nothing is published at {request.url.path}."
            if error.status_code == 404
            else str(error.detail)
        )
        return respond(request, error.status_code, code, message, {})
