"""How the engine runs one query within its budget (:mod:`budget`): a slot, a time limit,
the request's cancellation, and one retry alone when memory ran out.

Every failure becomes an error people can act on: :class:`TimedOut` (504) when the
time limit passed, :class:`Unavailable` (503) when the query does not fit in memory
even alone or the request went away, :class:`Busy` (503) when every slot stays taken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import duckdb

from openblotter.domain.errors import TimedOut, Unavailable
from openblotter.storage.budget import CURRENT_REQUEST, Cancelled, Gate, Watchdog

T = TypeVar("T")

_TOO_BIG = (
    "This query needs more memory than the portal gives one query, even running alone. "
    "Narrow it (filters, fewer columns or facets, no sort), or download the release file "
    "and query it on your own machine; the portal's operator can raise query_memory_limit."
)


@dataclass
class Limits:
    """The engine's gates, time limit and watchdog (one per engine)."""

    timeout: float
    queries: Gate
    exports: Gate
    watchdog: Watchdog = field(default_factory=Watchdog)

    def fetch(self, run: Callable[[], T]) -> T:
        """``run()`` in a query slot; when it runs out of memory, once more alone."""
        started = time.monotonic()
        try:
            with self.queries.slot(wait=self.timeout):
                return run()
        except duckdb.OutOfMemoryException:
            pass
        left = self.timeout - (time.monotonic() - started)
        try:
            with self.queries.alone(wait=left):
                return run()
        except duckdb.OutOfMemoryException as error:
            raise Unavailable(_TOO_BIG, detail={"reason": "memory"}) from error

    def again_alone(self, run: Callable[[], T]) -> T:
        """``run()`` alone, after memory ran out while other queries held it."""
        with self.queries.alone(wait=self.timeout):
            return run()

    def run(self, cursor: Any, call: Callable[[], T]) -> T:
        """``call()`` on ``cursor`` under the time limit and the request's cancellation."""
        request = CURRENT_REQUEST.get()
        with self.watchdog.deadline(cursor, self.timeout) as deadline:
            try:
                if request is None:
                    return call()
                with request.watching(cursor):
                    return call()
            except duckdb.InterruptException as error:
                if deadline.expired:
                    raise TimedOut(
                        f"The query ran longer than the portal's limit of {self.timeout:g} s "
                        "and was stopped. Narrow it (filters, fewer columns, no sort) or "
                        "download the release file.",
                        detail={"limit_seconds": self.timeout},
                    ) from error
                raise Cancelled("The request went away; its query was stopped.") from error

    @staticmethod
    def stream_failed(download: bool = True) -> Unavailable:
        """A stream that ran out of memory even alone: a 503 that says to try later or narrow
        it (a download, or the table an analysis reads)."""
        what = (
            "This download needs more memory than the portal can give it now; try again in "
            "a minute, or without a sort, or download the release file."
            if download
            else "This analysis needs more memory than the portal can give it now; try again "
            "in a minute, or narrow it (a shorter period, filters)."
        )
        return Unavailable(what, detail={"reason": "memory", "retry_after": 60})
