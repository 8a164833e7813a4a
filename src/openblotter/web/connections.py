"""Connection hygiene for uvicorn, so slow clients cannot starve others (``web/server.py`` runs it).

uvicorn waits for a request's headers without any time limit and lets one
address hold any number of connections, so a few hundred connections that
send a header line every few seconds (slowloris) hold the server's file
descriptors. :class:`ConnectionGuard` adds what it lacks, in the HTTP protocol
itself:

- a request (headers and body) must arrive within ``server_request_timeout``
  seconds of its first byte (or of the connection opening); otherwise the
  connection is answered 408 and closed;
- a client that stops reading a response for ``server_write_timeout`` seconds
  is disconnected (a slow reader holds a connection and a streamed export);
- request heads larger than ``server_max_head_bytes`` are answered 431;
- one client address holds at most ``server_max_connections_per_client``
  connections (0: no cap; set 0 behind a reverse proxy, where every connection
  comes from the proxy), and the process at most ``server_max_connections``;
  connections over the cap are closed at once, and requests beyond as many in
  progress answered 503 (error shape, ``Retry-After``).

The server banner is off; forwarding headers are read by the app itself, only
from ``trusted_proxies`` (:mod:`openblotter.web.clients`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from openblotter.config import Settings

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
)
_TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
)
_TIMEOUT_BODY = (
    b'{"error":{"code":"timeout","message":"The request did not arrive in time; '
    b'send it again.","detail":{}}}'
)
_TOO_LARGE_BODY = (
    b'{"error":{"code":"too_large","message":"The request headers are too large.","detail":{}}}'
)


@dataclass
class ConnectionGuard:
    """The connection limits of one server process, and who holds connections now."""

    request_timeout: float
    write_timeout: float
    max_head_bytes: int
    max_connections: int
    max_per_client: int
    open_by_client: Counter[str] = field(default_factory=Counter)

    def admit(self, client: str) -> bool:
        """Count a new connection, or refuse it (False) when a cap is reached."""
        if sum(self.open_by_client.values()) >= self.max_connections:
            return False
        if self.max_per_client and self.open_by_client[client] >= self.max_per_client:
            return False
        self.open_by_client[client] += 1
        return True

    def release(self, client: str) -> None:
        self.open_by_client[client] -= 1
        if self.open_by_client[client] <= 0:
            del self.open_by_client[client]

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionGuard:
        return cls(
            request_timeout=settings.server_request_timeout,
            write_timeout=settings.server_write_timeout,
            max_head_bytes=settings.server_max_head_bytes,
            max_connections=settings.server_max_connections,
            max_per_client=settings.server_max_connections_per_client,
        )


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request deadline, a head size cap and connection caps."""

    guard: ConnectionGuard

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._peer = ""
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes: int | None = 0
        self._stall: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._peer = self.client[0] if self.client else ""
        if not self.guard.admit(self._peer):
            transport.abort()
            return
        self._admitted = True
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.guard.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self._refuse(_TIMEOUT_RESPONSE, _TIMEOUT_BODY)

    def _refuse(self, template: bytes, body: bytes) -> None:
        if self.cycle is None or self.cycle.response_started is False:
            self.transport.write(template % (len(body), body))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            self._head_bytes += len(data)
            if self._head_bytes > self.guard.max_head_bytes:
                self._disarm()
                self._refuse(_TOO_LARGE_RESPONSE, _TOO_LARGE_BODY)
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()
        if self._head_bytes is None:
            self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        if len(self.tasks) < self.guard.max_connections:
            super().on_headers_complete()
            return
        # Over the cap of requests in progress: answer 503 in the error shape (uvicorn's own
        # limit_concurrency answers plain text), with the app swapped for this request only.
        self.app = _busy
        try:
            super().on_headers_complete()
        finally:
            self.app = self.config.loaded_app

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def pause_writing(self) -> None:
        # The client stopped reading: give it server_write_timeout to start again.
        super().pause_writing()
        if self._stall is None:
            self._stall = self.loop.call_later(self.guard.write_timeout, self.transport.abort)

    def resume_writing(self) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        self._disarm()
        if self._admitted:
            self._admitted = False
            self.guard.release(self._peer)
        super().connection_lost(exc)


async def _busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = (
        b'{"error":{"code":"busy","message":"The server is answering as many requests as it '
        b'can; try again in a few seconds.","detail":{"retry_after":5}}}'
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"5"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def protocol_for(guard: ConnectionGuard) -> type[GuardedHttpProtocol]:
    """A protocol class bound to one process's guard (uvicorn instantiates it per connection)."""
    return type("BoundGuardedHttpProtocol", (GuardedHttpProtocol,), {"guard": guard})


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for the portal: banner off, limits on, proxies handled by the app."""
    return uvicorn.Config(
        app,
        http=protocol_for(ConnectionGuard.from_settings(settings)),
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=settings.server_keep_alive_timeout,
        log_level="warning",
    )
