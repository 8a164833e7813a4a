"""Writing behind: in order, in one worker thread, a write's error raised at the next call."""

from __future__ import annotations

import threading

import pytest

from openblotter.services.overlap import WriteBehind


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
