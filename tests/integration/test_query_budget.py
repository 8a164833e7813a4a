"""The engine's budget (issue 17): memory that never becomes a 500, time limits, cancellation,
export slots.

On a 40,000-row table of 32 categorical columns, counting every column at once (what the
explore page does) ran out of DuckDB's memory at 64 MB and at 128 MB and answered 500; the
demo's contacts did the same at the old 192 MB default.
"""

from __future__ import annotations

import gc
import random
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import duckdb
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import TimedOut, Unavailable
from openblotter.ingest.read.readers import read_table
from openblotter.services import query, reading
from openblotter.storage import engine as engine_module
from openblotter.storage import exports
from openblotter.storage.budget import CURRENT_REQUEST, Busy, Cancellation, Cancelled, Gate
from openblotter.storage.engine import QueryEngine
from openblotter.web.app import create_app
from openblotter.web.cancellation import CancelOnDisconnect
from tests.factories import make_portal, publish_file, write_csv

COLUMNS = [f"category_{i}" for i in range(32)]
#: A query DuckDB cannot finish quickly (nothing to push down, no statistics to skip with).
SLOW = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with one published 40,000 x 33 dataset."""
    work = tmp_path_factory.mktemp("wide")
    rng = random.Random(7)
    rows = [[n] + [f"value {rng.randrange(300)}" for _ in COLUMNS] for n in range(40_000)]
    source = write_csv(work / "wide.csv", ["case_id", *COLUMNS], rows)
    publish_file(make_portal(work / "data"), source, "wide", "2026-Q1")
    return work / "data"


def test_facets_of_32_columns_fit_in_64_mb(wide: Path) -> None:
    portal = make_portal(wide, query_memory_limit="64MB")
    result = query.facet_counts(portal, "wide", [], COLUMNS)
    assert set(result["facets"]) == set(COLUMNS)
    assert result["total"] == 40_000
    assert all(result["facet_info"][c]["distinct"] == 300 for c in COLUMNS)


def test_a_query_that_cannot_fit_alone_is_a_503_with_what_to_do(wide: Path) -> None:
    app = create_app(make_portal(wide, query_memory_limit="8MB").settings)
    with TestClient(app) as client:
        facets = "&".join(f"_facet={c}" for c in COLUMNS[:8])
        response = client.get(f"/api/v1/datasets/wide/facets?{facets}")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert error["detail"] == {"reason": "memory"}
    assert "Narrow it" in error["message"]
    assert "query_memory_limit" in error["message"]


def test_a_query_past_the_time_limit_is_stopped() -> None:
    engine = QueryEngine(timeout=0.3)
    cursor = engine._connection.cursor()
    with pytest.raises(TimedOut) as stopped:
        engine.limits.run(cursor, lambda: cursor.execute(SLOW).fetchall())
    assert stopped.value.detail == {"limit_seconds": 0.3}
    # The connection is free again: the next query runs.
    assert cursor.execute("SELECT 42").fetchall() == [(42,)]


def test_a_cancelled_request_stops_its_query() -> None:
    engine = QueryEngine(timeout=600)
    cursor = engine._connection.cursor()
    request = Cancellation()
    token = CURRENT_REQUEST.set(request)
    timer = threading.Timer(0.3, request.cancel)
    timer.start()
    try:
        with pytest.raises(Cancelled):
            engine.limits.run(cursor, lambda: cursor.execute(SLOW).fetchall())
        with pytest.raises(Cancelled):  # later queries of that request do not start
            engine.limits.run(cursor, lambda: cursor.execute("SELECT 1").fetchall())
    finally:
        CURRENT_REQUEST.reset(token)
        timer.cancel()


def test_out_of_memory_runs_again_alone() -> None:
    gate = Gate(3)
    calls: list[tuple[int, bool]] = []

    def run() -> str:
        calls.append((gate._running, gate._alone))
        if len(calls) == 1:
            raise duckdb.OutOfMemoryException("Out of Memory Error")
        return "answer"

    engine = QueryEngine()
    engine.limits.queries = gate
    assert engine.limits.fetch(run) == "answer"
    assert calls == [(1, False), (0, True)]  # first in a slot, then alone


def test_a_full_gate_says_when_to_retry() -> None:
    gate = Gate(1)
    with gate.slot(wait=0), pytest.raises(Busy) as busy, gate.slot(wait=0.05):
        pass
    assert busy.value.detail["retry_after"] == 5
    assert isinstance(busy.value, Unavailable)
    with gate.slot(wait=0):  # released
        pass


def test_exports_past_the_limit_are_503_with_retry_after(
    wide: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "EXPORT_WAIT", 0.1)
    app = create_app(make_portal(wide, export_concurrency=1).settings)
    portal = app.state.portal
    held = query.export(portal, "wide", [], "csv")  # started: its slot is taken
    with TestClient(app) as client:
        refused = client.get("/api/v1/datasets/wide/rows.csv")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert refused.json()["error"]["code"] == "unavailable"
        del held
        gc.collect()
        answered = client.get("/api/v1/datasets/wide/rows.csv?_sort=-category_3")
    assert answered.status_code == 200
    assert answered.text.count("\n") == 40_001


def test_xlsx_downloads_stream_without_temporary_files(
    wide: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    portal = make_portal(wide)
    engine = portal.query_engine()
    t = reading.target(portal, "wide", [])
    chunks = exports.write_xlsx(engine, t.path, t.schema, reading.spec_for(t, []))
    assert next(chunks) and next(chunks)  # the header, then the first rows: no file behind them
    assert engine.limits.exports._running == 1
    chunks.close()  # the client went away: the query stops and its slot is free
    assert engine.limits.exports._running == 0
    assert list(tmp_path.iterdir()) == []
    whole = tmp_path / "wide.xlsx"
    whole.write_bytes(
        b"".join(exports.write_xlsx(engine, t.path, t.schema, reading.spec_for(t, [])))
    )
    table = read_table(whole)
    assert table.frame.height == 40_000
    assert table.frame["category_5"].to_list()[:3] == [
        v for v in pq.read_table(t.path, columns=["category_5"]).column(0).to_pylist()[:3]
    ]


def test_a_client_that_goes_away_stops_its_query() -> None:
    engine = QueryEngine(timeout=600)
    outcome: list[str] = []

    def slow_query() -> None:
        cursor = engine._connection.cursor()
        try:
            engine.limits.run(cursor, lambda: cursor.execute(SLOW).fetchall())
            outcome.append("finished")
        except Cancelled:
            outcome.append("cancelled")

    async def endpoint(scope: dict, receive: object, send: object) -> None:
        await anyio.to_thread.run_sync(slow_query)  # as a sync route runs

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop()
        await anyio.sleep(0.3)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        pass

    app = CancelOnDisconnect(endpoint)
    # Its own thread: an event loop that an earlier test left in this one (Playwright's sync
    # API) would make anyio.run refuse to start.
    runner = threading.Thread(
        target=anyio.run, args=(app, {"type": "http", "path": "/"}, receive, send)
    )
    runner.start()
    runner.join(timeout=120)
    assert outcome == ["cancelled"]


def test_sixteen_clients_at_once_get_answers_not_errors(wide: Path) -> None:
    app = create_app(make_portal(wide, query_memory_limit="64MB").settings)
    facets = "&".join(f"_facet={c}" for c in COLUMNS[:16])
    urls = [
        f"/api/v1/datasets/wide/facets?{facets}",
        "/api/v1/datasets/wide/rows?_sort=-category_7&_size=500",
        "/api/v1/datasets/wide/aggregate?_group=category_1,category_2&_agg=count",
        "/api/v1/datasets/wide/rows.csv?_sort=category_9",
    ]
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda i: client.get(urls[i % len(urls)]), range(48)))
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * 48


def test_a_query_waiting_to_run_alone_is_not_starved() -> None:
    gate = Gate(2)
    ran_alone = threading.Event()
    with gate.slot(wait=0):

        def alone() -> None:
            with gate.alone(wait=5):
                ran_alone.set()

        waiter = threading.Thread(target=alone)
        waiter.start()
        while not gate._waiting_alone:
            threading.Event().wait(0.01)
        with pytest.raises(Busy), gate.slot(wait=0.05):  # no new query starts ahead of it
            pass
    waiter.join()
    assert ran_alone.is_set()


def test_an_export_that_runs_out_of_memory_midway_resumes_from_the_next_row() -> None:
    """CI, 16 clients at once: a CSV export's later batch ran out of memory (Arrow re-raises
    DuckDB's error as a plain OSError), and the response stopped mid-file with a 500 trace.
    Here one row's value needs 200 MB once, after 800,000 rows were streamed."""
    engine = QueryEngine(memory_limit="32MB", threads=1)
    failed_once: list[int] = []

    def value(i: int) -> str:
        if i == 900_000 and not failed_once:
            failed_once.append(i)
            return "x" * (200 * 1024 * 1024)
        return "y"

    engine._connection.create_function("value_of", value, side_effects=True)
    sql = "SELECT i, value_of(i) AS v FROM range(1000000) t(i)"
    numbers = [
        i for batch in engine._stream(sql, [], 1000, True) for i in batch.column("i").to_pylist()
    ]
    assert failed_once == [900_000]
    assert numbers == list(range(1_000_000))
