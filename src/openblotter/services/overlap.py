"""Writing the last chunk while this one is checked.

A chunked publish spends a sixth of its time encoding Parquet (the release and
its side files), and pyarrow releases the GIL while it does: done in a second
thread it runs on the second core beside the checks. One write is in flight at
most, so memory grows by one chunk, not with the file; writes happen in order
and a write's error surfaces at the next call. (Reading the next chunk ahead
as well measured ~0.3 s faster per million rows but held another ~35 MiB.)
"""

from __future__ import annotations

from collections.abc import Callable
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
