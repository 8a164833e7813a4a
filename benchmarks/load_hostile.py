"""Load beside hostile clients (issue 17): does the portal keep serving?

A bounded run against `openblotter serve` on 127.0.0.1 over a short synthetic
demo (2019-Q1 to 2020-Q4, every family; loaded into the data directory when
it is empty):

- 16 well-formed clients mix pages, distinct row queries, facets, aggregates,
  analyses (the veil of darkness among them: seconds of Python) and small CSV
  and XLSX exports for ``--seconds``;
- a slowloris client holds ``--slow`` connections from 127.0.0.2 that send
  half a request and wait (reopened when the server closes them);
- an oversized-input client sends the issue's 40,000-digit filter over and
  over;
- ``/healthz`` is timed twice a second;
- halfway, 2021-Q1 is published (every dataset) and contacts rolled back.

The rate limit is off (``OPENBLOTTER_RATE_LIMIT_ENABLED=false``): the 16
clients share one address. Reported: errors among the well-formed requests
(anything but 2xx), p50/p95 per kind, /healthz max and p95, the oversized
client's answers, and the server's peak memory (VmHWM). Usage::

    .venv/bin/python benchmarks/load_hostile.py --seconds 60
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SALT = "load-hostile-benchmark-salt-0123456789"
CLIENTS = 16
RACES = ["White", "Black or African American", "Asian", "Hispanic or Latino", "Unknown"]


def _requests(rng: random.Random) -> tuple[str, str]:
    """One well-formed request: (kind, path)."""
    race = rng.choice(RACES)
    size = rng.randint(5, 200)
    choices = [
        ("page", "/"),
        ("page", "/datasets/contacts"),
        ("page", f"/datasets/use_of_force/explore?subject_race={race}"),
        ("page", "/datasets/complaints/charts"),
        ("rows", f"/api/v1/datasets/contacts/rows?subject_race={race}&_size={size}"),
        ("rows", f"/api/v1/datasets/use_of_force/rows?_sort=-incident_date&_size={size}"),
        ("facets", "/api/v1/datasets/contacts/facets?_facet=subject_race&_facet=quarter"),
        ("aggregate", "/api/v1/datasets/use_of_force/aggregate?_group=quarter,subject_race"),
        ("page", "/datasets/contacts/explore"),
        ("page", "/analysis/darkness"),
        ("analysis", "/api/v1/analysis/benchmark?dataset=use_of_force&period=2020"),
        ("analysis", "/api/v1/analysis/outcomes?dataset=complaints"),
        ("analysis", "/api/v1/analysis/veil-of-darkness?dataset=contacts&period=all"),
        ("analysis", "/api/v1/analysis/funnel?dataset=contacts&by=beat"),
        ("export", f"/api/v1/datasets/complaints/rows.csv?subject_race={race}"),
        ("export", f"/api/v1/datasets/use_of_force/rows.xlsx?subject_race={race}"),
    ]
    return rng.choice(choices)


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, kind: str, seconds: float, status: int | None, what: str) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.statuses[kind][status or 0] += 1
            if status is None or (kind not in ("oversized",) and not 200 <= status < 300):
                self.errors[kind].append(f"{status} {what}")


def _timed(client: httpx.Client, path: str) -> tuple[float, int | None]:
    started = time.perf_counter()
    try:
        status: int | None = client.get(path).status_code
    except httpx.HTTPError:
        status = None
    return time.perf_counter() - started, status


def well_formed(base: str, stop: threading.Event, results: Results, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            kind, path = _requests(rng)
            seconds, status = _timed(client, path)
            results.add(kind, seconds, status, path)


def oversized(base: str, stop: threading.Event, results: Results) -> None:
    long_value = "9" * 40_000 + "x"
    paths = [
        f"/api/v1/datasets/use_of_force/rows?officer_years_of_service={long_value}",
        f"/api/v1/datasets/use_of_force/rows?officer_years_of_service={long_value[-2500:]}",
    ]
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            for path in paths:
                seconds, status = _timed(client, path)
                results.add("oversized", seconds, status, path[:80])
            stop.wait(0.2)


def healthz(base: str, stop: threading.Event, results: Results) -> None:
    """Time /healthz from a process of its own: in this one, the 16 client threads would
    delay the poller's own clock (they share its interpreter lock)."""
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    done = context.Event()
    poller = context.Process(target=_poll_health, args=(base, done, answers))
    poller.start()
    stop.wait()
    done.set()
    for seconds, status in iter(answers.get, None):
        results.add("healthz", seconds, status, "/healthz")
    poller.join(timeout=60)


def _poll_health(base: str, done: Any, answers: Any) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        while not done.is_set():
            answers.put(_timed(client, "/healthz"))
            done.wait(0.5)
    answers.put(None)


