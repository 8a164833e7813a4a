"""Headers on every response, trusted hosts, the read API's CORS policy, and public URLs.

- Every response (pages, API, downloads, ``/api/docs``, static files, errors)
  carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``,
  ``X-Frame-Options: DENY`` and a Content-Security-Policy with
  ``frame-ancestors 'none'``: the pages' own (set by ``pages.render``, the API
  docs included), or ``default-src 'none'`` for everything else. ``Strict-Transport-Security`` is added when ``behind_tls`` is set.
- ``allowed_hosts``: a request naming another host is refused (400, error shape).
- The read API (``/api/``) may be read from any origin, without credentials
  (GET, HEAD; OPTIONS preflights); the pages are not opened to other origins.
- Absolute URLs come from ``public_base_url``, never from the ``Host`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request

from openblotter.web.limits import ASGIApp, Scope, error_response, send_error

#: Responses that are not pages (JSON, downloads, static files) may load nothing.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = "max-age=63072000; includeSubDomains"
#: Headers a cross-origin script may read from API responses.
CORS_EXPOSED = ["Link", "Retry-After", "X-Data-Notice", "Content-Disposition", "ETag", "Digest"]
CORS_EXPOSED += ["X-SODA2-Fields", "X-SODA2-Types", "Last-Modified"]  # the Socrata door's


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (kept when a route set them)."""

    def __init__(self, app: ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (b"content-security-policy", DEFAULT_CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        if self.behind_tls:
            extra.append((b"strict-transport-security", HSTS.encode()))

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Whether ``host`` (port dropped) matches an entry: exact, ``*.example.gov`` or ``*``."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # [::1]:8000 kept whole
    name = name.strip().lower().rstrip(".")
    for pattern in (p.strip().lower() for p in allowed):
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and (name.endswith(pattern[1:]) or name == pattern[2:]):
            return True
    return False


class TrustedHosts:
    """ASGI middleware: refuse requests whose ``Host`` is not in ``allowed_hosts`` (400)."""

    def __init__(self, app: ASGIApp, *, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = list(allowed)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "*" in self.allowed:
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if host_allowed(host, self.allowed):
            await self.app(scope, receive, send)
            return
        body = error_response(
            "invalid_input",
            "This portal does not answer to that host name; use its public address.",
            {"parameter": "Host"},
        )
        await send_error(send, 400, body)


class ReadApiCors:
    """ASGI middleware: CORS for the read API only — any origin, no credentials, GET and HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["Accept", "Accept-Language", "Content-Language", "If-None-Match"],
            allow_credentials=False,
            expose_headers=CORS_EXPOSED,
            max_age=86_400,
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(("/api/", "/resource/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def public_url(request: Request, path_and_query: str) -> str:
    """An absolute URL from ``public_base_url``, or the path itself (relative) when unset."""
    base = request.app.state.portal.settings.public_base_url
    return f"{base.rstrip('/')}{path_and_query}" if base else path_and_query
