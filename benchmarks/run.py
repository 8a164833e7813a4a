"""OpenBlotter against Datasette 0.65 on the same generated rows, in the same run.

Run through ``bash benchmarks/run.sh`` (which prepares .venv-bench). Prints a
markdown table of medians, ratios and targets, and writes it with the machine
description to benchmarks/results/latest.md (raw samples in latest.json).
Machines are noisy: the comparison is the ratio measured in one run, not the
absolute times.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from analysis_bench import analysis_phase
from floor import DuckDBFloor, release_file, serving_copy
from generate import DEFAULT_SEED, cache_paths
from measure_http import QueryBenchmarks
from peers import DATASETTE_SETTINGS, FILTER, INDEXED_COLUMNS, DatasetteSide, OpenBlotterSide
from procs import ServerFailed
from publish import PublishBenchmark
from report import Line, machine, markdown_table

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SMOKE = {
    "--rows": 20_000,
    "--reps": 3,
    "--publish-reps": 1,
    "--export-reps": 1,
    "--load-seconds": 3.0,
    "--browser-reps": 2,
    "--out": BENCH_DIR / "work" / "smoke.md",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--rows", type=int, default=1_000_000, help="rows in the generated file")
    add("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    add("--reps", type=int, default=7, help="timed repetitions of each single request")
    add("--warmup", type=int, default=2, help="untimed warm-up requests before them")
    add("--publish-reps", type=int, default=2, help="repetitions of the load/publish step")
    add("--export-reps", type=int, default=2, help="repetitions of the full CSV export")
    add("--load-seconds", type=float, default=10.0, help="duration of the load test per side")
    add("--load-clients", type=int, default=8, help="concurrent clients in the load test")
    add("--load-cap", type=int, default=200_000, help="most requests one load test may send")
    add("--browser-reps", type=int, default=5, help="page loads timed in Chromium (0: skip)")
    add("--chromium", default="/usr/bin/chromium", help="the Chromium executable")
    add("--openblotter", type=Path, default=REPO / ".venv" / "bin" / "openblotter")
    add("--analysis-dataset", default="contacts", help="demo dataset for benchmark 3")
    add("--sides", default="datasette,openblotter", help="comma-separated: datasette,openblotter")
    add(
        "--reuse-stores",
        action="store_true",
        help="skip benchmark 1 when both sides are already loaded under --work (query runs only)",
    )
    add("--load-workers", type=int, default=2, help="also load-test `serve --workers N` (0: skip)")
    add(
        "--only",
        default="",
        help="comma-separated steps of benchmarks 2-3 to run, e.g. first,deep,load "
        "(filter, facets, group, export, downloads, first, deep, load, explore, browser, "
        "analysis); default: all",
    )
    add("--work", type=Path, default=BENCH_DIR / "work", help="scratch directory (ignored by git)")
    add("--out", type=Path, default=BENCH_DIR / "results" / "latest.md")
    add(
        "--smoke",
        action="store_true",
        help="quick end-to-end check: 20,000 rows, fewer repetitions, "
        "results in benchmarks/work/smoke.md",
    )
    if "--smoke" in argv:  # smaller defaults; options given explicitly still win
        parser.set_defaults(**{k.lstrip("-").replace("-", "_"): v for k, v in SMOKE.items()})
    return parser.parse_args(argv)


def generated_file(args: argparse.Namespace) -> tuple[Path, str]:
    """The contacts file and its SHA-256, generated in a child process (made once, then
    reused) so that the harness itself stays small while it measures others' memory."""
    generator = [sys.executable, str(BENCH_DIR / "generate.py"), "--rows", str(args.rows)]
    generator += ["--seed", str(args.seed), "--cache-dir", str(args.work)]
    subprocess.run(generator, check=True, stdout=subprocess.DEVNULL)
    path, stamp = cache_paths(args.work, args.rows, args.seed)
    return path, stamp.read_text().strip()


def openblotter_problem(executable: Path) -> str | None:
    """Why OpenBlotter cannot be benchmarked yet, or None when its command runs."""
    if not executable.exists():
        return f"{executable} does not exist"
    done = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"`openblotter --help` failed: {last[0]}"
    return None


def expected_filter_total(db: Path) -> int:
    """Rows matching the two-column filter, counted by SQLite itself: the truth both must give."""
    where = " and ".join(f"{column} = ?" for column in FILTER)
    with sqlite3.connect(db) as connection:
        (count,) = connection.execute(
            f"select count(*) from contacts where {where}", tuple(FILTER.values())
        ).fetchone()
    return int(count)


