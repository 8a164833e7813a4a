"""Benchmark 3: the community-benchmark analysis over OpenBlotter's demo history.

The demo (every dataset family, quarterly releases since 2016, census
demographics) is loaded once by `openblotter demo --no-serve` into its own
data directory under benchmarks/work/ and reused by later runs; delete
benchmarks/work/openblotter-demo/ to load it anew. It is served by its own
server, started after the query benchmarks so it does not share the machine
with them. OpenBlotter only: Datasette has no such analysis.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import httpx
from peers import OpenBlotterSide
from procs import ServerFailed
from report import NOT_AVAILABLE, Line, seconds_text, verdict
from scenarios import same_path, time_requests

NAME = "3. Analysis: community benchmark by race, period 2025"
TARGET = "< 1 s"
#: scenario -> the table's name for it; all OpenBlotter only, all over the demo history.
SCENARIOS = {
    "analysis": NAME,
    "analysis-age": "3b. Analysis: community benchmark by age group, period 2025",
    "counts-only": "3c. Counts-only aggregate: use of force by race and sex, from the "
    "release's protected tables",
}
#: The demo server runs with use of force published only as counts (threshold 10).
COUNTS_ONLY = {"OPENBLOTTER_AGGREGATES_ONLY_DATASETS": '["use_of_force"]'}
#: An analysis takes no free predicate, so the headline server runs with no result cache:
#: every request is computed anew. A second server, with the cache, gives the cached figure.
UNCACHED = {"OPENBLOTTER_QUERY_CACHE_CELLS": "0"}


def _not_available(reason: str) -> list[Line]:
    return [Line(name, "—", NOT_AVAILABLE, "—", TARGET, "—", reason) for name in SCENARIOS.values()]


def analysis_phase(
    args: argparse.Namespace, ours: OpenBlotterSide | None, raw: dict[str, object]
) -> list[Line]:
    """Load the demo if needed, serve it, and time the analysis endpoint (medians)."""
    if ours is None:
        return _not_available("OpenBlotter was not run (see above).")
    logs = args.work / "logs"
    print("  3. Loading the demo history (`openblotter demo --no-serve`) ...", flush=True)
    demo = ours.load_demo(logs)
    raw["demo_load_s"] = demo.seconds
    if demo.returncode != 0:
        last = demo.output_tail.strip().splitlines()[-1:] or ["no output"]
        return _not_available(
            f"`openblotter demo --no-serve` failed (exit {demo.returncode}): {last[0]}"
        )
    paths = {scenario: ours.path(scenario) for scenario in SCENARIOS}
    print(f"  {NAME} (and 3b, 3c) ...", flush=True)
    lines: list[Line] = []
    try:
        with (
            ours.serve(logs, demo=True, settings=COUNTS_ONLY | UNCACHED) as server,
            httpx.Client(base_url=server.base_url, timeout=300) as client,
        ):
            for scenario, name in SCENARIOS.items():
                lines.append(_timed(args, client, scenario, paths[scenario], name, raw))
        with (
            ours.serve(logs, demo=True, settings=COUNTS_ONLY) as server,
            httpx.Client(base_url=server.base_url, timeout=300) as client,
        ):
            lines = [
                replace(line, cached=_cached(args, client, scenario, paths[scenario], raw))
                for line, scenario in zip(lines, SCENARIOS, strict=True)
            ]
    except (ServerFailed, httpx.HTTPError) as error:
        return _not_available(f"over the demo history: {error}")
    return lines


def _cached(
    args: argparse.Namespace, client: httpx.Client, scenario: str, path: str, raw: dict[str, object]
) -> str:
    """Median seconds of the same request repeated on a server with its result cache."""
    timings = time_requests(
        {"openblotter": client}, {"openblotter": same_path(path)}, args.warmup, args.reps
    )
    raw[f"{scenario}_cached"] = {"seconds": timings.seconds, "problems": timings.problems}
    return seconds_text(timings.median("openblotter"))


def _timed(
    args: argparse.Namespace,
    client: httpx.Client,
    scenario: str,
    path: str,
    name: str,
    raw: dict[str, object],
) -> Line:
    """Median seconds of one analysis request (first answer checked for a 200)."""
    where = f"`GET {path}` over the demo history (`openblotter demo`), no result cache"
    timings = time_requests(
        {"openblotter": client}, {"openblotter": same_path(path)}, args.warmup, args.reps
    )
    raw[scenario] = {"seconds": timings.seconds, "problems": timings.problems}
    if timings.problems:
        return Line(name, "—", NOT_AVAILABLE, "—", TARGET, "—", timings.problems["openblotter"])
    median = timings.median("openblotter")
    met = verdict(None if median is None else median < 1)
    return Line(name, "—", seconds_text(median), "—", TARGET, met, where)
