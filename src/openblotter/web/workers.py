"""``openblotter serve --workers N``: several web processes over one data directory.

The serving process binds the port (web/server.py), then uvicorn's own
supervisor (``uvicorn.supervisors.Multiprocess``) starts N worker processes
that accept connections on that socket, restarts a worker that dies, and stops
them all on Ctrl-C or SIGTERM. Each worker builds the app from the same
settings, so:

- every worker reads the same catalog and release files; a publish, rollback
  or withdrawal made by any process is seen by every worker at its next
  request (storage/catalog_cache.py asks the catalog whether anything was
  committed before each read);
- the per-client rate limits are one table in shared memory
  (web/shared_limits.py), so a client has one allowance, not one per worker;
- ``query_memory_limit = "auto"`` is divided among the workers (a quarter of
  the machine for all of them together); the connection caps
  (``server_max_connections*``) count per worker.

Workers are separate processes (spawned, not forked): nothing but the
settings, the socket and the shared rate-limit table passes to them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from openblotter.config import Settings
from openblotter.services.portal import worker_settings
from openblotter.web.connections import ConnectionGuard, GuardedHttpProtocol, server_config
from openblotter.web.shared_limits import SharedTokenBuckets

#: Seconds a worker may take to answer the supervisor's health check before it is replaced.
#: uvicorn's 5 s is shorter than a worker's start on a busy 2-core machine (importing the app
#: alone can take that long), and a worker replaced while it starts never starts.
HEALTH_CHECK_SECONDS = 60


@dataclass(frozen=True)
class WorkerApp:
    """Builds a worker's app in the worker process (uvicorn calls it once there)."""

    settings: Settings
    buckets: SharedTokenBuckets | None

    def __call__(self) -> Any:
        from openblotter.services.warmup import load_analysis_libraries, prepare_serving_copies
        from openblotter.web.app import create_app

        if self.settings.server_preload_analysis:
            load_analysis_libraries()  # in each worker, before it answers (services/warmup.py)
        app = create_app(self.settings, buckets=self.buckets)
        prepare_serving_copies(app.state.portal)  # one worker builds each copy (a file lock)
        return app


@dataclass(frozen=True)
class WorkerProtocol:
    """The guarded HTTP protocol, bound to the worker's own connection guard.

    A plain object (web/connections.py makes a class per guard, which cannot be sent to a
    spawned process); the guard arrives as a copy in each worker, so each counts its own."""

    guard: ConnectionGuard

    def __call__(self, *args: Any, **kwargs: Any) -> GuardedHttpProtocol:
        protocol = GuardedHttpProtocol(*args, **kwargs)
        protocol.guard = self.guard
        return protocol


def serve_workers(settings: Settings, sock: socket.socket, workers: int) -> None:
    """Run ``workers`` processes on the bound ``sock`` until interrupted."""
    from uvicorn.supervisors import Multiprocess

    shared = worker_settings(settings, workers)
    buckets = (
        SharedTokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        if settings.rate_limit_enabled
        else None
    )
    config = server_config(WorkerApp(shared, buckets), shared)
    config.http = WorkerProtocol(ConnectionGuard.from_settings(shared))  # type: ignore[assignment]
    config.factory = True
    config.workers = workers
    config.timeout_worker_healthcheck = HEALTH_CHECK_SECONDS
    Multiprocess(config, sockets=[sock]).run()
