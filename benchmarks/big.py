"""The 100-million-row run (issue 15, item 5): OpenBlotter alone, on the generated file.

Makes (or reuses) the contacts file of ``--rows`` rows, day by day in bounded
memory; publishes it with ``openblotter publish`` (wall time, peak RSS of the
process tree); serves it and times, every request uncached (a fresh no-op
predicate each time): three facets, a two-column filter with its exact total, a
group-by, the first keyset page and a deep one, and a streamed full CSV export
(rows/s, server peak RSS). Writes ``benchmarks/work/big-<rows>.md`` and ``.json``.

    make bench-100m                      # = python benchmarks/big.py --rows 100000000
    .venv-bench/bin/python benchmarks/big.py --rows 20000000

Not part of CI: about 40 minutes at 100M rows on 2 quiet cores (generate 17, publish 15, serve and query 4).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from generate import cached_contacts_csv
from peers import DATASET_ID, FACETS, FILTER, FRESH_COLUMN, GROUP_BY, RELEASE, OpenBlotterSide
from procs import run_measured
from scenarios import FRESH, export_csv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MIB = 2**20
API = f"/api/v1/datasets/{DATASET_ID}"
TARGETS = {"facets": 2.0, "group": 2.0, "filter": 1.0, "first": 0.05, "deep": 0.05}


def _noop() -> tuple[str, str]:
    return f"{FRESH_COLUMN}__ne", f"Z{FRESH()}"


def _paths(deep_token: str) -> dict[str, Any]:
    return {
        "facets": lambda: f"{API}/facets?" + urlencode([("_facet", f) for f in FACETS] + [_noop()]),
        "filter": lambda: (
            f"{API}/rows?"
            + urlencode([*FILTER.items(), _noop(), ("_size", 100), ("_count", "true")])
        ),
        "group": lambda: (
            f"{API}/aggregate?"
            + urlencode([("_group", ",".join(GROUP_BY)), ("_agg", "count"), _noop()])
        ),
        "first": lambda: f"{API}/rows?" + urlencode([("_size", 100), _noop()]),
        "deep": lambda: (
            f"{API}/rows?" + urlencode([("_size", 100), _noop(), ("_next", deep_token)])
        ),
    }


def _deep_token(client: httpx.Client, row: int) -> str:
    """The token a walk through the pages would reach at ``row``: the first page's token
    (sort fingerprint, release) with its row id set to ``row`` (walking 50M rows takes hours)."""
    token = client.get(f"{API}/rows?_size=100").raise_for_status().json()["next"]
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["r"] = row
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _time(client: httpx.Client, path_for: Any, reps: int) -> dict[str, Any]:
    seconds, first = [], None
    for rep in range(reps + 1):
        path = path_for()
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        if rep == 0:
            first = response.json()
            continue  # the first request of a kind opens files and warms the page cache
        seconds.append(elapsed)
    return {"median_s": statistics.median(seconds), "all_s": seconds, "first": first}


def _publish(side: OpenBlotterSide, csv_path: Path, logs: Path) -> dict[str, Any]:
    if side.data_dir.exists():
        shutil.rmtree(side.data_dir)
    side.data_dir.mkdir(parents=True)
    argv = [str(side.executable), "publish", str(csv_path), "--dataset", DATASET_ID]
    argv += ["--release", RELEASE, "--accept-privacy"]
    env = {**side.env(), "OPENBLOTTER_UPLOAD_MAX_BYTES": str(1 << 50)}
    run = run_measured(argv, env=env, log=logs / "big-publish.log")
    if run.returncode:
        raise SystemExit(f"publish failed: {run.output_tail[-1500:]}")
    return {"seconds": run.seconds, "peak_rss_bytes": run.peak_rss_bytes}


def _queries(side: OpenBlotterSide, rows: int, logs: Path, reps: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with side.serve(logs) as server, httpx.Client(base_url=server.base_url, timeout=600) as client:
        deep = rows // 2
        paths = _paths(_deep_token(client, deep))
        for name, path_for in paths.items():
            print(f"  {name} ...", flush=True)
            results[name] = _time(client, path_for, reps)
        first_row = results["deep"]["first"]["rows"][0][FRESH_COLUMN]
        results["deep"]["row"], results["deep"]["contact_id"] = deep + 1, first_row
        results["filter"]["total"] = results["filter"]["first"].get("total")
        for value in results.values():
            value.pop("first", None)
        print("  full CSV export ...", flush=True)
        path = f"{API}/rows.csv?" + urlencode([_noop()])
        export = export_csv(client, path, server.pid)
        results["export"] = {
            "seconds": export.seconds,
            "rows": export.rows,
            "bytes": export.bytes,
            "rows_per_second": export.rows / export.seconds if export.seconds else None,
            "server_peak_rss_bytes": export.server_peak_rss_bytes,
            "status": export.status,
        }
    return results


def _markdown(meta: dict[str, Any], publish: dict[str, Any], q: dict[str, Any]) -> str:
    rows = meta["rows"]
    lines = [
        f"# OpenBlotter at {rows:,} rows",
        "",
        f"{meta['date']}, commit {meta['commit']}, {meta['machine']}; load before the run: "
        f"{meta['load']}. Command: `{meta['command']}`.",
        "",
        "| what | measured | target |",
        "| --- | ---: | --- |",
        f"| publish (`openblotter publish`, validation and scrubbing included) | "
        f"{publish['seconds']:,.0f} s, peak RSS {publish['peak_rss_bytes'] / MIB:,.0f} MiB | "
        "bounded memory |",
    ]
    names = {
        "facets": "three facets (contact_type, subject_race, beat)",
        "filter": f"2-column filter + exact total ({q['filter'].get('total'):,} rows)",
        "group": "group by quarter x subject_race, count",
        "first": "first keyset page of 100",
        "deep": f"deep keyset page at row {q['deep']['row']:,} (first id {q['deep']['contact_id']})",
    }
    for key, label in names.items():
        median = q[key]["median_s"]
        lines.append(
            f"| {label}, uncached, median | {median * 1000:,.1f} ms | < {TARGETS[key]:g} s |"
        )
    e = q["export"]
    lines.append(
        f"| streamed full CSV export | {e['rows']:,} rows in {e['seconds']:,.0f} s = "
        f"{e['rows_per_second']:,.0f} rows/s; server peak RSS "
        f"{e['server_peak_rss_bytes'] / MIB:,.0f} MiB | constant memory |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--reps", type=int, default=5, help="timed requests of each kind")
    parser.add_argument("--openblotter", type=Path, default=ROOT / ".venv/bin/openblotter")
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--skip-publish", action="store_true", help="serve what is published")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    logs = args.work / "logs"
    logs.mkdir(exist_ok=True)
    side = OpenBlotterSide(args.openblotter, args.work / f"big-{args.rows}")
    meta = {
        "rows": args.rows,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "command": f"python benchmarks/big.py --rows {args.rows}",
    }
    print(f"Generating (or reusing) {args.rows:,} rows ...", flush=True)
    csv_path, _ = cached_contacts_csv(args.work, args.rows)
    publish: dict[str, Any] = {"seconds": float("nan"), "peak_rss_bytes": 0}
    if not args.skip_publish:
        print("Publishing ...", flush=True)
        publish = _publish(side, csv_path, logs)
    print("Querying ...", flush=True)
    queries = _queries(side, args.rows, logs, args.reps)
    out = args.work / f"big-{args.rows}"
    out.with_suffix(".json").write_text(
        json.dumps({**meta, "publish": publish, **queries}, indent=2)
    )
    text = _markdown(meta, publish, queries)
    out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
