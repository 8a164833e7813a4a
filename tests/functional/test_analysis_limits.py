"""Analyses in Python stop when their request is over (issue 17): the time limit answers 504 in
the error shape, a client that leaves stops the work. Over the real Rhode Island stops
(27,918), whose veil of darkness computes a sunset per day in Python."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from openblotter.analysis import darkness as darkness_module
from openblotter.domain.checkpoints import checkpoint
from openblotter.services import darkness as darkness_service
from openblotter.storage.budget import CURRENT_REQUEST
from openblotter.web.app import create_app
from tests.factories import PROVIDENCE, make_portal, publish_rhode_island

DARKNESS = "/api/v1/analysis/veil-of-darkness?dataset=ri_stops"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    portal = make_portal(tmp_path_factory.mktemp("limits") / "portal", **PROVIDENCE)
    publish_rhode_island(portal)
    return portal.settings


def _counting_sunsets(
    monkeypatch: pytest.MonkeyPatch, on_first: Any, delay: float = 0.0
) -> list[int]:
    """Count the days the sample computes a sunset for; ``on_first()`` at the first one;
    ``delay`` seconds a day make the loop long (a server much busier than this one)."""
    calls: list[int] = []
    original = darkness_module.sunset
    pause = threading.Event()

    def sunset(*args: Any, **kwargs: Any) -> Any:
        if not calls:
            on_first()
        calls.append(1)
        pause.wait(delay)
        return original(*args, **kwargs)

    monkeypatch.setattr(darkness_module, "sunset", sunset)
    monkeypatch.setattr(darkness_module, "_SUN_TIMES", {})  # computed again, not remembered
    monkeypatch.setattr(darkness_service, "_DONE", OrderedDict())
    return calls


def test_days_of_sunsets_are_many(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting_sunsets(monkeypatch, lambda: None)
    assert TestClient(create_app(settings)).get(DARKNESS).status_code == 200
    assert len(calls) > 1000  # the loop the tests below stop


def test_sun_times_are_computed_once_per_place_and_day(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting_sunsets(monkeypatch, lambda: None)
    client = TestClient(create_app(settings))
    first = client.get(DARKNESS).json()
    days = len(calls)
    assert client.get(DARKNESS).json() == first and len(calls) == days


def test_an_analysis_past_the_time_limit_stops_in_python_with_a_504(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def time_is_up() -> None:
        request = CURRENT_REQUEST.get()
        assert request is not None and request.time_limit == settings.query_timeout_seconds
        request.deadline = 0.0

    calls = _counting_sunsets(monkeypatch, time_is_up)
    answer = TestClient(create_app(settings)).get(DARKNESS)
    assert answer.status_code == 504
    error = answer.json()["error"]
    assert error["code"] == "timeout" and "limit of 20 s" in error["message"]
    assert error["detail"] == {"limit_seconds": 20.0}
    assert 0 < len(calls) <= 64  # stopped at the next checkpoint, not at the end


def test_a_tiny_time_limit_answers_504_for_analyses_and_their_pages(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(darkness_service, "_DONE", OrderedDict())  # nothing computed yet
    client = TestClient(create_app(settings.model_copy(update={"query_timeout_seconds": 1e-6})))
    for path in (DARKNESS, "/api/v1/analysis/outcome-tests?dataset=ri_stops"):
        answer = client.get(path)
        assert answer.status_code == 504, answer.text
        assert answer.json()["error"]["code"] == "timeout"
    page = client.get("/analysis/darkness?dataset=ri_stops", headers={"Accept": "text/html"})
    assert page.status_code == 504 and "<html" in page.text


def test_a_client_that_leaves_stops_the_analysis(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    calls = _counting_sunsets(monkeypatch, started.set, delay=0.01)
    app = create_app(settings)
    statuses: list[int] = []
    sent = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if sent:
            return sent.pop()
        while not started.is_set():
            await anyio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/analysis/veil-of-darkness",
        "raw_path": b"/api/v1/analysis/veil-of-darkness",
        "query_string": b"dataset=ri_stops",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    # Its own thread: an event loop left by an earlier test would make anyio.run refuse.
    runner = threading.Thread(target=anyio.run, args=(app, scope, receive, send))
    runner.start()
    runner.join(timeout=300)
    assert not runner.is_alive()
    assert statuses == [503]  # Cancelled: nobody reads it, but no 500 and no hung worker
    assert 0 < len(calls) < 1000  # not every day: stopped at a checkpoint after the disconnect


def test_two_veils_of_darkness_compute_at_once_the_others_wait_their_turn(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside, most = [0], [0]
    lock = threading.Lock()
    original = darkness_module.veil_of_darkness

    def veil(*args: Any, **kwargs: Any) -> Any:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            threading.Event().wait(0.3)  # long enough for the others to arrive
            return original(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(darkness_module, "veil_of_darkness", veil)
    monkeypatch.setattr(darkness_service, "_DONE", OrderedDict())
    client = TestClient(create_app(settings))
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: client.get(DARKNESS).status_code, range(5)))
    assert statuses == [200] * 5 and most[0] == 2  # the others got the result once computed


def test_the_same_test_of_the_same_release_is_computed_once(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    original = darkness_module.veil_of_darkness

    def veil(*args: Any, **kwargs: Any) -> Any:
        computed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(darkness_module, "veil_of_darkness", veil)
    monkeypatch.setattr(darkness_service, "_DONE", OrderedDict())
    client = TestClient(create_app(settings))
    first = client.get(DARKNESS).json()
    assert client.get(DARKNESS).json() == first and len(computed) == 1
    other = client.get(DARKNESS + "&group=Hispanic or Latino").json()
    assert other["group"] == "Hispanic or Latino" and len(computed) == 2


def test_recording_changes_of_a_release_are_computed_once_and_to_the_end(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under 16 clients every analysis asked for the same release's recording changes at
    once; each computed them, each passed its time limit, none was kept (69 of 299 requests
    answered 504 over the demo). One computes, the others wait, and it runs to its end."""
    from openblotter.services import query, recording
    from openblotter.services.portal import Portal

    computed: list[int] = []
    original = recording._detect

    def detect(*args: Any) -> Any:
        computed.append(1)
        threading.Event().wait(0.3)
        checkpoint()  # the request that runs it is out of time: the shared work goes on
        return original(*args)

    monkeypatch.setattr(recording, "_detect", detect)
    monkeypatch.setattr(recording, "_CACHE", {})
    portal = Portal.open(settings)

    def ask(_: int) -> int:
        with query.cancellable_request(time_limit=20) as request:
            request.deadline = 0.0
            return len(recording.changes(portal, "ri_stops")["changes"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(ask, range(4)))
    assert computed == [1] and len(set(found)) == 1 and found[0] > 0
