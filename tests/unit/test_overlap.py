"""Writing behind and reading ahead: in order, in one worker thread, at most one chunk
beyond the caller's, an error raised where the caller would meet it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from openblotter.services.overlap import WriteBehind, read_ahead


def test_writes_run_in_order_in_one_worker_and_errors_surface() -> None:
    written: list[tuple[int, str]] = []
    behind: WriteBehind[int] = WriteBehind(
        lambda n: written.append((n, threading.current_thread().name))
    )
    for n in range(20):
        behind.submit(n)
    behind.close()
    assert [n for n, _ in written] == list(range(20))
    assert all(name.startswith("write-behind") for _, name in written)

    def fail(n: int) -> None:
        if n == 2:
            raise OSError("disk full")

    failing: WriteBehind[int] = WriteBehind(fail)
    failing.submit(1)
    failing.submit(2)
    with pytest.raises(OSError, match="disk full"):
        failing.submit(3)  # the error of the write before it
    failing.close()


def test_a_side_file_leaving_on_an_error_reports_that_error(tmp_path: Path) -> None:
    """The publish's own error propagates, not the failed write behind it; a failed write
    with no error of the publish's own is raised."""
    import polars as pl

    from openblotter.services.publish_stream import _SideFile

    frame = pl.DataFrame({"a": [1, 2]})

    def broken(item: object) -> None:
        raise OSError("disk full")

    with pytest.raises(ValueError, match="row 7 is invalid"), _SideFile(tmp_path / "a") as side:
        side.behind = WriteBehind(broken)
        side.write(frame)
        raise ValueError("row 7 is invalid")
    with pytest.raises(OSError, match="disk full"), _SideFile(tmp_path / "b.parquet") as side:
        side.behind = WriteBehind(broken)
        side.write(frame)


def test_reading_ahead_gives_every_chunk_in_order_one_ahead_in_a_worker() -> None:
    made: list[tuple[int, str]] = []
    taken: list[int] = []
    ahead: list[int] = []

    def source() -> Iterator[int]:
        for n in range(10):
            made.append((n, threading.current_thread().name))
            yield n

    for n in read_ahead(source()):
        taken.append(n)
        ahead.append(len(made) - len(taken))
    assert taken == list(range(10))
    assert all(name.startswith("read-ahead") for _, name in made)
    assert max(ahead) <= 1  # never more than the next chunk made while one is worked on


def test_reading_ahead_raises_the_sources_error_and_closes_it_when_left_early() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("row 7 has 3 fields")

    got: list[int] = []
    with pytest.raises(ValueError, match="row 7"):
        for n in read_ahead(failing()):
            got.append(n)
    assert got == [1]

    closed: list[str] = []

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(threading.current_thread().name)

    for n in read_ahead(endless()):
        if n == 3:
            break
    assert len(closed) == 1 and closed[0].startswith("read-ahead")
