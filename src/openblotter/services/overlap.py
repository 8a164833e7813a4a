"""Reading the next chunk and writing the last one while this one is checked.

A chunked publish spends much of its time parsing CSV (Arrow's streaming
reader parses on one thread) and encoding Parquet (the release and its side
files), and Arrow releases the GIL while it does either: done in second threads
they run on the second core beside the checks. One chunk is read ahead and one
write is in flight at most, so memory grows by a chunk each, not with the file;
chunks come and writes happen in order, and an error surfaces at the next call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")


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


def read_ahead(chunks: Iterator[T], name: str = "read-ahead") -> Iterator[T]:
    """``chunks``, each next one made in a worker thread while the caller works on this one.

    At most one chunk is made ahead. The source's errors are raised where the chunk would
    have come; a caller that stops early stops the source (it is closed in the worker)."""
    done = object()
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    try:
        pending = pool.submit(next, chunks, done)
        while True:
            chunk = pending.result()
            if chunk is done:
                return
            pending = pool.submit(next, chunks, done)
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(chunks, "close", None)  # a generator: after its pending chunk
        if close is not None:
            pool.submit(close)
        pool.shutdown(wait=True)
