"""Purge: a release that should never have been public leaves no byte of its rows behind.

Dallas's real 2016 use-of-force file is published as 2016-Q3; a copy with
planted values (an unmapped race code the validation report quotes, a charge
text) is published as 2016-Q4 and becomes current. Purging 2016-Q4 must leave
none of the planted values in any file under the data directory (the Parquet
files read back, and every file grepped byte for byte: the SQLite catalog,
its write-ahead log), keep a public tombstone, make 2016-Q3 current again and
leave it answering.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from openblotter.domain.errors import Gone
from openblotter.services.portal import Portal
from openblotter.services.purge import purge
from openblotter.services.releases import withdraw
from openblotter.storage.serving import TABLE
from openblotter.web.app import create_app
from tests.factories import (
    DALLAS_USE_OF_FORCE,
    MAPPINGS,
    TEST_SALT,
    make_portal,
    make_settings,
    publish_file,
)

RACE = "Zorblaxian"
CHARGE = "ZQXPURGE-7731 PLANTED CHARGE"
MARKERS = (RACE.encode(), b"ZQXPURGE-7731")
API = "/api/v1/datasets/use_of_force"


def _planted(path: Path) -> Path:
    """The Dallas file with three rows carrying values nothing else in the portal has."""
    with DALLAS_USE_OF_FORCE.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    race, charge = header.index("SUBJECT_RACE"), header.index("SUBJECT_OFFENSE")
    for row in rows[2:5]:
        row[race], row[charge] = RACE, CHARGE
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _publish(portal: Portal, path: Path, label: str) -> None:
    publish_file(portal, path, "use_of_force", label, mapping=MAPPINGS / "dallas_use_of_force.toml")


def _files_with_markers(data_dir: Path) -> set[str]:
    found = set()
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if any(m in content for m in MARKERS):
            found.add(path.name)
        if path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist()).encode()
            if any(m in text for m in MARKERS):
                found.add(path.name + " (read back)")
        if path.suffix == ".duckdb":  # a serving copy (storage/serving.py), compressed
            with duckdb.connect(str(path), read_only=True) as copy:
                text = str(copy.execute(f"SELECT * FROM {TABLE}").fetchall()).encode()
            if any(m in text for m in MARKERS):
                found.add(path.name + " (read back)")
    return found


@pytest.fixture()
def portal(tmp_path: Path) -> Portal:
    portal = make_portal(tmp_path / "data")
    _publish(portal, DALLAS_USE_OF_FORCE, "2016-Q3")
    _publish(portal, _planted(tmp_path / "planted.csv"), "2016-Q4")
    return portal


def test_a_purged_release_leaves_no_byte_of_its_rows(portal: Portal) -> None:
    data_dir = portal.settings.data_dir
    before = _files_with_markers(data_dir)
    assert "catalog.sqlite" in before or "catalog.sqlite-wal" in before  # the report quotes them
    assert any("read back" in name for name in before)
    bad = portal.release("use_of_force", "2016-Q4")
    engine = portal.query_engine()  # queried: its serving copy holds the rows too
    assert engine.serving is not None
    engine.prepare([portal.release_path(bad)])
    engine.serving.wait()
    assert any(".duckdb (read back)" in name for name in _files_with_markers(data_dir))
    spill = data_dir / ".duckdb-tmp" / "duckdb_temp_storage-0.tmp"  # a killed query's leftover
    spill.parent.mkdir(exist_ok=True)
    spill.write_bytes(b"ZQXPURGE-7731 spilled")
    os.utime(spill, (0, 0))
    result = purge(portal, "use_of_force", "2016-Q4", reason="Published names by mistake")
    assert [r.id for r in result.purged] == [bad.id]
    assert result.files_deleted == (bad.file_key,)
    assert _files_with_markers(data_dir) == set()
    assert not (data_dir / bad.file_key).exists()
    assert portal.release("use_of_force").label == "2016-Q3"  # the previous one is current
    actions = [e["action"] for e in portal.catalog.audit_entries("use_of_force")]
    assert actions == ["publish", "publish", "purge"]
    assert portal.catalog.audit_entries("use_of_force")[-1]["detail"]["reason"] == (
        "Published names by mistake"
    )


def test_the_tombstone_is_public_and_its_rows_and_files_are_gone(portal: Portal) -> None:
    purge(portal, "use_of_force", "2016-Q4", reason="Published names by mistake")
    with TestClient(create_app(portal.settings)) as client:
        releases = client.get(API).json()["releases"]
        tombstone = next(r for r in releases if r["label"] == "2016-Q4")
        assert tombstone["status"] == "purged" and tombstone["links"] == {}
        assert tombstone["purge_reason"] == "Published names by mistake"
        assert tombstone["purged_at"]
        assert "row_count" not in tombstone and "checksum" not in tombstone
        for path, params in (
            (f"{API}/rows", {"_release": "2016-Q4"}),
            (f"{API}/rows.csv", {"_release": "2016-Q4"}),
            (f"{API}/aggregate", {"_release": "2016-Q4", "_group": "subject_race"}),
            (f"{API}/releases/2016-Q4/file.parquet", {}),
            (f"{API}/releases/2016-Q3/diff/2016-Q4", {}),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 410, path
            error = response.json()["error"]
            assert error["code"] == "gone" and "purged" in error["message"]
            assert error["detail"]["reason"] == "Published names by mistake"
        manifest = client.get(f"{API}/releases/2016-Q4").json()
        assert manifest["status"] == "purged" and manifest["report"] == {"purged": True}
        page = client.get("/datasets/use_of_force").text
        assert 'id="purged-2016-Q4"' in page and "Published names by mistake" in page
        rows = client.get(f"{API}/rows", params={"_size": "1"})
        assert rows.status_code == 200 and rows.json()["release"] == "2016-Q3"
        assert client.get(f"{API}/releases/2016-Q3/file.parquet").status_code == 200
    with pytest.raises(Gone):
        portal.release("use_of_force", "2016-Q4")


def test_a_file_another_release_holds_is_kept_and_the_label_can_be_reused(
    portal: Portal, tmp_path: Path
) -> None:
    first = portal.release("use_of_force", "2016-Q3")
    withdraw(portal, "use_of_force", "2016-Q3", reason="republished")
    _publish(portal, DALLAS_USE_OF_FORCE, "2016-Q3")
    again = portal.release("use_of_force", "2016-Q3")
    assert again.file_key == first.file_key  # content-addressed: the same bytes, one file
    result = purge(
        portal, "use_of_force", "2016-Q3", reason="the withdrawn copy", release_id=first.id
    )
    assert result.files_kept == (first.file_key,) and result.files_deleted == ()
    assert portal.release_path(again).is_file()
    assert portal.release("use_of_force").label == "2016-Q4"  # not current: nothing changes
    purge(portal, "use_of_force", "2016-Q4", reason="planted")
    _publish(portal, _planted(tmp_path / "again.csv"), "2016-Q4")  # the label is free again
    assert portal.release("use_of_force", "2016-Q4").status == "published"


def test_purge_from_the_command_line_needs_a_reason(portal: Portal) -> None:
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(portal.settings.data_dir),
        "OPENBLOTTER_SALT": TEST_SALT,
        "COLUMNS": "250",
    }
    env.pop("OPENBLOTTER_DEBUG", None)
    command = [sys.executable, "-m", "openblotter.cli", "purge", "use_of_force", "2016-Q4"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "--reason" in refused.stdout + refused.stderr
    done = subprocess.run(
        [*command, "--reason", "names published by mistake"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Purged use_of_force 2016-Q4" in done.stdout
    assert "Current release of use_of_force: 2016-Q3" in done.stdout
    settings = make_settings(portal.settings.data_dir)
    assert Portal.open(settings).catalog.releases("use_of_force")[-1].status == "purged"


def test_releases_made_from_a_purged_release_go_with_it(tmp_path: Path) -> None:
    """Hate crimes: a derived release carries the own release's rows as history."""
    from tests.factories import write_csv

    portal = make_portal(tmp_path / "derived")
    own = write_csv(
        tmp_path / "hate_2020.csv",
        ["record_id", "bias_number", "incident_date", "bias_motivation"],
        [["ZQXPURGE-7731", 1, "2020-11-02", "Anti-Jewish"]],
    )
    publish_file(portal, own, "hate_crimes", "2020-Q4", family="hate_crimes")
    contacts = write_csv(
        tmp_path / "contacts_2021.csv",
        ["record_id", "incident_date", "bias_motivation"],
        [["C-1", "2021-02-01", "Anti-Asian"], ["C-2", "2021-02-03", "None (no bias)"]],
    )
    publish_file(portal, contacts, "contacts", "2021-Q1", family="contacts")
    carried = portal.release("hate_crimes", "2021-Q1")
    result = purge(portal, "hate_crimes", "2020-Q4", reason="a victim's name in the ID")
    assert {(r.dataset_id, r.label) for r in result.purged} == {
        ("hate_crimes", "2020-Q4"),
        ("hate_crimes", "2021-Q1"),  # derived from contacts, with the 2020 rows as history
    }
    assert carried.file_key in result.files_deleted
    assert _files_with_markers(portal.settings.data_dir) == set()
    assert portal.release("contacts").label == "2021-Q1"  # the source of the view stays
    result = purge(portal, "contacts", "2021-Q1", reason="planted")
    assert [(r.dataset_id, r.label) for r in result.purged] == [("contacts", "2021-Q1")]


def test_the_people_published_with_a_release_are_purged_with_it(tmp_path: Path) -> None:
    """Orlando's real file packs officers and subjects: their tables go with the incidents."""
    from tests.factories_real import ORLANDO

    portal = make_portal(tmp_path / "orlando")
    publish_file(portal, ORLANDO, "orlando_uof", "2019-Q2", mapping=Path("orlando_use_of_force"))
    people = [portal.release(f"orlando_uof_{role}") for role in ("officers", "subjects")]
    result = purge(portal, "orlando_uof", "2019-Q2", reason="published by mistake")
    purged = {(r.dataset_id, r.label) for r in result.purged}
    assert purged == {
        ("orlando_uof", "2019-Q2"),
        ("orlando_uof_officers", "2019-Q2"),
        ("orlando_uof_subjects", "2019-Q2"),
    }
    for release in people:
        assert not (portal.settings.data_dir / release.file_key).exists()
    assert list((portal.settings.data_dir / "releases").rglob("*.parquet")) == []
    assert result.current == {
        "orlando_uof": None,
        "orlando_uof_officers": None,
        "orlando_uof_subjects": None,
    }
