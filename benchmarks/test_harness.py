"""Tests of the benchmark harness itself (not of anyone's speed: no wall-clock assertions).

Run in the benchmark's environment: `.venv-bench/bin/python -m pytest benchmarks -q`
(make bench-test).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import DuckDBFloor, release_file  # noqa: E402
from generate import COLUMNS, cached_contacts_csv, file_sha256, generate_rows  # noqa: E402
from peers import DatasetteSide, OpenBlotterSide, fresh_value  # noqa: E402
from procs import PeakRss, run_measured  # noqa: E402
from report import Line, markdown_table, speedup  # noqa: E402
from scenarios import FRESH, downloads, export_csv, load_test, same_path  # noqa: E402


def test_same_seed_gives_same_rows_and_another_seed_does_not() -> None:
    first = list(generate_rows(2_000, seed=7))
    assert first == list(generate_rows(2_000, seed=7))
    assert first != list(generate_rows(2_000, seed=8))


def test_rows_are_contacts_in_date_order_with_sequential_ids() -> None:
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in generate_rows(20_000)]
    assert len(rows) == 20_000
    assert [r["contact_id"] for r in rows[:3]] == ["C00000001", "C00000002", "C00000003"]
    stamps = [(r["contact_date"], r["contact_time"]) for r in rows]
    assert stamps == sorted(stamps)
    for row in rows[::997]:
        year, month = int(row["contact_date"][:4]), int(row["contact_date"][5:7])
        assert row["quarter"] == f"{year}-Q{(month - 1) // 3 + 1}"
    assert {r["quarter"] for r in rows} >= {"2016-Q1", "2020-Q2", "2026-Q3"}


def test_distributions_are_skewed_like_real_files() -> None:
    rows = list(generate_rows(50_000))
    kinds = Counter(r[COLUMNS.index("contact_type")] for r in rows)
    assert kinds.most_common(1)[0][0] == "Traffic citation"
    officers = Counter(r[COLUMNS.index("officer_id")] for r in rows).most_common()
    assert officers[0][1] > 10 * officers[-1][1]
    races = Counter(r[COLUMNS.index("subject_race")] for r in rows)
    assert races["White"] > races["Black"] > races["Asian"] > 0
    assert races[""] > 0  # a few blanks, as a records system leaves them
    arrests = [r for r in rows if r[COLUMNS.index("contact_type")] == "Arrest"]
    assert {r[COLUMNS.index("role")] for r in arrests} == {"Arrestee"}


def test_cached_file_is_made_once_and_matches_its_checksum(tmp_path: Path) -> None:
    path, digest = cached_contacts_csv(tmp_path, 500, seed=3)
    made = path.stat().st_mtime_ns
    again, digest_again = cached_contacts_csv(tmp_path, 500, seed=3)
    assert (again, digest_again) == (path, digest)
    assert path.stat().st_mtime_ns == made
    assert file_sha256(path) == digest
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == COLUMNS
        assert sum(1 for _ in reader) == 500


def test_run_measured_sees_the_peak_memory_of_a_child_process(tmp_path: Path) -> None:
    grow = "import time; b = bytearray(b'x' * (300 * 2**20)); time.sleep(0.3); raise SystemExit(3)"
    run = run_measured([sys.executable, "-c", grow], log=tmp_path / "child.log")
    assert run.returncode == 3
    assert run.peak_rss_bytes >= 300 * 2**20


def test_run_measured_does_not_count_the_harness_own_memory(tmp_path: Path) -> None:
    ballast = bytearray(b"x" * (400 * 2**20))  # the harness is big; the child it forks is not
    run = run_measured([sys.executable, "-c", "import time; time.sleep(0.3)"])
    assert run.returncode == 0
    assert 0 < run.peak_rss_bytes < 150 * 2**20
    del ballast


class _Handler(BaseHTTPRequestHandler):
    body = b"a,b\n" + b"".join(f"{n},x\n".encode() for n in range(5_000))

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        status, body = (500, b"broken") if self.path == "/broken" else (200, self.body)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_load_test_stops_at_its_request_cap_and_counts_errors(loopback_server: str) -> None:
    ok = load_test(loopback_server, same_path("/rows"), clients=4, seconds=30, cap=40)
    assert (ok.requests, ok.errors) == (40, 0)
    broken = load_test(loopback_server, same_path("/broken"), clients=2, seconds=30, cap=10)
    assert (broken.requests, broken.errors) == (0, 10)
    assert broken.first_error == "HTTP 500"


def test_load_test_stops_by_itself_when_its_time_is_up(loopback_server: str) -> None:
    start = time.monotonic()
    result = load_test(loopback_server, same_path("/rows"), clients=2, seconds=0.5, cap=10**9)
    assert time.monotonic() - start < 10  # bounded by time, not by the huge cap
    assert result.requests > 0 and result.errors == 0


def test_export_counts_rows_and_bytes(loopback_server: str) -> None:
    import os

    with httpx.Client(base_url=loopback_server) as client:
        result = export_csv(client, "/rows.csv", os.getpid())
    assert (result.status, result.rows, result.bytes) == (200, 5_000, len(_Handler.body))
    assert result.server_peak_rss_bytes > 0
    assert 0 < result.server_rss_before_bytes <= result.server_peak_rss_bytes
    assert 0 <= result.server_added_bytes <= result.server_peak_rss_bytes


def test_downloads_at_once_are_each_read_whole(loopback_server: str) -> None:
    import os

    result = downloads(loopback_server, ["/rows.csv"] * 3 + ["/broken"], os.getpid())
    assert result.statuses == (200, 200, 200, 500)
    assert result.sizes[:3] == (len(_Handler.body),) * 3
    assert result.seconds > 0 and result.server_rss_before_bytes > 0
    assert result.server_added_bytes >= 0


def test_what_a_download_adds_is_told_from_the_samples_not_the_lifetime_peak() -> None:
    """A process that once held 64 MiB more, and holds nothing more while it is watched:
    its peak says so, what was added does not."""
    code = (
        "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096]); del b; "
        "print('freed', flush=True); input()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"freed\n"  # allocated, touched and freed
        with PeakRss(child.pid) as peak:
            time.sleep(0.3)
        assert peak.peak_bytes - peak.start_bytes > 48 << 20
        assert peak.sampled_peak_bytes - peak.start_bytes < 16 << 20
    finally:
        child.communicate(b"\n", timeout=30)


def test_group_totals_are_read_from_either_answer_shape() -> None:
    ours = {
        "groups": [
            {"quarter": "2025-Q1", "subject_race": "Black", "count": 5},
            {"quarter": "2025-Q1", "subject_race": "White", "count": 7},
        ]
    }
    assert OpenBlotterSide.group_count_total(ours) == 12
    peer = {"rows": [{"quarter": "2025-Q1", "subject_race": "Black", "n": 5}]}
    assert DatasetteSide.group_count_total(peer) == 5


def test_table_numbers_its_notes_and_ratio_needs_both_sides() -> None:
    table = markdown_table(
        [
            Line("a", "1 s", "0.1 s", "10.0x", "t", "yes", "first note"),
            Line("b", "1 s", "—", "—", "t", "—"),
            Line("c", "2 s", "1 s", "2.0x", "t", "yes", "second note"),
        ],
        "Peer",
        "Ours",
    )
    assert "| a [1] |" in table and "| c [2] |" in table and "| b |" in table
    assert table.rstrip().endswith("[2] second note")
    assert speedup(2.0, 0.5) == 4.0
    assert speedup(None, 0.5) is None and speedup(2.0, None) is None


def test_every_timed_request_is_distinct_on_every_side() -> None:
    """No timed request may be answered by a cache of an earlier identical one."""
    ours, peer = OpenBlotterSide(Path("ob"), Path("w")), DatasetteSide(Path("b"), Path("w"))
    for side in (ours, peer):
        for scenario in ("filter", "facets", "group", "csv", "first"):
            numbers = [FRESH() for _ in range(3)]
            paths = {n: side.path(scenario, n) for n in numbers}
            assert len(set(paths.values())) == 3, (side.key, scenario)
            for n, path in paths.items():
                # A whole parameter value (Z12 is in Z123 as text; as a value it is not).
                values = [v for vs in parse_qs(urlsplit(path).query).values() for v in vs]
                assert fresh_value(n) in values, (side.key, scenario, path)


def test_datasette_is_asked_for_no_count_where_none_is_wanted() -> None:
    peer = DatasetteSide(Path("b"), Path("w"))
    assert "_nocount=1" in peer.path("first", 1) and "_nocount=1" in peer.path("facets", 1)
    assert "_nocount" not in peer.path("filter", 1)  # the filter asks for its exact total


def test_the_load_test_sends_a_new_request_each_time(loopback_server: str) -> None:
    seen: list[str] = []

    def path(n: int) -> str:
        seen.append(f"/rows?n={n}")
        return seen[-1]

    result = load_test(loopback_server, path, clients=3, seconds=30, cap=30)
    assert result.requests == 30 and len(set(seen)) == 30


def test_the_floor_answers_each_scenario_on_a_parquet_file(tmp_path: Path) -> None:
    import duckdb

    parquet = tmp_path / "release.parquet"
    duckdb.sql(
        "select range + 1 as _row_id, 'C' || lpad((range + 1)::varchar, 8, '0') as contact_id, "
        "'2025-Q1' as quarter, 'Traffic citation' as contact_type, 'Black' as subject_race, "
        "'B1' as beat from range(1000)"
    ).write_parquet(str(parquet))
    floor = DuckDBFloor(release_file(tmp_path))
    floor.prepare_deep(500)
    for scenario in ("filter", "facets", "group", "first", "deep", "csv"):
        assert len(floor.time(scenario, warmup=0, reps=2)) == 2


def test_only_runs_the_steps_it_names() -> None:
    from measure_http import QueryBenchmarks
    from run import parse_args

    benchmarks = QueryBenchmarks(parse_args(["--only", "first,load"]), {}, {}, {})
    ran: list[str] = []

    def step(name: str):  # type: ignore[no-untyped-def]
        return lambda *args, **kwargs: ran.append(args[0] if name == "single" else name) or []

    benchmarks.single = step("single")  # type: ignore[method-assign]
    for name in ("export", "downloads", "deep_page", "load", "browser"):
        setattr(benchmarks, name, step(name))
    benchmarks.run(1, None)
    assert ran == ["first", "load"]


def test_the_workers_line_serves_with_the_workers_option(tmp_path: Path) -> None:
    side = OpenBlotterSide(tmp_path / "openblotter", tmp_path)
    started: list[list[str]] = []

    class Stop(Exception):
        pass

    import peers

    def serving(name, argv, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(argv)
        raise Stop

    original, peers.serving = peers.serving, serving
    try:
        with pytest.raises(Stop), side.serve(tmp_path, workers=2):
            pass
    finally:
        peers.serving = original
    assert started[0][-2:] == ["--workers", "2"]
