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

import httpx
from peers import OpenBlotterSide
from procs import ServerFailed
from report import NOT_AVAILABLE, Line, seconds_text, verdict
from scenarios import time_requests

NAME = "3. Analysis: community benchmark by race, period 2025"
TARGET = "< 1 s"


def _not_available(reason: str) -> list[Line]:
    return [Line(NAME, "—", NOT_AVAILABLE, "—", TARGET, "—", reason)]


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
    path = ours.path("analysis")
    where = f"`GET {path}` over the demo history (`openblotter demo`)"
    print(f"  {NAME} ...", flush=True)
    try:
        with (
            ours.serve(logs, demo=True) as server,
            httpx.Client(base_url=server.base_url, timeout=300) as client,
        ):
            timings = time_requests(
                {"openblotter": client}, {"openblotter": path}, args.warmup, args.reps
            )
    except (ServerFailed, httpx.HTTPError) as error:
        return _not_available(f"{where}: {error}")
    raw["analysis"] = {"seconds": timings.seconds, "problems": timings.problems}
    if timings.problems:  # e.g. a 404 while the endpoint does not exist yet
        return _not_available(f"{where}: {timings.problems['openblotter']}")
    median = timings.median("openblotter")
    met = verdict(None if median is None else median < 1)
    return [Line(NAME, "—", seconds_text(median), "—", TARGET, met, where)]
