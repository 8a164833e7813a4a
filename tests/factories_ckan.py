"""A portal served over HTTP on 127.0.0.1 for the CKAN clients (ckanapi, harvesters, loaders).

Seattle's use-of-force file published twice (two quarterly resources and the
current one) and Dallas's use of force published only as counts.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import DALLAS_USE_OF_FORCE, MAPPINGS, make_settings, publish_file

SEATTLE_UOF = REAL_DATA / "seattle" / "Use_Of_Force.csv"
SEATTLE_ROWS = 13_886


@dataclass(frozen=True)
class Served:
    app: FastAPI
    url: str


def build_app(data_dir: Path, **settings: object) -> FastAPI:
    app = create_app(
        make_settings(
            data_dir,
            agency="Seattle Police Department",
            aggregates_only_datasets=["counted"],
            **settings,
        )
    )
    portal = app.state.portal
    publish_file(portal, SEATTLE_UOF, "seattle_uof", "2026-Q1")
    publish_file(portal, SEATTLE_UOF, "seattle_uof", "2026-Q2")
    mapping = MAPPINGS / "dallas_use_of_force.toml"
    publish_file(portal, DALLAS_USE_OF_FORCE, "counted", "2016-Q4", mapping=mapping)
    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[Served]:
    """The app under uvicorn in a thread, on a free port of 127.0.0.1, until the block ends."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Served(app, url)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
