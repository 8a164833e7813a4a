"""``/healthz`` answered on the event loop, never behind the request threads (issue 17).

A health check that is routed like any request waits for what every request
waits for: the route, its dependencies and a thread of the pool that queries,
pages and analyses fill, then the GIL once per hop. Under 16 busy clients that
was up to 3.4 s. Here the check is plain ASGI middleware: it asks the catalog
on a thread of its own (one check at a time, shared by every health request
that arrives meanwhile), waits for it a short while, and otherwise answers
from the last check. The answer stays real: 503 when the catalog raised, or
has not answered for ``stale_after`` seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

Scope = dict[str, Any]
HEALTH_PATH = "/healthz"


class CatalogHealth:
    """Whether the catalog answers: checked on a thread of its own, one check at a time."""

    def __init__(
        self,
        count_datasets: Callable[[], int],
        *,
        wait: float = 0.25,
        stale_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count_datasets = count_datasets
        self.wait = wait
        self.stale_after = stale_after
        self.clock = clock
        self._threads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="healthz")
        self._lock = threading.Lock()
        self._running: concurrent.futures.Future[None] | None = None
        #: (when, datasets) of the last check that answered; the last error, if the latest failed.
        self._answered: tuple[float, int] | None = None
        self._failed: str | None = None

    def check(self) -> None:
        """Ask the catalog now (on the calling thread) and remember the answer."""
        try:
            datasets = self.count_datasets()
        except Exception as error:  # noqa: BLE001 - any failure of the catalog is ill health
            self._failed = type(error).__name__
            return
        self._answered, self._failed = (self.clock(), datasets), None

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(status, body): 200 with the number of datasets, or 503 in the error shape."""
        with self._lock:
            if self._running is None or self._running.done():
                self._running = self._threads.submit(self.check)
            running = self._running
        await asyncio.wait({asyncio.wrap_future(running)}, timeout=self.wait)
        return self.answer()

    def answer(self) -> tuple[int, dict[str, Any]]:
        """The answer from the last check (see :meth:`report`)."""
        if self._failed is not None:
            return 503, _unavailable(
                f"The catalog cannot be read ({self._failed}); see the server's log.",
                {"reason": "catalog"},
            )
        if self._answered is None:
            return 503, _unavailable("The catalog has not answered yet.", {"reason": "starting"})
        when, datasets = self._answered
        age = self.clock() - when
        if age > self.stale_after:
            return 503, _unavailable(
                f"The catalog has not answered for {age:.0f} s.",
                {"reason": "catalog", "seconds_since_answer": round(age, 1)},
            )
        return 200, {"status": "ok", "datasets": datasets}


def _unavailable(message: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": "unavailable", "message": message, "detail": detail}}


class HealthAnswer:
    """ASGI middleware: ``GET /healthz`` answered from :class:`CatalogHealth`, before routing."""

    def __init__(self, app: Any, health: CatalogHealth) -> None:
        self.app = app
        self.health = health

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        status, body = await self.health.report()
        payload = orjson.dumps(body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
        ]
        if status == 503:
            headers.append((b"retry-after", b"5"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
