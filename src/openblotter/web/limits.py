"""Bounded requests: a cap on the URL, and per-client rate limits answering 429.

Both run before routing, as plain ASGI middleware, so a refused request costs
almost nothing. The rate limit is a token bucket per client address
(:mod:`openblotter.web.clients`): ``rate_limit_per_minute`` tokens flow in each
minute, up to ``rate_limit_burst``; a download or an analysis CSV costs
``EXPORT_COST`` tokens, other requests one. ``/healthz`` and ``/static`` are
never limited. Buckets live in the process; the workers of ``openblotter serve
--workers N`` share one table instead (:mod:`openblotter.web.shared_limits`).
Separate servers (several machines) each count on their own: limit at the
proxy for one count across them.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response

from openblotter.web.clients import Network, client_address
from openblotter.web.errors import wants_html

Scope = dict[str, Any]
ASGIApp = Callable[..., Any]

#: Tokens a streamed download (rows.csv, rows.xlsx, ...) or an analysis CSV costs.
EXPORT_COST = 5
#: Clients remembered at once; the least recently seen are forgotten first (a full bucket).
MAX_TRACKED_CLIENTS = 100_000
_UNLIMITED = ("/healthz", "/static/")
_EXPORT = re.compile(r"/rows\.\w+$|/analysis/[\w-]+\.csv$")


class Buckets(Protocol):
    """What the middleware needs of a table of buckets (in the process, or shared)."""

    rate: float
    burst: float

    def take(self, client: str, cost: int = 1) -> float: ...


class TokenBuckets:
    """One token bucket per client; ``take`` answers the seconds to wait, or 0 when allowed."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, cost: int = 1) -> float:
        now = self.clock()
        tokens, updated = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        cost = min(float(cost), self.burst)
        wait = 0.0 if tokens >= cost else (cost - tokens) / self.rate
        self._buckets[client] = (tokens - cost if wait == 0 else tokens, now)
        if len(self._buckets) > MAX_TRACKED_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


def error_response(code: str, message: str, detail: dict[str, Any]) -> bytes:
    """A body in the portal's one error shape (web/errors.py)."""
    return orjson.dumps({"error": {"code": code, "message": message, "detail": detail}})


async def send_error(
    send: Callable[..., Any],
    status: int,
    body: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A JSON error response in the portal's error shape, sent straight from middleware."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: refuse over-long URLs (414) and clients over their rate (429)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_url_bytes: int,
        buckets: Buckets | None,
        trusted_proxies: tuple[Network, ...] = (),
        html_error: Callable[[Request, int, str, str], Response] | None = None,
    ) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.buckets = buckets
        self.trusted_proxies = trusted_proxies
        self.html_error = html_error

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted_proxies)
        if self.trusted_proxies and scope.get("client"):
            scope = {**scope, "client": (client, 0)}
        url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if url_bytes > self.max_url_bytes:
            await self._refuse(scope, receive, send, 414, _too_long(url_bytes, self.max_url_bytes))
            return
        path: str = scope.get("path", "")
        if self.buckets is not None and not path.startswith(_UNLIMITED):
            cost = EXPORT_COST if _EXPORT.search(path) else 1
            wait = self.buckets.take(bucket_key(client), cost)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                body = _rate_limited(seconds, self.buckets)
                retry = [(b"retry-after", str(seconds).encode())]
                await self._refuse(scope, receive, send, 429, body, retry)
                return
        await self.app(scope, receive, send)

    async def _refuse(
        self,
        scope: Scope,
        receive: Any,
        send: Any,
        status: int,
        body: bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """The error as JSON, or as the error page for a browser asking for HTML."""
        request = Request(scope)
        if self.html_error is not None and wants_html(request):
            message = orjson.loads(body)["error"]
            page = self.html_error(request, status, message["code"], message["message"])
            for name, value in extra or []:
                page.headers[name.decode()] = value.decode()
            await page(scope, receive, send)
            return
        await send_error(send, status, body, extra)


def bucket_key(client: str) -> str:
    """What a limit counts by: the address; for IPv6 its /64 (one household or server)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client


def _too_long(size: int, limit: int) -> bytes:
    return error_response(
        "too_large",
        f"The address of this request has {size:,} bytes; the portal takes at most {limit:,}. "
        "Ask for fewer values at once (split a long list into several requests).",
        {"parameter": "url", "allowed": limit, "given": size},
    )


def _rate_limited(seconds: int, buckets: Buckets) -> bytes:
    per_minute = round(buckets.rate * 60)
    return error_response(
        "rate_limited",
        f"Too many requests from your address: the portal answers {per_minute} a minute "
        f"(bursts of {int(buckets.burst)}). Try again in {seconds} s; for every row at once, "
        "download the release file or a rows.csv export instead of paging.",
        {"retry_after": seconds, "per_minute": per_minute, "burst": int(buckets.burst)},
    )
