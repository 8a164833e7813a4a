"""Measurements over HTTP on loopback: single requests, downloads, a load test, a browser.

Every loop here is bounded by a count and a time limit, and stops by itself.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from procs import PeakRss

Check = Callable[[str, httpx.Response], str | None]
#: The path of request number ``n``: a new no-op predicate each time (uncached), or the
#: same path every time (what a result cache answers).
PathFor = Callable[[int], str]


class FreshCounter:
    """Request numbers that are never used twice in a run, across threads and scenarios."""

    def __init__(self) -> None:
        self._next = 1
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            value, self._next = self._next, self._next + 1
            return value


FRESH = FreshCounter()


def same_path(path: str) -> PathFor:
    """A path factory that repeats one request (the cached figure)."""
    return lambda _n: path


@dataclass
class Timings:
    """Seconds per repetition for each side (warm-ups excluded), and what the checks found."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def median(self, side: str) -> float | None:
        values = self.seconds.get(side)
        return statistics.median(values) if values else None


def time_requests(
    clients: Mapping[str, httpx.Client],
    paths: Mapping[str, PathFor],
    warmup: int,
    reps: int,
    check: Check | None = None,
) -> Timings:
    """GET each side's path ``warmup + reps`` times, sides interleaved, timing the full body.

    Each request asks ``paths[side](n)`` with a number ``n`` never used before in the run, so
    a factory that builds a fresh predicate from it makes every request distinct.
    The first answer of each side goes through ``check`` (which returns a problem or None);
    a side whose answer is not 200 or fails the check is not timed further.
    """
    result = Timings({side: [] for side in paths})
    for rep in range(warmup + reps):
        for side, path_for in paths.items():
            if side in result.problems:
                continue
            path = path_for(FRESH())
            start = time.perf_counter()
            try:
                response = clients[side].get(path)
            except httpx.HTTPError as error:
                result.problems[side] = f"`GET {path}` failed: {error!r}"
                result.seconds[side] = []
                continue
            elapsed = time.perf_counter() - start
            if rep == 0:
                problem = first_answer_problem(side, response, check)
                if problem:
                    result.problems[side] = problem
                    result.seconds[side] = []
                    continue
            if rep >= warmup:
                result.seconds[side].append(elapsed)
    return result


