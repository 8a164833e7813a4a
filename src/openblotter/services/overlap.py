"""Reading the next chunk, and writing the last one, while this one is checked.

A chunked publish spends about a third of its time in pyarrow (parsing CSV,
encoding Parquet), which releases the GIL: done in a second thread it runs on
the second core beside the checks. One item is read ahead and one write is in
flight at most, so memory grows by two chunks, not with the file; items come
in order and an error surfaces where it happened in the sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items``, each next one made in a worker thread while the one before is used.

    The iterator is only ever advanced by one thread at a time, and closed (its files
    with it) when the caller stops early.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        future: Future[object] = pool.submit(next, items, _END)
        try:
            while (item := future.result()) is not _END:
                future = pool.submit(next, items, _END)
                yield item  # type: ignore[misc]  # not _END: one of items
        finally:
            # The item being made is waited for (its error, if any, dropped: the
            # caller's own is what propagates) before the source is closed.
            if not future.cancel():
                wait([future])
            close = getattr(items, "close", None)
            if close is not None:
                close()


class WriteBehind(Generic[T]):
    """Calls of ``write`` run in a worker thread, one at a time and in order; ``wait``
    returns when all are done and raises the first one's error."""

    def __init__(self, write: Callable[[T], object]) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="write-behind")
        self._pending: Future[object] | None = None

    def submit(self, item: T) -> None:
        """Write ``item`` after the one before it has been written (its error raised here)."""
        self.wait()
        self._pending = self._pool.submit(self._write, item)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last write (raising its error) and stop the thread."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
