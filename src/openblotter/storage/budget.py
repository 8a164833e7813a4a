"""The query engine's budget: how many queries run at once, for how long, with what memory.

DuckDB shares one memory limit among every query of the process. Left alone,
sixteen page loads at once each take a share, and some run out of memory
(a 500) or, for an export already sending, stop mid-file. Here:

- :class:`Gate` lets a few queries run at a time (the others wait their turn,
  up to their deadline) and lets a query that ran out of memory run again
  alone, with all the memory; exports have their own, smaller gate that
  refuses at once when full (:class:`Busy`, a 503 with ``Retry-After``);
- :class:`Watchdog` interrupts a query (``connection.interrupt()``) when its
  time limit passes, from one thread, so no worker hangs;
- :class:`Cancellation` is a request's token: when the client goes away, the
  web layer cancels it and every query of that request is interrupted; with a
  time limit, :meth:`Cancellation.check` also stops the request's work in Python
  (:mod:`openblotter.domain.checkpoints`) once the limit has passed;
- :func:`machine_memory` and :func:`auto_memory_limit` size the memory limit
  from the machine (or its cgroup) when the setting is ``auto``.
"""

from __future__ import annotations

import contextvars
import heapq
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from openblotter.domain.errors import TimedOut, Unavailable


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


class Busy(Unavailable):
    """Every slot is taken: try again shortly (``detail['retry_after']`` seconds)."""


class Cancelled(Unavailable):
    """The request that asked for this query is gone (its client disconnected)."""


class Cancellation:
    """A request's token: cancelling it interrupts the queries registered with it.

    With ``time_limit`` (seconds), :meth:`check` also says when the request's time is up.
    """

    def __init__(self, time_limit: float | None = None) -> None:
        self._lock = threading.Lock()
        self._running: set[Interruptible] = set()
        self.cancelled = False
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else time.monotonic() + time_limit

    def check(self) -> None:
        """Raise :class:`Cancelled` when the client went away, :class:`TimedOut` once the
        request's time limit has passed (called between steps of long work in Python)."""
        if self.cancelled:
            raise Cancelled("The request went away; its work was stopped.")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimedOut(
                f"This request ran longer than the portal's limit of {self.time_limit:g} s "
                "and was stopped. Narrow it (a shorter period, filters, fewer controls) or "
                "try again when the portal is less busy.",
                detail={"limit_seconds": self.time_limit},
            )

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            running = list(self._running)
        for query in running:
            query.interrupt()

    @contextmanager
    def watching(self, query: Interruptible) -> Iterator[None]:
        with self._lock:
            if self.cancelled:
                raise Cancelled("The request was cancelled before its query ran.")
            self._running.add(query)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(query)


#: The cancellation token of the request being served (set by the web layer).
CURRENT_REQUEST: contextvars.ContextVar[Cancellation | None] = contextvars.ContextVar(
    "openblotter_request", default=None
)


class Deadline:
    """A query's time limit; ``expired`` turns true when the watchdog interrupted it."""

    def __init__(self, when: float, query: Interruptible) -> None:
        self.when = when
        self.query: Interruptible | None = query
        self.expired = False
        self.done = False

    def __lt__(self, other: Deadline) -> bool:
        return self.when < other.when


class Watchdog:
    """One thread that interrupts queries whose deadline has passed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[Deadline] = []
        self._thread: threading.Thread | None = None

    @contextmanager
    def deadline(self, query: Interruptible, seconds: float) -> Iterator[Deadline]:
        """Interrupt ``query`` if it still runs after ``seconds``."""
        entry = Deadline(time.monotonic() + seconds, query)
        with self._condition:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="query-watchdog", daemon=True
                )
                self._thread.start()
            if self._heap[0] is entry:
                # Otherwise the watchdog already wakes up earlier than this deadline; waking
                # it for every query costs each one a thread switch.
                self._condition.notify()
        try:
            yield entry
        finally:
            with self._condition:
                entry.done = True  # left in the heap; skipped when it comes up
                entry.query = None

    def _run(self) -> None:
        with self._condition:
            while True:
                while self._heap and self._heap[0].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._condition.wait()
                    continue
                wait = self._heap[0].when - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)
                entry.expired = True
                if entry.query is not None:
                    entry.query.interrupt()


class Gate:
    """At most ``slots`` queries at once; ``alone()`` waits until it is the only one.

    While a query waits to run alone, no new query starts (it would never get its turn).
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._running = 0
        self._alone = False
        self._waiting_alone = 0
        self._condition = threading.Condition()

    @contextmanager
    def slot(self, wait: float) -> Iterator[None]:
        """Hold one slot; wait up to ``wait`` seconds for it, else raise :class:`Busy`."""
        self._wait_until(self._slot_free, wait)
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()

    @contextmanager
    def alone(self, wait: float) -> Iterator[None]:
        """Run with no other query (with all the memory); the caller holds no slot."""
        with self._condition:
            self._waiting_alone += 1
        try:
            self._wait_until(self._idle, wait, alone=True)
        finally:
            with self._condition:
                self._waiting_alone -= 1
                self._condition.notify_all()
        try:
            yield
        finally:
            with self._condition:
                self._alone = False
                self._condition.notify_all()

    def _slot_free(self) -> bool:
        return not self._alone and not self._waiting_alone and self._running < self.slots

    def _idle(self) -> bool:
        return not self._alone and self._running == 0

    def _wait_until(self, ready: Callable[[], bool], wait: float, *, alone: bool = False) -> None:
        end = time.monotonic() + max(wait, 0.0)
        with self._condition:
            while not ready():
                left = end - time.monotonic()
                if left <= 0:
                    raise Busy(
                        "The portal is answering as many queries as it can right now; "
                        "try again in a few seconds.",
                        detail={"retry_after": 5, "slots": self.slots},
                    )
                self._condition.wait(left)
            if alone:
                self._alone = True
            else:
                self._running += 1


def machine_memory() -> int:
    """Bytes of memory this process may use: its cgroup's limit, else the machine's RAM."""
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 50:
            return int(text)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 4 * 1024**3


def auto_memory_limit(workers: int = 1) -> str:
    """A quarter of the machine's memory shared by the web processes, 256 MB to 8 GB each."""
    share = machine_memory() // 4 // max(1, workers)
    return f"{max(256, min(share >> 20, 8192))}MB"