def write_results(
    args: argparse.Namespace, lines: list[Line], raw: dict[str, object], facts: dict[str, str]
) -> str:
    """Assemble the markdown document, write it and the raw JSON, and return the document."""
    table = markdown_table(lines, "Datasette 0.65", "OpenBlotter")
    machine_rows = "\n".join(f"| {k} | {v} |" for k, v in facts.items())
    settings = ", ".join(f"`{k}={v}`" for k, v in DATASETTE_SETTINGS.items())
    text = f"""# OpenBlotter vs Datasette: benchmark results

Generated by `benchmarks/run.py` on {time.strftime("%Y-%m-%d %H:%M %Z")}: {args.rows:,}
generated contact rows (seed {args.seed}, file SHA-256 `{raw["csv_sha256"]}`),
{args.reps} timed repetitions after {args.warmup} warm-ups for single requests (sides
interleaved), medians. Ratios compare the two sides measured in this same run; absolute
times depend on the machine and its load.

{table}

## How each side was set up

- Datasette {facts["datasette"]}: `sqlite-utils insert bench.db contacts FILE --csv` (column
  types detected, its default), then `sqlite-utils create-index --analyze` on
  {", ".join(INDEXED_COLUMNS)} (timed separately), served with `datasette serve -i` (immutable)
  and settings raised so that it answers the whole-table queries instead of timing out: {settings}.
- OpenBlotter: `openblotter publish FILE --dataset contacts_bench --release 2026-Q3` into an empty
  data directory (schema inferred), served with `openblotter serve`.
- Every timed request of benchmark 2 is distinct on every side: a fresh no-op predicate
  (`contact_id != 'Z<n>'`, a new n each request, load test included), so no answer comes from
  a cache; Datasette is asked with `_nocount=1` where no total is wanted (first page, deep
  page, facets). "DuckDB in-process (floor)" runs the same SQL with the same predicate over
  what OpenBlotter reads: its serving copy of the release (a DuckDB table built from the Parquet
  file it published; unsorted pages in file order, as the server asks them), and the Parquet
  file for the export; "cached" repeats one request against OpenBlotter's
  result cache and stands only beside the uncached figure. Benchmark 3 takes no free
  predicate: its headline server runs with no result cache (`OPENBLOTTER_QUERY_CACHE_CELLS=0`).
- Both on 127.0.0.1, one at a time per request; the load test runs 8 client threads in the
  harness process on the same 2 cores as the server.
- Benchmark 3 runs on a second OpenBlotter server holding the synthetic demo history
  (`openblotter demo --no-serve`, loaded once and reused), started after benchmark 2,
  with `use_of_force` published only as counts (`OPENBLOTTER_AGGREGATES_ONLY_DATASETS`)
  for 3c; 3, 3b and 3c have no Datasette counterpart.

## Machine

| | |
| --- | --- |
{machine_rows}

## Reproduce

    make bench                                  # = bash benchmarks/run.sh (about 15 minutes)
    make bench-smoke                            # = bash benchmarks/run.sh --smoke (20,000 rows)
    bash benchmarks/run.sh --sides datasette    # the peer alone
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    return text


def query_phase(
    args: argparse.Namespace,
    peer: DatasetteSide,
    ours: OpenBlotterSide,
    run_ours: bool,
    raw: dict[str, object],
) -> list[Line]:
    """Serve both stores on loopback and run benchmarks 2 and 3 against them."""
    logs = args.work / "logs"
    unavailable = None  # a reason already in the table is not said again; a new one is
    with ExitStack() as stack:
        servers = {"datasette": stack.enter_context(peer.serve(logs))}
        if run_ours:
            try:
                servers["openblotter"] = stack.enter_context(ours.serve(logs))
            except ServerFailed as error:
                unavailable = str(error)
                print(f"OpenBlotter side skipped: {error}", flush=True)
        clients = {
            key: stack.enter_context(httpx.Client(base_url=srv.base_url, timeout=300))
            for key, srv in servers.items()
        }
        parquet = release_file(ours.data_dir) if run_ours else None
        floor = DuckDBFloor(parquet, serving_copy(ours.data_dir)) if parquet else None
        queries = QueryBenchmarks(
            args, {"datasette": peer, "openblotter": ours}, servers, clients, floor
        )
        try:
            return queries.run(expected_filter_total(peer.db), unavailable)
        finally:
            raw["queries"] = queries.raw


def main(argv: list[str]) -> int:
    """Run every benchmark and write the results; exit 1 if the peer side failed outright."""
    args = parse_args(argv)
    started = time.monotonic()
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    facts = machine(REPO, args.openblotter.parent / "python", args.chromium)
    print(f"Generating {args.rows:,} rows (cached under {args.work}) ...", flush=True)
    csv_path, digest = generated_file(args)
    peer = DatasetteSide(BENCH_DIR.parent / ".venv-bench" / "bin", args.work)
    ours = OpenBlotterSide(args.openblotter, args.work, args.analysis_dataset)
    unavailable = (
        openblotter_problem(args.openblotter)
        if "openblotter" in args.sides.split(",")
        else "left out by --sides"
    )
    if unavailable:
        print(f"OpenBlotter side skipped: {unavailable}", flush=True)
    raw: dict[str, object] = {"rows": args.rows, "csv_sha256": digest, "openblotter": unavailable}
    publish = PublishBenchmark(
        peer, None if unavailable else ours, csv_path, logs, args.rows, unavailable
    )
    if args.reuse_stores and peer.db.exists() and release_file(ours.data_dir):
        print("Benchmark 1 skipped: both sides are loaded (--reuse-stores)", flush=True)
        lines: list[Line] = []
    else:
        lines = publish.run(args.publish_reps)
    raw["publish"] = publish.raw
    if publish.peer_failed:
        print(publish.peer_failed, file=sys.stderr)
        return 1
    run_ours = not (unavailable or publish.ours_failed)
    try:
        lines += query_phase(args, peer, ours, run_ours, raw)
    except ServerFailed as error:
        print(error, file=sys.stderr)
        return 1
    if not args.only or "analysis" in args.only.split(","):
        lines += analysis_phase(args, ours if run_ours else None, raw)
    raw["minutes"] = round((time.monotonic() - started) / 60, 1)
    print(write_results(args, lines, raw, facts))
    print(f"Written to {args.out} in {raw['minutes']} minutes.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
