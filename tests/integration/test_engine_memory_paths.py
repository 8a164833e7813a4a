"""Out of memory never becomes a 500 on the other paths of the engine (issue 17; CI saw a CSV
export die when Arrow re-raised DuckDB's out-of-memory as an OSError): errors Arrow re-raises
under other types, tables that analyses read, and diffs, which now run on the engine."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import TimedOut, Unavailable
from openblotter.storage.diffing import diff_files
from openblotter.storage.engine import QueryEngine, _next_batch
from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_portal, publish_file

#: A query DuckDB cannot finish quickly (nothing to push down, no statistics to skip with).
SLOW = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"


class _Failing:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def read_next_batch(self) -> Any:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        OSError("Out of Memory Error: failed to allocate data of size 256.0 MiB"),
        pa.ArrowInvalid("Out of Memory Error: could not allocate block of size 256 KiB"),
        pa.ArrowMemoryError("malloc of size 268435456 failed"),
        MemoryError(),
    ],
)
def test_running_out_of_memory_in_a_stream_is_said_as_duckdb_says_it(
    error: BaseException,
) -> None:
    with pytest.raises(duckdb.OutOfMemoryException):
        _next_batch(_Failing(error))  # type: ignore[arg-type]


def test_an_interrupted_stream_is_an_interruption_and_other_errors_stay_theirs() -> None:
    with pytest.raises(duckdb.InterruptException):
        _next_batch(_Failing(pa.ArrowException("INTERRUPT Error: Interrupted!")))  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        _next_batch(_Failing(FileNotFoundError("gone")))  # type: ignore[arg-type]


def _memory_hungry(engine: QueryEngine, fail_times: int) -> str:
    """A query whose 900,000th row needs 200 MB (over the 32 MB limit) ``fail_times`` times."""
    failed: list[int] = []

    def value(i: int) -> str:
        if i == 900_000 and len(failed) < fail_times:
            failed.append(i)
            return "x" * (200 * 1024 * 1024)
        return "y"

    engine._connection.create_function("value_of", value, side_effects=True)
    return "SELECT i, value_of(i) AS v FROM range(1000000) t(i)"


def test_a_table_an_analysis_reads_resumes_alone_when_memory_ran_out() -> None:
    engine = QueryEngine(memory_limit="32MB", threads=1)
    sql = _memory_hungry(engine, fail_times=1)
    rows = sum(batch.num_rows for batch in engine._stream(sql, [], 1000, False))
    assert rows == 1_000_000


def test_a_table_that_does_not_fit_even_alone_is_a_503_for_the_analysis() -> None:
    engine = QueryEngine(memory_limit="32MB", threads=1)
    sql = _memory_hungry(engine, fail_times=2)
    with pytest.raises(Unavailable) as refused:
        sum(batch.num_rows for batch in engine._stream(sql, [], 1000, False))
    assert refused.value.message.startswith("This analysis needs more memory")
    assert refused.value.detail == {"reason": "memory", "retry_after": 60}


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Any:
    portal = make_portal(tmp_path_factory.mktemp("diffs") / "portal")
    source = REAL_DATA / "denver/BiasMotivatedCrimes.csv"
    publish_file(portal, source, "denver", "2026-Q2")
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    shorter = tmp_path_factory.mktemp("shorter") / "denver.csv"
    shorter.write_text("".join(lines[:-40]), encoding="utf-8")
    publish_file(portal, shorter, "denver", "2026-Q3")
    return portal


def test_a_diff_on_the_engine_equals_one_on_its_own_connection(two_releases: Any) -> None:
    portal = two_releases
    old, new = (portal.release_path(portal.release("denver", q)) for q in ("2026-Q2", "2026-Q3"))
    alone = diff_files(old, new, [], change="removed", limit=5)
    shared = diff_files(
        old, new, [], change="removed", limit=5, run=portal.query_engine().with_cursor
    )
    assert shared == alone and shared.removed == 40


def test_a_diff_past_the_time_limit_is_a_504(
    two_releases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A diff that runs long (here: one that first runs a query DuckDB cannot finish for
    minutes) is stopped by the engine's watchdog: a 504, not a worker held for minutes."""
    from openblotter.storage import diffing

    original = diffing._diff

    def slow_diff(con: Any, *args: Any) -> Any:
        con.execute(SLOW).fetchall()
        return original(con, *args)

    monkeypatch.setattr(diffing, "_diff", slow_diff)
    settings = two_releases.settings.model_copy(update={"query_timeout_seconds": 0.5})
    answer = TestClient(create_app(settings)).get(
        "/api/v1/datasets/denver/releases/2026-Q2/diff/2026-Q3"
    )
    assert answer.status_code == 504, answer.text
    assert answer.json()["error"]["code"] == "timeout"
    with pytest.raises(TimedOut):
        QueryEngine(timeout=0.5).with_cursor(lambda cursor: cursor.execute(SLOW).fetchall())
