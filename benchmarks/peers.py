"""The two sides of each benchmark: Datasette (the peer) and OpenBlotter, on the same rows.

Each side knows how to load the generated CSV, how to serve it on loopback, the
URL of each measured request, and how to read the row total out of its answer,
so the harness can check that both sides return the same rows before it
compares their speed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from procs import CommandRun, Server, free_port, run_measured, serving

DATASET_ID = "contacts_bench"
RELEASE = "2026-Q3"
SALT = "openblotter-benchmark-salt-not-a-secret"
FILTER = {"contact_type": "Traffic citation", "subject_race": "Black"}
FACETS = ("contact_type", "subject_race", "beat")
GROUP_BY = ("quarter", "subject_race")
INDEXED_COLUMNS = ("contact_type", "subject_race", "beat", "quarter")
PAGE_SIZE = 100
#: The sort of the sorted download in benchmark 2e3 (DuckDB sorts it; a sort that large spills).
EXPORT_SORT = "-subject_age"
# Settings raised so that Datasette answers the whole-table queries instead of timing out,
# streams the whole CSV (its default stops at 100 MB) and spends no time suggesting facets.
DATASETTE_SETTINGS = {
    "sql_time_limit_ms": "60000",
    "facet_time_limit_ms": "60000",
    "max_csv_mb": "0",
    "suggest_facets": "off",
}
GROUP_SQL = (
    "select quarter, subject_race, count(*) as n from contacts{where} "
    "group by quarter, subject_race order by quarter, subject_race"
)
#: The column of the no-op predicate that makes every timed request distinct: no generated
#: contact_id starts with "Z", so ``contact_id != 'Z<n>'`` keeps every row but is a new query
#: each time, for every system (no answer can come from a cache of an earlier request).
FRESH_COLUMN = "contact_id"


def fresh_value(fresh: int) -> str:
    """The value of the no-op predicate of request number ``fresh``."""
    return f"Z{fresh}"


@dataclass
class PublishRun:
    """Loading the CSV once: the main step, and (for the peer) the index step."""

    load: CommandRun
    indexes: list[CommandRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.load.returncode == 0 and all(run.returncode == 0 for run in self.indexes)


class DatasetteSide:
    """Datasette 0.65 serving a SQLite file that sqlite-utils loaded from the CSV."""

    key = "datasette"

    def __init__(self, bin_dir: Path, work: Path) -> None:
        self.bin_dir = bin_dir
        self.work = work
        self.db = work / "datasette" / "bench.db"

    @property
    def label(self) -> str:
        return "Datasette"

    def publish(self, csv_path: Path, logs: Path, rep: int) -> PublishRun:
        """`sqlite-utils insert --csv` into a fresh file, then one index per queried column."""
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.db.unlink(missing_ok=True)
        utils = str(self.bin_dir / "sqlite-utils")
        load = run_measured(
            [utils, "insert", str(self.db), "contacts", str(csv_path), "--csv", "--silent"],
            log=logs / f"sqlite-utils-insert-{rep}.log",
        )
        indexes = [
            run_measured(
                [utils, "create-index", str(self.db), "contacts", column, "--analyze"],
                log=logs / f"sqlite-utils-index-{column}-{rep}.log",
            )
            for column in INDEXED_COLUMNS
            if load.returncode == 0
        ]
        return PublishRun(load, indexes)

    @contextmanager
    def serve(self, logs: Path) -> Iterator[Server]:
        """`datasette serve -i` (immutable: counts computed once, as for a published file)."""
        port = free_port()
        argv = [str(self.bin_dir / "datasette"), "serve", "-i", str(self.db)]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        for name, value in DATASETTE_SETTINGS.items():
            argv += ["--setting", name, value]
        with serving("Datasette", argv, port, logs / "datasette.log", "/-/versions.json") as srv:
            yield srv

    def path(self, scenario: str, fresh: int | None = None) -> str:
        """The request path of a scenario; with ``fresh``, made distinct by a no-op predicate.

        ``_nocount=1`` where the request does not ask for a total, as Datasette's docs
        recommend: its table pages otherwise count the filtered rows on every request.
        """
        table = "/bench/contacts"
        rows = {"_size": PAGE_SIZE, "_shape": "objects"}
        no_count = {"_nocount": 1}
        noop = {} if fresh is None else {f"{FRESH_COLUMN}__not": fresh_value(fresh)}
        where = "" if fresh is None else f" where {FRESH_COLUMN} != :fresh"
        sql = {"sql": GROUP_SQL.format(where=where), "_shape": "objects"}
        if fresh is not None:
            sql["fresh"] = fresh_value(fresh)
        facets = [("_facet", f) for f in FACETS] + [("_size", 0), ("_shape", "objects")]
        return {
            "filter": f"{table}.json?" + urlencode({**FILTER, **noop, **rows}),
            "facets": f"{table}.json?" + urlencode(facets + [*no_count.items(), *noop.items()]),
            "group": "/bench.json?" + urlencode(sql),
            "csv": f"{table}.csv?" + urlencode({"_stream": "on", "_size": "max", **noop}),
            "first": f"{table}.json?" + urlencode({**rows, **no_count, **noop}),
            "explore": table,
        }[scenario]

    def deep_path(self, client: httpx.Client, row: int, fresh: int | None = None) -> str:
        """Keyset jump: Datasette's token for a rowid table is the last rowid seen."""
        return self.path("first", fresh) + f"&_next={row}"

    @staticmethod
    def total(body: dict[str, Any]) -> int | None:
        value = body.get("filtered_table_rows_count")
        return int(value) if value is not None else None

    @staticmethod
    def facet_total(body: dict[str, Any], column: str) -> int:
        """The rows counted by one facet (its values add up to the table without a total)."""
        results = body["facet_results"]
        facet = results[column] if isinstance(results, dict) else None
        if facet is None:  # newer shapes list the facets
            facet = next(f for f in results["results"].values() if f["name"] == column)
        return sum(int(item["count"]) for item in facet["results"])

    @staticmethod
    def group_count_total(body: dict[str, Any]) -> int:
        return sum(int(row["n"]) for row in body["rows"])


