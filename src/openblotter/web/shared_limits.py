"""Per-client rate limits shared by every web process of ``openblotter serve --workers N``.

The same token buckets as :class:`openblotter.web.limits.TokenBuckets` (same
rate, burst and costs), kept in shared memory instead of one process's
dictionary, so a client gets one allowance whichever worker answers it (the
kernel hands each connection to any worker). The table is made by the serving
process before the workers start and given to each of them; a lock shared by
them makes each take atomic. ``time.monotonic`` is the machine's clock, the
same in every process.

The table has a fixed number of slots: a client hashes to a few neighbouring
slots, and when all of them hold other clients, the one seen longest ago is
forgotten (it starts again with a full bucket, as the least recently seen
client of ``TokenBuckets`` does).
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import time
from collections.abc import Callable
from typing import Any

#: Slots in the shared table (about 1.5 MB) and neighbours a client may use.
SLOTS = 65_536
PROBES = 8


def _client_hash(client: str) -> int:
    # A stable hash (Python's hash() differs between processes); 0 marks an empty slot.
    digest = hashlib.blake2b(client.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") | 1


class SharedTokenBuckets:
    """Token buckets in shared memory; ``take`` answers the seconds to wait, or 0 when allowed."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        slots: int = SLOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.slots = slots
        self.clock = clock
        self._lock: Any = context.Lock()
        self._keys: Any = context.RawArray(ctypes.c_uint64, slots)
        self._tokens: Any = context.RawArray(ctypes.c_double, slots)
        self._updated: Any = context.RawArray(ctypes.c_double, slots)

    def take(self, client: str, cost: int = 1) -> float:
        key = _client_hash(client)
        start = key % self.slots
        with self._lock:
            now = self.clock()
            slot = self._slot(key, start, now)
            tokens = min(self.burst, self._tokens[slot] + (now - self._updated[slot]) * self.rate)
            spend = min(float(cost), self.burst)
            wait = 0.0 if tokens >= spend else (spend - tokens) / self.rate
            self._tokens[slot] = tokens - spend if wait == 0 else tokens
            self._updated[slot] = now
            return wait

    def _slot(self, key: int, start: int, now: float) -> int:
        """The client's slot; else an empty one, else the one seen longest ago, made full."""
        oldest = start
        for step in range(PROBES):
            slot = (start + step) % self.slots
            found = self._keys[slot]
            if found == key:
                return slot
            if found == 0:
                oldest = slot
                break
            if self._updated[slot] < self._updated[oldest]:
                oldest = slot
        self._keys[oldest] = key
        self._tokens[oldest] = self.burst
        self._updated[oldest] = now
        return oldest
