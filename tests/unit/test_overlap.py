"""Reading ahead and writing behind: order, errors where they happened, one item in flight."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from openblotter.services.overlap import WriteBehind, read_ahead


def test_items_come_in_order_and_are_made_in_another_thread() -> None:
    makers: list[str] = []

    def items() -> Iterator[int]:
        for n in range(50):
            makers.append(threading.current_thread().name)
            yield n

    assert list(read_ahead(items())) == list(range(50))
    assert all(name.startswith("read-ahead") for name in makers)


def test_one_item_is_read_ahead_at_most() -> None:
    made: list[int] = []

    def items() -> Iterator[int]:
        for n in range(10):
            made.append(n)
            yield n

    ahead = read_ahead(items())
    assert next(ahead) == 0
    assert next(ahead) == 1
    # The worker may have made item 2, never item 3.
    threading.Event().wait(0.05)
    assert made[-1] <= 2
    ahead.close()


def test_an_error_comes_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 is broken")

    got = []
    with pytest.raises(ValueError, match="row 3"):
        for n in read_ahead(items()):
            got.append(n)
    assert got == [1, 2]


def test_stopping_early_closes_the_source() -> None:
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.set()

    for n in read_ahead(items()):
        if n == 3:
            break
    assert closed.is_set()


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
