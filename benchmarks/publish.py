"""Benchmark 1: loading the generated file, `openblotter publish` against `sqlite-utils insert`.

Both start from nothing each repetition (a new SQLite file; an empty data
directory), and the two sides alternate. The last repetition's stores are the
ones served for the query benchmarks.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from peers import INDEXED_COLUMNS, DatasetteSide, OpenBlotterSide, PublishRun
from procs import CommandRun
from report import NOT_AVAILABLE, Line, bytes_text, ratio_text, seconds_text, speedup, verdict

MIB = 2**20


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _failure(name: str, run: CommandRun) -> str:
    return (
        f"{name} failed (exit status {run.returncode}): `{' '.join(run.argv)}`; "
        f"end of its output: {run.output_tail[-600:].strip()}"
    )


class PublishBenchmark:
    """Runs the loads, keeps the raw samples, and turns them into table lines."""

    def __init__(
        self,
        peer: DatasetteSide,
        ours: OpenBlotterSide | None,
        csv_path: Path,
        logs: Path,
        rows: int,
        not_run: str | None = None,
    ) -> None:
        self.peer, self.ours, self.csv_path, self.logs, self.rows = peer, ours, csv_path, logs, rows
        self.not_run = f"OpenBlotter not run: {not_run}" if not_run else None
        self.peer_runs: list[PublishRun] = []
        self.our_runs: list[PublishRun] = []
        self.peer_failed: str | None = None
        self.ours_failed: str | None = None

    def run(self, reps: int) -> list[Line]:
        """Alternate the sides ``reps`` times; stop a side at its first failure."""
        for rep in range(reps):
            if self.ours and not self.ours_failed:
                print(f"  publish {rep + 1}/{reps}: openblotter publish ...", flush=True)
                run = self.ours.publish(self.csv_path, self.logs, rep)
                self.our_runs.append(run)
                if not run.ok:
                    self.ours_failed = _failure("openblotter publish", run.load)
            print(f"  publish {rep + 1}/{reps}: sqlite-utils insert + indexes ...", flush=True)
            run = self.peer.publish(self.csv_path, self.logs, rep)
            self.peer_runs.append(run)
            if not run.ok:
                failed = run.load if run.load.returncode else run.indexes[-1]
                self.peer_failed = _failure("sqlite-utils", failed)
                return []
        return self.lines()

    @property
    def raw(self) -> dict[str, object]:
        def runs(side: list[PublishRun]) -> list[dict[str, object]]:
            return [
                {
                    "load_s": r.load.seconds,
                    "load_peak_rss": r.load.peak_rss_bytes,
                    "indexes_s": sum(i.seconds for i in r.indexes),
                }
                for r in side
            ]

        return {"datasette": runs(self.peer_runs), "openblotter": runs(self.our_runs)}

    def lines(self) -> list[Line]:
        """Load time, load plus indexes, and peak memory."""
        ok_ours = [r for r in self.our_runs if r.ok]
        peer_load = _median([r.load.seconds for r in self.peer_runs])
        peer_index = _median([sum(i.seconds for i in r.indexes) for r in self.peer_runs])
        our_load = _median([r.load.seconds for r in ok_ours])
        peer_peak = max(r.load.peak_rss_bytes for r in self.peer_runs)
        our_peak = max((r.load.peak_rss_bytes for r in ok_ours), default=None)
        note = self.ours_failed or self.not_run or ""
        load_ratio = speedup(peer_load, our_load)
        both = speedup((peer_load or 0) + (peer_index or 0), our_load)
        return [
            Line(
                f"1. Publish {self.rows:,} rows "
                "(`sqlite-utils insert --csv` vs `openblotter publish`)",
                seconds_text(peer_load),
                seconds_text(our_load),
                ratio_text(load_ratio),
                ">= 20x faster (issue 15)",
                verdict(None if load_ratio is None else load_ratio >= 20),
                note,
            ),
            Line(
                "1b. Publish incl. the peer's indexes",
                seconds_text((peer_load or 0) + (peer_index or 0)),
                seconds_text(our_load),
                ratio_text(both),
                "(context)",
                "—",
                f"Datasette's side adds `sqlite-utils create-index --analyze` on "
                f"{', '.join(INDEXED_COLUMNS)} (median {seconds_text(peer_index)}), which its "
                "queries below rely on; OpenBlotter's publish is the whole job.",
            ),
            Line(
                "1c. Publish peak memory (process tree, max over runs)",
                bytes_text(peer_peak),
                bytes_text(our_peak) if our_peak is not None else NOT_AVAILABLE,
                "—",
                "OpenBlotter <= 500 MiB (issue 15)",
                verdict(None if our_peak is None else our_peak <= 500 * MIB),
            ),
        ]
