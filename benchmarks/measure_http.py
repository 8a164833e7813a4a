"""Benchmarks 2 and 3: queries over HTTP on loopback, the same rows on both sides.

Before a side is timed, its first answer is checked against the truth (SQLite's
own count, the row count of the file, the contact_id expected at a position),
so the two sides are compared on the same result, not just on speed.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from floor import DuckDBFloor
from peers import PAGE_SIZE, DatasetteSide, OpenBlotterSide
from procs import Server
from report import (
    NOT_AVAILABLE,
    Line,
    bytes_text,
    rate_text,
    ratio_text,
    seconds_text,
    speedup,
    verdict,
)
from scenarios import (
    FRESH,
    PathFor,
    Timings,
    browser_page_times,
    downloads,
    export_csv,
    load_test,
    same_path,
    time_requests,
)

Side = DatasetteSide | OpenBlotterSide
PEER, OURS = "datasette", "openblotter"
MIB = 2**20


def _contact_id(position: int) -> str:
    """The generated contact_id of the row at a 1-based position (rows are written in order)."""
    return f"C{position:08d}"


class QueryBenchmarks:
    """Runs each HTTP scenario on every running side and turns it into table lines."""

    def __init__(
        self,
        args: argparse.Namespace,
        sides: dict[str, Side],
        servers: dict[str, Server],
        clients: dict[str, httpx.Client],
        floor: DuckDBFloor | None = None,
    ) -> None:
        self.args, self.sides, self.servers, self.clients = args, sides, servers, clients
        self.floor = floor
        self.rows = args.rows
        self.raw: dict[str, Any] = {}
        self.unavailable: str | None = None

    def run(self, expected_filter_total: int, unavailable: str | None) -> list[Line]:
        """Every scenario, in the order of the results table."""
        self.unavailable = unavailable
        steps: list[tuple[str, Callable[[], list[Line]]]] = [
            (
                "filter",
                lambda: self.single(
                    "filter",
                    "2a. Filter (2 columns), page of 100 + exact total",
                    5,
                    self._check_total(expected_filter_total, page=True),
                ),
            ),
            (
                "facets",
                lambda: self.single(
                    "facets", "2b. Three facets over the whole table", 10, self._check_facets
                ),
            ),
            (
                "group",
                lambda: self.single(
                    "group", "2c. Group by quarter x race, count", 20, self._check_groups
                ),
            ),
            ("export", self.export),
            ("downloads", self.downloads),
            (
                "first",
                lambda: self.single("first", "2f. First page of 100", 1, self._check_first(1)),
            ),
            ("deep", self.deep_page),
            ("load", self.load),
            (
                "explore",
                lambda: self.single(
                    "explore", "2i. Explore page HTML (fetch)", None, self._check_html
                ),
            ),
            ("browser", self.browser),
        ]
        only = set(filter(None, getattr(self.args, "only", "").split(",")))
        lines: list[Line] = []
        for key, step in steps:
            if not only or key in only:
                lines += step()
        return lines

    # -- checks: return a problem for people, or None ------------------------------------
    def _check_total(self, expected: int, page: bool = False) -> Callable[..., str | None]:
        def check(side: str, response: httpx.Response) -> str | None:
            body = response.json()
            total = self.sides[side].total(body)
            if total != expected:
                return f"total was {total}, SQLite counts {expected}"
            if page and len(body["rows"]) != min(PAGE_SIZE, expected):
                return f"page held {len(body['rows'])} rows, not {min(PAGE_SIZE, expected)}"
            return None

        return check

    def _check_facets(self, side: str, response: httpx.Response) -> str | None:
        total = self.sides[side].facet_total(response.json(), "contact_type")
        return None if total == self.rows else f"facet counts add up to {total}, not {self.rows}"

    def _check_groups(self, side: str, response: httpx.Response) -> str | None:
        total = self.sides[side].group_count_total(response.json())
        return None if total == self.rows else f"group counts add up to {total}, not {self.rows}"

    def _check_first(self, position: int) -> Callable[..., str | None]:
        def check(side: str, response: httpx.Response) -> str | None:
            rows = response.json()["rows"]
            if len(rows) != PAGE_SIZE or rows[0].get("contact_id") != _contact_id(position):
                first = rows[0].get("contact_id") if rows else None
                return f"page of {len(rows)} rows starting at {first}, not {_contact_id(position)}"
            return None

        return check

    @staticmethod
    def _check_html(side: str, response: httpx.Response) -> str | None:
        kind = response.headers.get("content-type", "")
        return None if kind.startswith("text/html") else f"answered {kind}, not HTML"

    # -- scenarios -------------------------------------------------------------------------
    def single(
        self,
        key: str,
        name: str,
        target: float | None,
        check: Callable[..., str | None],
        paths: dict[str, str] | None = None,
    ) -> list[Line]:
        """One request timed on both sides, every request made distinct by a fresh no-op
        predicate (the headline); then OpenBlotter asked the same request again and again
        (its cache), and the DuckDB floor. Target: the speed-up OpenBlotter must reach."""
        print(f"  {name} ...", flush=True)
        paths = paths or {side: self._fresh_path(side, key) for side in self.servers}
        timings = time_requests(self.clients, paths, self.args.warmup, self.args.reps, check)
        line = self._timed_line(key, name, timings, target)
        cached = self._cached(key, paths)
        floor = self._floor(key)
        self.raw[key] |= {"cached_seconds": cached, "floor_seconds": floor}
        return [
            replace(
                line,
                cached=seconds_text(statistics.median(cached)) if cached else "—",
                floor=seconds_text(statistics.median(floor)) if floor else "—",
            )
        ]

    def _fresh_path(self, side: str, key: str) -> PathFor:
        return lambda n: self.sides[side].path(key, n)

    def _cached(self, key: str, paths: dict[str, PathFor]) -> list[float]:
        if OURS not in self.servers or key == "explore":
            return []
        repeated = {OURS: same_path(paths[OURS](FRESH()))}
        timings = time_requests(self.clients, repeated, self.args.warmup, self.args.reps)
        return timings.seconds.get(OURS, []) if not timings.problems else []

    def _floor(self, key: str) -> list[float]:
        if self.floor is None or key == "explore":
            return []
        return self.floor.time(key, self.args.warmup, self.args.reps)

    def _timed_line(self, key: str, name: str, timings: Timings, target: float | None) -> Line:
        self.raw[key] = {"seconds": timings.seconds, "problems": timings.problems}
        peer, ours = timings.median(PEER), timings.median(OURS)
        ratio = speedup(peer, ours)
        if target is None:
            target_text, met = "OpenBlotter < 1 s", None if ours is None else ours < 1
        else:
            target_text = "no slower" if target == 1 else f"<= 1/{target:g} of Datasette's time"
            met = None if ratio is None else ratio >= target
        return Line(
            name,
            seconds_text(peer),
            seconds_text(ours),
            ratio_text(ratio),
            target_text,
            verdict(met),
            self._note(timings.problems),
        )

    def _note(self, problems: dict[str, str]) -> str:
        parts = [f"{self.sides[side].label}: {problem}" for side, problem in problems.items()]
        if self.unavailable and OURS not in self.servers:
            parts.append(f"OpenBlotter not run: {self.unavailable}")
            self.unavailable = None  # said once, on the first line that misses it
        return "; ".join(parts)

    def deep_page(self) -> list[Line]:
        """A page deep in the table, reached by keyset token (computed for Datasette's rowid,
        taken from one untimed walk through OpenBlotter's pages)."""
        deep = min(500_000, self.rows // 2 // PAGE_SIZE * PAGE_SIZE)
        name = f"2g. Deep keyset page at row {deep:,}"
        paths: dict[str, PathFor] = {}
        problems: dict[str, str] = {}
        for side in self.servers:
            try:
                self.sides[side].deep_path(self.clients[side], deep)  # walks once, untimed
                paths[side] = self._deep_path(side, deep)
            except (RuntimeError, httpx.HTTPError, KeyError, ValueError) as error:
                problems[side] = f"could not reach row {deep}: {error}"
        if problems:
            return [self._timed_line("deep", name, Timings(problems=problems), 1)]
        if self.floor is not None:
            self.floor.prepare_deep(deep)
        return self.single("deep", name, 1, self._check_first(deep + 1), paths)

    def _deep_path(self, side: str, deep: int) -> PathFor:
        token_path = self.sides[side].deep_path(self.clients[side], deep)
        token = token_path.split("_next=", 1)[1]
        return lambda n: self.sides[side].path("first", n) + f"&_next={token}"

    def export(self) -> list[Line]:
        """The whole table as streamed CSV: throughput, and the server's memory meanwhile."""
        print("  2d. Full CSV export ...", flush=True)
        runs: dict[str, list[Any]] = {side: [] for side in self.servers}
        failed: dict[str, str] = {}
        for _ in range(self.args.export_reps):
            for side, server in self.servers.items():
                if side in failed:
                    continue
                path = self.sides[side].path("csv", FRESH())
                try:
                    runs[side].append(export_csv(self.clients[side], path, server.pid))
                except httpx.HTTPError as error:
                    failed[side] = f"`GET {path}` failed: {error!r}"
        self.raw["export"] = {side: [vars(e) for e in done] for side, done in runs.items()}
        runs = {side: done for side, done in runs.items() if side not in failed}
        problems = failed | {
            side: f"exported {e.rows} rows (HTTP {e.status}), not {self.rows}"
            for side, done in runs.items()
            for e in done[:1]
            if e.rows != self.rows
        }
        rate = {
            s: statistics.median(e.rows_per_second for e in d)
            for s, d in runs.items()
            if s not in problems
        }
        peak = {s: max(e.server_peak_rss_bytes for e in d) for s, d in runs.items()}
        added = {s: max(e.server_added_bytes for e in d) for s, d in runs.items()}
        before = {s: max(e.server_rss_before_bytes for e in d) for s, d in runs.items()}
        size = {
            s: f"{d[0].bytes / MIB:,.0f} MiB in {seconds_text(d[0].seconds)}"
            for s, d in runs.items()
        }
        ratio = rate[OURS] / rate[PEER] if OURS in rate and rate.get(PEER) else None
        floor_seconds = self._floor("csv")
        self.raw["export_floor_seconds"] = floor_seconds
        floor_rate = self.rows / statistics.median(floor_seconds) if floor_seconds else None
        details = "; ".join(f"{self.sides[s].label} {text}" for s, text in size.items())
        note = "; ".join(filter(None, [details, self._note(problems)]))
        our_peak = peak.get(OURS)
        return [
            Line(
                "2d. Full CSV export, rows per second",
                rate_text(rate.get(PEER), "rows/s"),
                rate_text(rate.get(OURS), "rows/s"),
                ratio_text(ratio),
                ">= 20x throughput",
                verdict(None if ratio is None or problems else ratio >= 20),
                note,
                floor=rate_text(floor_rate, "rows/s"),
            ),
            Line(
                "2e. Server peak memory during the export",
                bytes_text(peak.get(PEER)),
                bytes_text(our_peak),
                "—",
                "OpenBlotter < 300 MiB",
                verdict(None if our_peak is None else our_peak < 300 * MIB),
                "the whole server process: the most it ever held (its own peak, VmHWM), "
                "the download included",
            ),
            Line(
                "2e2. Server memory the export added (sampled, above the server before it)",
                bytes_text(added.get(PEER)),
                bytes_text(added.get(OURS)),
                "—",
                "(context for 2e)",
                "—",
                "; ".join(
                    f"{self.sides[s].label} held {bytes_text(b)} before it"
                    for s, b in before.items()
                ),
            ),
        ]

    def downloads(self) -> list[Line]:
        """Issue 15's "every format, sorted or not": what each other download adds to
        OpenBlotter's server, one at a time, and four at once (its default export slots)."""
        if OURS not in self.servers:
            return []
        print("  2e3. Downloads of every format ...", flush=True)
        server, side = self.servers[OURS], self.sides[OURS]
        plan = {
            "CSV sorted": ["csv-sorted"],
            "JSON lines": ["ndjson"],
            "XLSX": ["xlsx"],
            "Parquet": ["parquet"],
            "4 JSON lines at once": ["ndjson"] * 4,
        }
        runs = {
            name: downloads(server.base_url, [side.path(s, FRESH()) for s in kinds], server.pid)
            for name, kinds in plan.items()
        }
        self.raw["downloads"] = {name: vars(run) for name, run in runs.items()}
        failed = [
            f"{name}: HTTP {status}"
            for name, run in runs.items()
            for status in run.statuses
            if status != 200
        ]
        most = max(run.server_added_bytes for run in runs.values())
        each = "; ".join(
            f"{name} {bytes_text(run.server_added_bytes)} above "
            f"{bytes_text(run.server_rss_before_bytes)} "
            f"({sum(run.sizes) / MIB:,.0f} MiB in {seconds_text(run.seconds)})"
            for name, run in runs.items()
        )
        return [
            Line(
                "2e3. Server memory the other downloads added (OpenBlotter; the most of them)",
                "—",
                bytes_text(most),
                "—",
                "(context for 2e)",
                "**failed**" if failed else "—",
                "; ".join(filter(None, [each, ", ".join(failed)])),
            )
        ]

    def load(self) -> list[Line]:
        """Concurrent clients on the first page for a fixed time: requests per second."""
        clients, seconds = self.args.load_clients, self.args.load_seconds
        name = (
            f"2h. {clients} concurrent clients on the first page (distinct requests), {seconds:g} s"
        )
        print(f"  {name} ...", flush=True)
        results = {
            side: load_test(
                server.base_url,
                self._fresh_path(side, "first"),
                clients,
                seconds,
                self.args.load_cap,
            )
            for side, server in self.servers.items()
        }
        cached = (
            load_test(
                self.servers[OURS].base_url,
                same_path(self.sides[OURS].path("first", FRESH())),
                clients,
                seconds,
                self.args.load_cap,
            )
            if OURS in self.servers
            else None
        )
        self.raw["load"] = {side: vars(result) for side, result in results.items()}
        self.raw["load_cached"] = vars(cached) if cached else None
        rps = {side: result.per_second for side, result in results.items()}
        ratio = rps[OURS] / rps[PEER] if OURS in rps and rps[PEER] else None
        ours = results.get(OURS)
        met = None if ratio is None or ours is None else ratio >= 2 and ours.errors == 0
        note = "; ".join(
            f"{self.sides[s].label}: {r.requests} ok, {r.errors} errors"
            + (f" (first: {r.first_error})" if r.errors else "")
            + f", p50 {r.p50_ms:.1f} ms, p95 {r.p95_ms:.1f} ms"
            for s, r in results.items()
        )
        return [
            Line(
                name,
                rate_text(rps[PEER], "req/s"),
                rate_text(rps.get(OURS), "req/s"),
                ratio_text(ratio),
                ">= 2x req/s, 0 errors",
                verdict(met),
                "; ".join(filter(None, [note, self._note({})])),
                cached=rate_text(cached.per_second if cached else None, "req/s"),
            ),
            *self.load_workers(rps.get(PEER), rps.get(OURS)),
        ]

    def load_workers(self, peer_rps: float | None, one_worker_rps: float | None) -> list[Line]:
        """The same load against `openblotter serve --workers N` (a server of its own, started
        for this line and stopped after it), beside the one-worker figure above."""
        workers = self.args.load_workers
        side = self.sides.get(OURS)
        if workers < 2 or OURS not in self.servers or not isinstance(side, OpenBlotterSide):
            return []
        name = f"2h2. The same load, `openblotter serve --workers {workers}`"
        print(f"  {name} ...", flush=True)
        with side.serve(self.args.work / "logs", workers=workers) as server:
            result = load_test(
                server.base_url,
                self._fresh_path(OURS, "first"),
                self.args.load_clients,
                self.args.load_seconds,
                self.args.load_cap,
            )
        self.raw["load_workers"] = {"workers": workers, **vars(result)}
        ratio = result.per_second / peer_rps if peer_rps else None
        scaling = f"{result.per_second / one_worker_rps:.2f}x one worker" if one_worker_rps else ""
        note = (
            f"{result.requests} ok, {result.errors} errors"
            + (f" (first: {result.first_error})" if result.errors else "")
            + f", p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms; {scaling}"
        )
        return [
            Line(
                name,
                rate_text(peer_rps, "req/s"),
                rate_text(result.per_second, "req/s"),
                ratio_text(ratio),
                ">= 2x req/s, 0 errors",
                verdict(None if ratio is None else ratio >= 2 and result.errors == 0),
                note,
            )
        ]

    def browser(self) -> list[Line]:
        """The explore page (Datasette: its table page) in headless Chromium."""
        name = "2j. Explore page in headless Chromium (load event; all requests done)"
        if self.args.browser_reps <= 0:
            return []
        print(f"  {name} ...", flush=True)
        from playwright.sync_api import Error as PlaywrightError

        urls = {s: srv.base_url + self.sides[s].path("explore") for s, srv in self.servers.items()}
        try:
            found = browser_page_times(self.args.chromium, urls, 1, self.args.browser_reps)
        except PlaywrightError as error:
            first_line = str(error).strip().splitlines()[0]
            return [
                Line(
                    name,
                    NOT_AVAILABLE,
                    NOT_AVAILABLE,
                    "—",
                    "OpenBlotter < 1 s",
                    "—",
                    f"Chromium could not be driven: {first_line}",
                )
            ]
        self.raw["browser"] = found

        def cell(side: str) -> tuple[str, float | None]:
            times = found.get(side)
            if not times or not times["settled"]:
                return NOT_AVAILABLE, None
            load, settled = statistics.median(times["load"]), statistics.median(times["settled"])
            return f"{seconds_text(load)}; {seconds_text(settled)}", settled

        (peer_text, peer), (our_text, ours) = cell(PEER), cell(OURS)
        errors = {s: "; ".join(t["errors"][:2]) for s, t in found.items() if t["errors"]}
        return [
            Line(
                name,
                peer_text,
                our_text,
                ratio_text(speedup(peer, ours)),
                "OpenBlotter < 1 s",
                verdict(None if ours is None else ours < 1),
                self._note(errors),
            )
        ]