class OpenBlotterSide:
    """OpenBlotter: `openblotter publish` into a data directory, `openblotter serve`."""

    key = "openblotter"

    def __init__(self, executable: Path, work: Path, analysis_dataset: str = "contacts") -> None:
        self.executable = executable
        self.work = work
        self.data_dir = work / "openblotter" / "data"
        # Kept between runs: `openblotter demo` loads it once (minutes) and then finds it loaded.
        self.demo_dir = work / "openblotter-demo" / "data"
        self.analysis_dataset = analysis_dataset

    @property
    def label(self) -> str:
        return "OpenBlotter"

    def env(self, data_dir: Path | None = None) -> dict[str, str]:
        """The environment of an openblotter command: its data directory and a fixed salt.

        Rate limiting is off: the benchmark is one client asking as fast as it can (an
        operator behind a proxy that limits for the portal runs it the same way)."""
        directory = str(data_dir or self.data_dir)
        return {
            **os.environ,
            "OPENBLOTTER_DATA_DIR": directory,
            "OPENBLOTTER_SALT": SALT,
            "OPENBLOTTER_RATE_LIMIT_ENABLED": "false",
        }

    def publish(self, csv_path: Path, logs: Path, rep: int) -> PublishRun:
        """Publish into a fresh data directory, so the dataset is new and its schema inferred."""
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True)
        argv = [str(self.executable), "publish", str(csv_path)]
        # The generated columns are the publisher's own: accept the proposed privacy treatments.
        argv += ["--dataset", DATASET_ID, "--release", RELEASE, "--accept-privacy"]
        return PublishRun(
            run_measured(argv, env=self.env(), log=logs / f"openblotter-publish-{rep}.log")
        )

    def load_demo(self, logs: Path) -> CommandRun:
        """`openblotter demo --no-serve` into its own data directory: the synthetic demo
        history that the analysis benchmark reads."""
        self.demo_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(self.executable), "demo", "--no-serve"]
        return run_measured(argv, env=self.env(self.demo_dir), log=logs / "openblotter-demo.log")

    @contextmanager
    def serve(
        self,
        logs: Path,
        demo: bool = False,
        settings: dict[str, str] | None = None,
        workers: int = 1,
    ) -> Iterator[Server]:
        """`openblotter serve` on the benchmark's data directory (or the demo's);
        ``settings`` adds OPENBLOTTER_* variables; ``workers`` > 1 adds `--workers N`."""
        port = free_port()
        argv = [str(self.executable), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        name, log = (
            ("OpenBlotter demo", "openblotter-demo-serve.log")
            if demo
            else ("OpenBlotter", "openblotter.log")
        )
        if workers > 1:
            name, log = f"{name} ({workers} workers)", log.replace(".log", f"-{workers}w.log")
        env = {**self.env(self.demo_dir if demo else None), **(settings or {})}
        with serving(name, argv, port, logs / log, "/healthz", env=env) as srv:
            if env.get("OPENBLOTTER_QUERY_SERVING_COPIES", "true").lower() != "false":
                data_dir = Path(env["OPENBLOTTER_DATA_DIR"])
                took = wait_for_serving_copies(data_dir / ".serving")
                print(f"    {name}: serving copies ready {took:.1f} s after the server", flush=True)
            yield srv

    def path(self, scenario: str, fresh: int | None = None) -> str:
        """The request path of a scenario; with ``fresh``, made distinct by a no-op predicate."""
        api = f"/api/v1/datasets/{DATASET_ID}"
        noop = [] if fresh is None else [(f"{FRESH_COLUMN}__ne", fresh_value(fresh))]
        return {
            "filter": f"{api}/rows?"
            + urlencode([*FILTER.items(), *noop, ("_size", PAGE_SIZE), ("_count", "true")]),
            "facets": f"{api}/facets?" + urlencode([("_facet", f) for f in FACETS] + noop),
            "group": f"{api}/aggregate?"
            + urlencode([("_group", ",".join(GROUP_BY)), ("_agg", "count"), *noop]),
            "csv": f"{api}/rows.csv" + ("?" + urlencode(noop) if noop else ""),
            # Downloads of benchmark 2e3 (OpenBlotter's only): every other format, and a sort.
            "csv-sorted": f"{api}/rows.csv?" + urlencode([("_sort", EXPORT_SORT), *noop]),
            "ndjson": f"{api}/rows.ndjson" + ("?" + urlencode(noop) if noop else ""),
            "xlsx": f"{api}/rows.xlsx" + ("?" + urlencode(noop) if noop else ""),
            "parquet": f"{api}/rows.parquet" + ("?" + urlencode(noop) if noop else ""),
            "first": f"{api}/rows?" + urlencode([("_size", PAGE_SIZE), *noop]),
            "explore": f"/datasets/{DATASET_ID}/explore",
            "analysis": "/api/v1/analysis/benchmark?"
            + urlencode({"dataset": self.analysis_dataset, "by": "subject_race", "period": "2025"}),
            "analysis-age": "/api/v1/analysis/benchmark?"
            + urlencode(
                {"dataset": self.analysis_dataset, "by": "subject_age_group", "period": "2025"}
            ),
            # Served with use_of_force published only as counts (COUNTS_ONLY below): a
            # two-way table it publishes (beat by race is not one of them).
            "counts-only": "/api/v1/datasets/use_of_force/aggregate?"
            + urlencode({"_group": "subject_race,subject_sex"}),
        }[scenario]

    def deep_path(self, client: httpx.Client, row: int, fresh: int | None = None) -> str:
        """Walk the keyset pages once (large pages, untimed) to get the token at ``row``;
        the token is then asked with a fresh no-op predicate (it binds the sort, not filters)."""
        api = f"/api/v1/datasets/{DATASET_ID}/rows"
        for size in (10_000, 5_000, 1_000, PAGE_SIZE):
            if row % size == 0 and client.get(f"{api}?_size={size}").status_code == 200:
                break
        seen, token = 0, None
        while seen < row:
            query = f"?_size={size}" + (f"&_next={token}" if token else "")
            body = client.get(api + query).raise_for_status().json()
            seen += len(body["rows"])
            token = body.get("next")
            if not token:
                raise RuntimeError(f"OpenBlotter's pages ended after {seen} rows, before {row}")
        if seen != row:
            raise RuntimeError(f"OpenBlotter's pages of {size} rows skipped over row {row}")
        return self.path("first", fresh) + "&" + urlencode({"_next": token})

    @staticmethod
    def total(body: dict[str, Any]) -> int | None:
        value = body.get("total")
        return int(value) if value is not None else None

    @staticmethod
    def facet_total(body: dict[str, Any], column: str) -> int:
        """The rows counted by one facet."""
        total = body.get("total")
        if total is not None:
            return int(total)
        facet = next(f for f in body["facets"] if f.get("field", f.get("name")) == column)
        return sum(int(item["count"]) for item in facet["values"])

    @staticmethod
    def group_count_total(body: dict[str, Any]) -> int:
        """Sum the count of each group, whatever the count field is called."""
        total = 0
        for group in body["groups"]:
            counts = [v for k, v in group.items() if k not in GROUP_BY and isinstance(v, int)]
            total += counts[0] if counts else 0
        return total


def wait_for_serving_copies(directory: Path, timeout: float = 3600.0) -> float:
    """Seconds until the server's DuckDB serving copies (storage/serving.py) are built:
    some copy exists, none is being built, and nothing changed for a second and a half.
    The server builds them in the background from its start; timed requests wait for
    them, as a reader of a server started a minute ago would find them."""
    start = time.monotonic()
    seen: tuple[int, int] | None = None
    stable_since = start
    while time.monotonic() - start < timeout:
        copies = sorted(directory.glob("*.duckdb")) if directory.exists() else []
        building = list(directory.glob("*.building")) if directory.exists() else []
        state = (len(copies), len(building))
        if state != seen:
            seen, stable_since = state, time.monotonic()
        elif copies and not building and time.monotonic() - stable_since >= 1.5:
            return time.monotonic() - start - 1.5
        time.sleep(0.1)
    raise RuntimeError(f"no serving copies in {directory} after {timeout:.0f} s")
