"""Run the portal with uvicorn on a socket bound first, so a taken port is a message, not a traceback.

"Serving on ..." is said only once the port is ours. Serving reads releases
and hashes nothing, so it needs no salt.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from openblotter.config import Settings
from openblotter.domain.errors import Conflict, InvalidInput

#: Pending connections the kernel queues while the app starts (uvicorn's default).
BACKLOG = 2048


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a Conflict that says what to do if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # reuse TIME_WAIT, never a listener
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise _bind_error(host, port, error) from None
    sock.set_inheritable(True)
    return sock


def _bind_error(host: str, port: int, error: OSError) -> Conflict | InvalidInput:
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return Conflict(
            f"Port {port} on {host} is already in use (another OpenBlotter, or another program). "
            f"Stop it, or choose another port: openblotter serve --port {port + 1} "
            f"(make demo PORT={port + 1}).",
            detail={"host": host, "port": port},
        )
    if error.errno == errno.EACCES:
        return InvalidInput(
            f"Not allowed to listen on {where}: ports below 1024 need administrator rights. "
            "Use a port such as 8000 behind a reverse proxy.",
            detail={"host": host, "port": port},
        )
    return InvalidInput(
        f"Cannot listen on {where}: {error.strerror or error}. Check --host (an address of this "
        "machine, e.g. 127.0.0.1 or 0.0.0.0) and --port.",
        detail={"host": host, "port": port},
    )


def serve(settings: Settings, say: Callable[[str], None], workers: int = 1) -> None:
    """Bind, say where the portal is served, then serve until interrupted.

    ``workers`` > 1: that many processes on the one socket (web/workers.py)."""
    import uvicorn

    from openblotter.services.derivation_repair import missing_derivations
    from openblotter.services.portal import Portal
    from openblotter.services.warmup import load_analysis_libraries, prepare_serving_copies
    from openblotter.web.app import create_app
    from openblotter.web.connections import server_config

    sock = bind(settings.host, settings.port)
    for gap in missing_derivations(Portal.open(settings)):  # a publish stopped midway, long ago
        say(f"Warning: {gap.describe()}")
    if workers > 1:
        from openblotter.web.workers import serve_workers

        try:
            shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
            say(
                f"Serving {settings.portal_name} on http://{shown_host}:{settings.port} "
                f"with {workers} worker processes"
            )
            serve_workers(settings, sock, workers)
        finally:
            sock.close()
        return
    try:
        if settings.server_preload_analysis:
            load_analysis_libraries()  # before serving: not in the middle of the first requests
        app = create_app(settings)
        prepare_serving_copies(app.state.portal)  # built in the background (storage/serving.py)
        config = server_config(app, settings)  # timeouts and caps: web/connections.py
        shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
        say(f"Serving {settings.portal_name} on http://{shown_host}:{settings.port}")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