def slowloris(port: int, count: int, stop: threading.Event, held: list[int]) -> None:
    """Keep ``count`` half-sent requests open; ``held`` gets [opened, closed by the server]."""
    sockets: list[socket.socket] = []
    held[:] = [0, 0]
    while not stop.is_set():
        while len(sockets) < count and not stop.is_set():
            slow = socket.socket()
            try:
                slow.bind(("127.0.0.2", 0))
                slow.connect(("127.0.0.1", port))
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                sockets.append(slow)
                held[0] += 1
            except OSError:
                slow.close()
                break
        stop.wait(1.0)
        alive = []
        for slow in sockets:
            if _closed(slow):
                slow.close()
                held[1] += 1
            else:
                alive.append(slow)
        sockets = alive
    for slow in sockets:
        slow.close()


def _closed(slow: socket.socket) -> bool:
    slow.setblocking(False)
    try:
        return slow.recv(1, socket.MSG_PEEK) == b"" or _drained(slow)
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        slow.setblocking(True)


def _drained(slow: socket.socket) -> bool:
    """A 408 answer waiting to be read means the server closed the connection after it."""
    with suppress(BlockingIOError):
        return slow.recv(4096).startswith(b"HTTP/1.1 408")
    return False


def _openblotter(*args: str, env: dict[str, str]) -> None:
    command = [str(ROOT / ".venv/bin/openblotter"), *args]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)  # noqa: S603


def load_demo(data_dir: Path, last: tuple[int, int]) -> None:
    code = (
        "import sys; from openblotter.config import Settings;"
        "from openblotter.demo.common import DemoSpan; from openblotter.domain.quarters import Quarter;"
        "from openblotter.services.demo import load_demo; from openblotter.services.portal import Portal;"
        f"load_demo(Portal.open(Settings(data_dir=sys.argv[1], demo=True)),"
        f" span=DemoSpan(Quarter(2019, 1), Quarter{last}), processes=1)"
    )
    subprocess.run([sys.executable, "-c", code, str(data_dir)], check=True, timeout=900)  # noqa: S603


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_memory_mib(pid: int) -> float:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(args: argparse.Namespace) -> dict[str, object]:
    data_dir: Path = args.data_dir
    if not (data_dir / "catalog.sqlite").exists():
        load_demo(data_dir, (2020, 4))
    port = _free_port()
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(data_dir),
        "OPENBLOTTER_DEMO": "true",
        "OPENBLOTTER_RATE_LIMIT_ENABLED": "false",
    }
    server = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv/bin/openblotter"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        results, stop, held = Results(), threading.Event(), []
        threads = [
            threading.Thread(target=well_formed, args=(base, stop, results, seed))
            for seed in range(CLIENTS)
        ]
        threads += [
            threading.Thread(target=oversized, args=(base, stop, results)),
            threading.Thread(target=healthz, args=(base, stop, results)),
            threading.Thread(target=slowloris, args=(port, args.slow, stop, held)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds / 2)
        load_demo(data_dir, (2021, 1))  # a publish in the middle (into the served catalog)
        _openblotter("rollback", "contacts", "--reason", "load test", env=env)
        time.sleep(args.seconds / 2)
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
        memory = _peak_memory_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return _summary(results, held, memory, args)


def _summary(
    results: Results, held: list[int], memory: float, args: argparse.Namespace
) -> dict[str, object]:
    kinds = {}
    for kind, values in sorted(results.latency.items()):
        kinds[kind] = {
            "requests": len(values),
            "errors": len(results.errors.get(kind, [])),
            "p50_s": round(statistics.median(values), 3) if values else None,
            "p95_s": round(_percentile(values, 0.95), 3),
            "max_s": round(max(values), 3) if values else None,
            "statuses": dict(results.statuses[kind]),
            "error_examples": results.errors.get(kind, [])[:5],
        }
    well = [k for k in kinds if k not in ("healthz", "oversized")]
    all_latency = [v for k in well for v in results.latency[k]]
    return {
        "seconds": args.seconds,
        "clients": CLIENTS,
        "slow_connections_asked": args.slow,
        "slow_connections_opened": held[0] if held else 0,
        "slow_connections_closed_by_server": held[1] if held else 0,
        "well_formed_requests": len(all_latency),
        "well_formed_errors": sum(kinds[k]["errors"] for k in well),  # type: ignore[misc]
        "well_formed_p95_s": round(_percentile(all_latency, 0.95), 3),
        "server_peak_memory_mib": round(memory, 1),
        "by_kind": kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--slow", type=int, default=300, help="slowloris connections")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / "benchmarks/work/load-hostile-demo-2019"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/work/load_hostile.json")
    args = parser.parse_args()
    summary = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "by_kind"}, indent=2))
    for kind, numbers in summary["by_kind"].items():  # type: ignore[attr-defined]
        print(kind, {k: v for k, v in numbers.items() if k != "error_examples"})


if __name__ == "__main__":
    main()