def first_answer_problem(side: str, response: httpx.Response, check: Check | None) -> str | None:
    """What is wrong with an answer: its status, its shape, or what ``check`` finds."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    try:
        return check(side, response) if check else None
    except (ValueError, KeyError, TypeError, IndexError) as error:
        return f"the answer is not in the expected shape ({error!r}): {response.text[:200]}"


@dataclass(frozen=True)
class Export:
    """One full CSV download: time, size, data rows, and the server's peak memory meanwhile."""

    seconds: float
    bytes: int
    rows: int
    server_peak_rss_bytes: int
    status: int
    #: The server's resident bytes when the download began, and the most it held above
    #: them while the download ran (sampled; its lifetime peak is not counted here).
    server_rss_before_bytes: int = 0
    server_added_bytes: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def export_csv(client: httpx.Client, path: str, server_pid: int) -> Export:
    """Stream a CSV export to nowhere, counting bytes and lines, sampling the server's RSS."""
    size = newlines = 0
    last = b"\n"
    with PeakRss(server_pid) as peak:
        start = time.perf_counter()
        with client.stream("GET", path) as response:
            for chunk in response.iter_bytes(1 << 16):
                size += len(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
            status = response.status_code
        seconds = time.perf_counter() - start
    lines = newlines + (0 if last == b"\n" else 1)
    # The generated values hold no line breaks, so every line but the header is a row.
    added = max(peak.sampled_peak_bytes - peak.start_bytes, 0)
    return Export(
        seconds, size, max(lines - 1, 0), peak.peak_bytes, status, peak.start_bytes, added
    )


def run_threads(work: Callable[[int], None], count: int) -> float:
    """``work(0)`` ... ``work(count - 1)`` on threads of their own, all at once: the seconds
    until the last one ends."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


@dataclass(frozen=True)
class Downloads:
    """Downloads run at once: each one's status and size, the time until the last ended,
    and the server's memory when they began and the most it held above that (sampled)."""

    statuses: tuple[int, ...]
    sizes: tuple[int, ...]
    seconds: float
    server_rss_before_bytes: int
    server_added_bytes: int


def downloads(base_url: str, paths: list[str], server_pid: int) -> Downloads:
    """GET every path at once, each on its own connection, reading the bodies to nowhere."""
    done: list[tuple[int, int]] = [(0, 0)] * len(paths)

    def fetch(slot: int) -> None:
        size = 0
        try:
            with (
                httpx.Client(base_url=base_url, timeout=600) as client,
                client.stream("GET", paths[slot]) as response,
            ):
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                done[slot] = (response.status_code, size)
        except httpx.HTTPError:
            done[slot] = (0, size)  # status 0: the download failed or was cut

    with PeakRss(server_pid) as peak:
        seconds = run_threads(fetch, len(paths))
    added = max(peak.sampled_peak_bytes - peak.start_bytes, 0)
    statuses, sizes = zip(*done, strict=True)
    return Downloads(statuses, sizes, seconds, peak.start_bytes, added)


@dataclass(frozen=True)
class Load:
    """A fixed-duration load test: successful requests per second, errors, latency."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    first_error: str

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_test(base_url: str, path: PathFor, clients: int, seconds: float, cap: int) -> Load:
    """``clients`` threads, each on its own keep-alive connection, GET ``path(n)`` (a new
    ``n`` for every request) until ``seconds`` pass or ``cap`` requests in all have been sent."""
    address = urlsplit(base_url).netloc
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    sent = [0]
    lock = threading.Lock()

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection(address, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                if sent[0] >= cap:
                    break
                sent[0] += 1
            start = time.perf_counter()
            try:
                connection.request("GET", path(FRESH()))
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"HTTP {response.status}")
                    continue
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection(address, timeout=30)
                continue
            latencies[slot].append(time.perf_counter() - start)
        connection.close()

    elapsed = run_threads(client, clients)
    done = sorted(latency for slot in latencies for latency in slot)
    p50 = done[len(done) // 2] * 1000 if done else 0.0
    p95 = done[int(len(done) * 0.95)] * 1000 if done else 0.0
    return Load(len(done), len(errors), elapsed, p50, p95, errors[0] if errors else "")


_PAGE_TIMES_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ends = performance.getEntriesByType('resource').map(r => r.responseEnd);
  return {load: nav.loadEventEnd, settled: Math.max(nav.loadEventEnd, ...ends)};
}"""


def _error_collector(errors: list[str]) -> Callable[[Any], None]:
    def collect(error: Any) -> None:
        errors.append(str(error))

    return collect


def browser_page_times(
    chromium_path: str, urls: Mapping[str, str], warmup: int, reps: int
) -> dict[str, dict[str, Any]]:
    """Open each page in headless Chromium: milliseconds to the load event, and until the
    last request the page made (charts fetching their data) had finished."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    results: dict[str, dict[str, Any]] = {
        s: {"load": [], "settled": [], "errors": []} for s in urls
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=args)
        try:
            for rep in range(warmup + reps):
                for side, url in urls.items():
                    page = browser.new_page()
                    page.on("pageerror", _error_collector(results[side]["errors"]))
                    response = page.goto(url, wait_until="load", timeout=60_000)
                    page.wait_for_load_state("networkidle", timeout=60_000)
                    times = page.evaluate(_PAGE_TIMES_JS)
                    page.close()
                    if response is None or response.status != 200:
                        status = response.status if response else "none"
                        results[side]["errors"].append(f"HTTP {status}")
                    elif rep >= warmup:
                        results[side]["load"].append(times["load"] / 1000)
                        results[side]["settled"].append(times["settled"] / 1000)
        finally:
            browser.close()
    return results
