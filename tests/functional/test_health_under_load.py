"""/healthz answers while every request thread is busy (issue 17: 60 parallel XLSX exports
pushed /healthz to 24.6 s). The request threads are cut to one and held by a rows query that
waits; the health check still answers, and only then is the query let go."""

from __future__ import annotations

import threading

import anyio.to_thread
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file


def test_healthz_answers_while_the_request_threads_are_all_busy(tmp_path):
    app = create_app(make_settings(tmp_path / "portal"))
    portal = app.state.portal
    publish_file(portal, REAL_DATA / "denver/BiasMotivatedCrimes.csv", "denver", "2026-Q2")
    entered, release = threading.Event(), threading.Event()
    lookup = portal.catalog.dataset_and_current

    def slow_lookup(dataset_id):
        entered.set()
        release.wait(60)
        return lookup(dataset_id)

    with TestClient(app) as client:

        async def one_thread() -> None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = 1

        client.portal.call(one_thread)
        portal.catalog.dataset_and_current = slow_lookup  # type: ignore[method-assign]
        busy = threading.Thread(target=client.get, args=("/api/v1/datasets/denver/rows",))
        busy.start()
        assert entered.wait(30)  # the only request thread is now held
        health: dict = {}
        checker = threading.Thread(target=lambda: health.update(r=client.get("/healthz")))
        checker.start()
        checker.join(30)
        answered_while_busy = not checker.is_alive() and busy.is_alive()
        release.set()
        busy.join(60)
        checker.join(60)
    assert answered_while_busy
    assert health["r"].status_code == 200 and health["r"].json()["status"] == "ok"
