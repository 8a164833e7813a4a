"""A bounded load run against a running portal: 16 clients mixing pages, queries and exports.

    python benchmarks/engine_load.py http://127.0.0.1:8000 --clients 16 --seconds 120

Every well-formed request must answer 2xx (a 503 with Retry-After from a full export
gate is counted apart: it is the documented answer to too many downloads at once).
Prints the count of each status, p50/p95/max latency, the slowest /healthz, and
whether any export stopped before its end (a short body).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import threading
import time
from collections import Counter
from typing import Any

import httpx

DATASETS = [
    "contacts",
    "use_of_force",
    "complaints",
    "hate_crimes",
    "community_engagement",
    "department_demographics",
    "community_demographics",
]


def _urls(rng: random.Random) -> str:
    dataset = rng.choice(DATASETS)
    choices = [
        "/",
        f"/datasets/{dataset}",
        f"/datasets/{dataset}/explore",
        f"/datasets/{dataset}/charts",
        "/datasets/contacts/explore",
        "/datasets/contacts/charts",
        f"/datasets/contacts/explore?subject_race=White&_sort=-incident_date&_size={rng.randint(10, 200)}",
        f"/api/v1/datasets/{dataset}",
        f"/api/v1/datasets/{dataset}/rows?_size={rng.randint(1, 500)}&_count=true",
        f"/api/v1/datasets/contacts/rows?_sort=-incident_date&_size=50&_q=street{rng.randint(1, 999)}",
        "/api/v1/datasets/contacts/facets?"
        + "&".join(
            f"_facet={c}"
            for c in ["subject_race", "subject_sex", "contact_type", "reason", "quarter"]
        ),
        "/api/v1/datasets/contacts/aggregate?_group=quarter,subject_race&_agg=count",
        "/analysis",
        "/analysis/benchmark",
        "/analysis/outcomes",
        "/api/v1/analysis/benchmark?dataset=contacts",
        "/api/v1/analysis/outcomes?dataset=complaints",
        "/analysis/representation",
        "/analysis/darkness",
        "/api/v1/analysis/veil-of-darkness?dataset=contacts",
        "/api/v1/analysis/race-pairs?dataset=contacts",
        "/api/v1/analysis/funnel?dataset=contacts&by=quarter",
        "/analysis/funnel?dataset=contacts&by=beat",
        "/analysis/outcome-tests?dataset=contacts",
        "/api/v1/analysis/outcome-tests?dataset=contacts",
        "/api/v1/analysis/recording-changes?dataset=contacts",
        f"/api/v1/analysis/outcomes.csv?dataset={rng.choice(['contacts', 'complaints'])}",
        f"/api/v1/datasets/{dataset}/rows.ndjson",
        f"/api/v1/datasets/{dataset}/releases/2026-Q3/datapackage.json",
        "/data.json",
        f"/datasets/{dataset}/feed.atom",
        f"/api/v1/datasets/{dataset}/releases/2026-Q3",
        f"/api/v1/datasets/{dataset}/releases/2026-Q3/file.parquet",
        "/api/v1/datasets/contacts/releases/2026-Q2/diff/2026-Q3",
        "/datasets/contacts/releases/2026-Q2/diff/2026-Q3",
        "/api/v1/datasets/contacts/rows.csv?_sort=-incident_date",
        f"/api/v1/datasets/{dataset}/rows.parquet",
        "/api/v1/datasets/use_of_force/rows.xlsx",
    ]
    return rng.choice(choices)


def _client(base: str, stop: float, seed: int, results: list[tuple[str, int, float, bool]]) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=120, headers={"Accept": "text/html,*/*"}) as http:
        while time.monotonic() < stop:
            url = _urls(rng)
            started = time.monotonic()
            short = False
            try:
                with http.stream("GET", url) as response:
                    size = sum(len(chunk) for chunk in response.iter_raw())
                    length = response.headers.get("content-length")
                    short = length is not None and int(length) != size
                status = response.status_code
            except (httpx.RemoteProtocolError, httpx.ReadError):
                status, short = 599, True  # the stream was cut: a client sees an error
            except httpx.TransportError:
                status = 598  # no connection, or no answer within the client's timeout
            results.append((url, status, time.monotonic() - started, short))


def _health(base: str, seconds: float, worst: list[float]) -> None:
    """/healthz timed from a process of its own: in this one, the client threads would
    delay the poller's own clock (they share its interpreter lock)."""
    context = multiprocessing.get_context("spawn")
    times = context.Queue()
    poller = context.Process(target=_poll_health, args=(base, seconds, times))
    poller.start()
    worst.extend(iter(times.get, None))
    poller.join(timeout=60)


def _poll_health(base: str, seconds: float, times: Any) -> None:
    stop = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < stop:
            started = time.monotonic()
            http.get("/healthz")
            times.put(time.monotonic() - started)
            time.sleep(0.5)
    times.put(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    for _ in range(120):  # the server may still be starting
        try:
            httpx.get(f"{args.base}/healthz", timeout=60).raise_for_status()
            break
        except httpx.TransportError:
            time.sleep(1)
    stop = time.monotonic() + args.seconds
    results: list[tuple[str, int, float, bool]] = []
    health: list[float] = []
    threads = [
        threading.Thread(target=_client, args=(args.base, stop, seed, results))
        for seed in range(args.clients)
    ]
    threads.append(threading.Thread(target=_health, args=(args.base, args.seconds, health)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = Counter(status for _, status, _, _ in results)
    times = sorted(elapsed for _, _, elapsed, _ in results)
    print(f"requests {len(results)}  statuses {dict(sorted(statuses.items()))}")
    print(
        f"p50 {statistics.median(times):.3f} s  p95 {times[int(len(times) * 0.95)]:.3f} s  "
        f"max {times[-1]:.3f} s  healthz max {max(health):.3f} s"
    )
    by_route = Counter(
        (status, url.split("?")[0]) for url, status, _, _ in results if status != 200
    )
    for (status, route), count in sorted(by_route.items()):
        print(f"  {status} x{count} {route}")
    for url, status, _, short in results:
        if status >= 500 and status != 503 or short:
            print("ERROR", status, "short" if short else "", url)


if __name__ == "__main__":
    main()
