"""Temporary copies of raw uploads stay in the data directory's staging area, and do not stay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from openblotter.ingest.read import csv_reader
from openblotter.services.portal import Portal
from tests.factories import TEST_SALT, make_portal, make_settings, publish_file

HEADER = "case_id,offense,note\n"


def _cp1252_csv(path, rows):
    lines = [f"C{i},Café déjà vu,Señor Núñez row {i}\n" for i in range(rows)]
    path.write_bytes((HEADER + "".join(lines)).encode("cp1252"))
    return path


def _uploads(data_dir):
    root = data_dir / ".staging" / "raw-uploads"
    return sorted(root.iterdir()) if root.exists() else []


def test_a_transcoded_copy_is_written_in_staging_and_removed(tmp_path, monkeypatch):
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    seen = []
    original = csv_reader._read_utf8

    def spy(source, utf8, *args):
        seen.append(utf8)
        return original(source, utf8, *args)

    monkeypatch.setattr(csv_reader, "_read_utf8", spy)
    portal = make_portal(tmp_path / "portal")
    publish_file(portal, _cp1252_csv(tmp_path / "q.csv", 20), "cases", "2026-Q3")
    assert seen and (tmp_path / "portal" / ".staging" / "raw-uploads") in seen[-1].parents
    assert list(system_temp.iterdir()) == []
    assert _uploads(tmp_path / "portal") == []


def test_the_copy_is_removed_when_the_read_fails(tmp_path, monkeypatch):
    def broken(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(csv_reader, "_read_utf8", broken)
    portal = make_portal(tmp_path / "portal")
    with pytest.raises(RuntimeError):
        publish_file(portal, _cp1252_csv(tmp_path / "q.csv", 20), "cases", "2026-Q3")
    assert _uploads(tmp_path / "portal") == []


def test_a_killed_publish_leaves_its_copy_only_in_staging_until_the_next_start(tmp_path):
    data_dir = tmp_path / "portal"
    make_portal(data_dir)
    big = _cp1252_csv(tmp_path / "big.csv", 1_500_000)
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(data_dir),
        "OPENBLOTTER_SALT": TEST_SALT,
        "TMPDIR": str(tmp_path / "system-temp"),
    }
    (tmp_path / "system-temp").mkdir()
    command = [
        sys.executable,
        "-m",
        "openblotter.cli",
        "publish",
        str(big),
        "--dataset",
        "cases",
        "--release",
        "2026-Q3",
        "--accept-privacy",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    copies: list = []
    while not copies and process.poll() is None and time.monotonic() < deadline:
        copies = [f for d in _uploads(data_dir) for f in d.iterdir()]
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert copies, "the publish ended before its transcoded copy was seen"
    assert list((tmp_path / "system-temp").iterdir()) == []
    assert _uploads(data_dir), "the killed publish's copy is in staging"
    Portal.open(make_settings(data_dir))  # the next start
    assert _uploads(data_dir) == []


def test_a_running_publish_keeps_its_copy_when_another_process_starts(tmp_path):
    data_dir = tmp_path / "portal"
    root = data_dir / ".staging" / "raw-uploads"
    mine = root / f"{os.getpid()}-running"
    mine.mkdir(parents=True)
    (root / "999999999-killed").mkdir()
    Portal.open(make_settings(data_dir))
    assert _uploads(data_dir) == [mine]


def test_start_up_clean_up_leaves_a_running_publishs_upload_copy(tmp_path: Path) -> None:
    """The leftover sweep (files untouched for an hour) must not take the transcoded copy a
    long publish is still reading: raw uploads are cleared only when their process is gone."""
    import os
    import time

    from openblotter.storage.files import LocalReleaseFiles
    from openblotter.storage.scratch import uploads_root

    copy = uploads_root(tmp_path) / f"{os.getpid()}-long" / "upload.csv"
    copy.parent.mkdir(parents=True)
    copy.write_text("a,b\n1,2\n")
    old = time.time() - 7200
    os.utime(copy, (old, old))
    LocalReleaseFiles(tmp_path).remove_leftovers(set(), older_than=3600)
    assert copy.exists()
