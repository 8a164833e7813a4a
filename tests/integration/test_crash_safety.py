"""A publish killed at any point (SIGKILL, a real child process) loses nothing published."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from openblotter.services.releases import withdraw
from tests.factories import TEST_SALT, make_portal, publish_file, write_csv

ROWS = 120_000


def _big_csv(path: Path) -> Path:
    rng = random.Random(7)
    races = ["White", "Black", "Asian", "Hispanic", "Unknown"]
    rows = [
        [
            i,
            f"2026-0{rng.randint(7, 9)}-{rng.randint(10, 28)}",
            rng.choice(races),
            rng.randint(16, 80),
        ]
        for i in range(ROWS)
    ]
    return write_csv(path, ["contact_id", "contact_date", "subject_race", "subject_age"], rows)


def _publish_process(data_dir: Path, file: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENBLOTTER_DATA_DIR": str(data_dir), "OPENBLOTTER_SALT": TEST_SALT}
    command = [
        sys.executable,
        "-m",
        "openblotter.cli",
        "publish",
        str(file),
        "--dataset",
        "contacts",
        "--release",
        "2026-Q3",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_previous_release_current(tmp_path):
    data_dir = tmp_path / "portal"
    portal = make_portal(data_dir)
    small = write_csv(
        tmp_path / "q2.csv",
        ["contact_id", "contact_date", "subject_race", "subject_age"],
        [[1, "2026-04-01", "White", 30], [2, "2026-05-01", "Black", 41]],
    )
    publish_file(portal, small, "contacts", "2026-Q2")
    big = _big_csv(tmp_path / "q3.csv")

    started = time.monotonic()
    timing = _publish_process(tmp_path / "timing", big)
    assert timing.wait(timeout=300) == 0
    full = time.monotonic() - started

    killed = 0
    # Early kills weigh more: on a loaded machine the timing run can be slower than the
    # runs that follow (cold caches), and late fractions then land after the commit.
    for fraction in (0.05, 0.1, 0.15, 0.25, 0.35, 0.55, 0.7, 0.8, 0.9, 0.95):
        child = _publish_process(data_dir, big)
        time.sleep(full * fraction)
        if child.poll() is not None:
            # Finished before the kill: undo it so the next round starts from 2026-Q2 again.
            withdraw(make_portal(data_dir), "contacts", "2026-Q3")
            continue
        child.send_signal(signal.SIGKILL)
        child.wait()
        after = make_portal(data_dir)
        current = after.release("contacts")
        path = after.release_path(current)
        count = duckdb.connect().execute(f"SELECT count(*) FROM '{path}'").fetchall()[0][0]
        live = [r.label for r in after.catalog.releases("contacts") if r.status == "published"]
        if current.label == "2026-Q3":
            # Killed after the commit: the new release is whole, the old one intact.
            assert count == current.row_count == ROWS
            assert live == ["2026-Q2", "2026-Q3"]
            withdraw(after, "contacts", "2026-Q3")
            continue
        killed += 1
        assert current.label == "2026-Q2" and count == 2
        assert live == ["2026-Q2"]
    assert killed >= 3, "the publish finished too fast to be killed before its commit"

    # The portal is still usable: the next publish succeeds and becomes current.
    final = make_portal(data_dir)
    result = publish_file(final, big, "contacts", "2026-Q3")
    assert result.release.row_count == ROWS
    assert final.release("contacts").label == "2026-Q3"
