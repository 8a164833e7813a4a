"""`openblotter serve --workers 2` (issue 15): two processes over one data directory. A publish
or a rollback made while it runs is seen by every request after it (no worker keeps an old
catalog), and a client's rate limit is one allowance across the workers, not one per worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from openblotter.services import releases
from openblotter.web.shared_limits import SharedTokenBuckets
from tests.conftest import REAL_DATA
from tests.factories import TEST_SALT, make_portal, publish_file

SOUTH_BEND = REAL_DATA / "south_bend/Police_Use_of_Force_Incidents.csv"
OPENBLOTTER = Path(sys.executable).parent / "openblotter"
#: Starting two workers on a busy 2-core machine (each imports the whole app) takes a while.
START_SECONDS = 180


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _workers_of(pid: int) -> set[int]:
    """The worker processes that ``pid`` started (not multiprocessing's resource tracker)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent == pid and b"spawn_main" in command:
                    children.add(int(entry.name))
    return children


@contextmanager
def _serving(data_dir: Path, workers: int, **environment: str) -> Iterator[tuple[str, int]]:
    port = _free_port()
    process = subprocess.Popen(
        [str(OPENBLOTTER), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "OPENBLOTTER_DATA_DIR": str(data_dir),
            "OPENBLOTTER_SALT": TEST_SALT,
            **environment,
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"openblotter serve --workers exited: {output}")
            time.sleep(0.25)
        else:
            pytest.fail("openblotter serve --workers did not answer in time")
        yield base, process.pid
    finally:
        process.terminate()  # the supervisor stops its workers
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _releases_seen(base: str, requests: int) -> set[str]:
    """The release each of many requests answered from, each on a new connection (the kernel
    hands each connection to either worker)."""
    seen = set()
    for _ in range(requests):
        response = httpx.get(f"{base}/api/v1/datasets/force/rows", params={"_size": 1})
        assert response.status_code == 200, response.text
        seen.add(response.json()["release"])
    return seen


def test_two_workers_see_a_publish_and_a_rollback_at_once(tmp_path) -> None:
    publisher = make_portal(tmp_path)
    publish_file(publisher, SOUTH_BEND, "force", "2024-Q1")
    with _serving(tmp_path, 2, OPENBLOTTER_RATE_LIMIT_ENABLED="false") as (base, pid):
        assert len(_workers_of(pid)) == 2
        assert _releases_seen(base, 40) == {"2024-Q1"}  # both workers now keep it

        publish_file(publisher, SOUTH_BEND, "force", "2024-Q2")
        assert _releases_seen(base, 40) == {"2024-Q2"}

        releases.rollback(publisher, "force", reason="wrong file")
        assert _releases_seen(base, 40) == {"2024-Q1"}
        assert len(_workers_of(pid)) == 2  # no worker died and was replaced meanwhile


def test_the_rate_limit_is_one_allowance_across_workers(tmp_path) -> None:
    publish_file(make_portal(tmp_path), SOUTH_BEND, "force", "2024-Q1")
    limits = {
        "OPENBLOTTER_RATE_LIMIT_ENABLED": "true",
        "OPENBLOTTER_RATE_LIMIT_PER_MINUTE": "1",
        "OPENBLOTTER_RATE_LIMIT_BURST": "10",
    }
    with _serving(tmp_path, 2, **limits) as (base, _pid):
        started = time.monotonic()
        statuses = [
            httpx.get(f"{base}/api/v1/datasets/force/rows", params={"_size": 1}).status_code
            for _ in range(30)
        ]
        refilled = int((time.monotonic() - started) // 60)  # one token a minute
    assert set(statuses) == {200, 429}
    # Per-worker buckets would let 10 through each worker, up to 20 in all.
    assert statuses.count(200) == 10 + refilled
    assert statuses[:10] == [200] * 10


def test_shared_buckets_count_like_the_buckets_of_one_process() -> None:
    now = [0.0]
    buckets = SharedTokenBuckets(60, 3, slots=16, clock=lambda: now[0])
    assert [buckets.take("203.0.113.9") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("203.0.113.9") == pytest.approx(1.0)
    assert buckets.take("198.51.100.1") == 0.0  # another client has its own bucket
    now[0] = 2.0  # two tokens flowed in
    assert buckets.take("203.0.113.9", cost=2) == 0.0
    assert buckets.take("203.0.113.9") == pytest.approx(1.0)


def test_a_full_table_forgets_the_client_seen_longest_ago() -> None:
    now = [0.0]
    buckets = SharedTokenBuckets(1, 2, slots=4, clock=lambda: now[0])
    for n in range(4):
        now[0] = float(n)
        buckets.take(f"192.0.2.{n}", cost=2)
    now[0] = 4.0
    buckets.take("192.0.2.200", cost=2)  # takes the slot of 192.0.2.0, seen at 0
    assert buckets.take("192.0.2.3") > 0  # still remembered: empty
    assert buckets.take("192.0.2.0") == 0.0  # forgotten: a full bucket again
