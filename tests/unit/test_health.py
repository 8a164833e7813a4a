"""/healthz from the catalog's last check (issue 17): prompt while a check is slow, and still
true: 503 when the catalog raises or has not answered for stale_after seconds."""

from __future__ import annotations

import threading

import anyio
import sqlalchemy.exc
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from openblotter.web.health import CatalogHealth
from tests.factories import make_settings


def _report(health: CatalogHealth) -> tuple[int, dict]:
    """``health.report()`` on an event loop of its own thread: an earlier test's loop
    (Playwright's sync API) may still be set in this one, and anyio.run would refuse."""
    answer: list[tuple[int, dict]] = []
    runner = threading.Thread(target=lambda: answer.append(anyio.run(health.report)))
    runner.start()
    runner.join(timeout=60)
    return answer[0]


def test_a_readable_catalog_is_healthy() -> None:
    health = CatalogHealth(lambda: 7)
    assert _report(health) == (200, {"status": "ok", "datasets": 7})


def test_a_slow_check_answers_from_the_last_one_until_it_is_stale() -> None:
    now = [100.0]
    gate = threading.Event()
    answers = iter([3])

    def count() -> int:
        if next(answers, None) is None:
            gate.wait(30)  # the catalog hangs from the second check on
            raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("locked"))
        return 3

    health = CatalogHealth(count, wait=0.01, stale_after=10, clock=lambda: now[0])
    health.check()
    now[0] = 105.0
    assert _report(health) == (200, {"status": "ok", "datasets": 3})
    now[0] = 112.0
    status, body = _report(health)
    assert status == 503 and body["error"]["code"] == "unavailable"
    assert body["error"]["message"] == "The catalog has not answered for 12 s."
    gate.set()


def test_a_catalog_that_raises_is_a_503_in_the_error_shape(tmp_path) -> None:
    app = create_app(make_settings(tmp_path / "portal"))

    def broken() -> list:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("disk I/O error"))

    app.state.portal.catalog.datasets = broken
    answer = TestClient(app).get("/healthz")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["error"] == {
        "code": "unavailable",
        "message": "The catalog cannot be read (OperationalError); see the server's log.",
        "detail": {"reason": "catalog"},
    }
    assert answer.headers["x-content-type-options"] == "nosniff"  # headers on every answer
