"""The catalog on PostgreSQL (``OPENBLOTTER_CATALOG_URL=postgresql+psycopg://...``).

A throwaway PostgreSQL server (Debian's postgresql package, installed by
scripts/install-system-deps.sh) is started on 127.0.0.1 for this module: the
migrations run, a real file is published twice, a release is withdrawn and
published again under the same label, the current release is rolled back, and
the API answers from the PostgreSQL catalog.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from openblotter.domain.errors import Conflict
from openblotter.services import releases as release_service
from openblotter.storage.catalog import SCHEMA_HEAD
from openblotter.web.app import create_app
from tests.factories import DALLAS_USE_OF_FORCE, MAPPINGS, make_portal, make_settings, publish_file

SERVERS = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the package's ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def catalog_url() -> Iterator[str]:
    assert SERVERS, (
        "PostgreSQL is not installed: run scripts/install-system-deps.sh "
        "(Debian's postgresql package)."
    )
    bin_dir = SERVERS[-1].parent
    # Under /tmp itself: pytest's own temporary folders are private to root.
    home = Path(tempfile.mkdtemp(prefix="openblotter-pg-"))
    data, port = home / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "openblotter"]
    subprocess.run(_as_postgres([*initdb, "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w"]
    subprocess.run(_as_postgres([*pg_ctl, "-o", options, "start"]), check=True, capture_output=True)
    try:
        admin = f"host=127.0.0.1 port={port} user=openblotter dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE catalog")
        yield f"postgresql+psycopg://openblotter@127.0.0.1:{port}/catalog"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "fast", "stop"]), check=False)
        shutil.rmtree(home, ignore_errors=True)


OPTIONS = {"mapping": MAPPINGS / "dallas_use_of_force.toml"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, catalog_url: str) -> Path:
    """Release files (local) of a PostgreSQL catalog holding Dallas's 2016 use of force."""
    directory = tmp_path_factory.mktemp("pg-data")
    portal = make_portal(directory, catalog_url=catalog_url)
    publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2016-Q4", **OPTIONS)
    return directory


def test_publish_withdraw_republish_and_roll_back_on_postgresql(catalog_url, data_dir):
    portal = make_portal(data_dir, catalog_url=catalog_url)
    assert portal.catalog.schema_version() == SCHEMA_HEAD
    assert portal.catalog.engine.dialect.name == "postgresql"
    options = OPTIONS
    first = portal.release("use_of_force", "2016-Q4")
    second = publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2017-Q1", **options)
    changelog = second.release.changelog
    assert changelog["previous"] == "2016-Q4"
    assert (changelog["added"], changelog["removed"], changelog["changed"]) == (0, 0, 0)
    assert first.row_count == second.release.row_count > 5000

    # The label stays taken while the release is live, and is free once it is withdrawn.
    with pytest.raises(Conflict):
        publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2017-Q1", **options)
    release_service.withdraw(portal, "use_of_force", "2017-Q1", reason="test")
    assert portal.release("use_of_force").label == "2016-Q4"
    again = publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2017-Q1", **options)
    assert portal.release("use_of_force").id == again.release.id
    release_service.rollback(portal, "use_of_force", reason="test")
    assert portal.release("use_of_force").label == "2016-Q4"

    with portal.catalog.engine.connect() as connection:
        actions = connection.execute(text("SELECT action FROM audit_log ORDER BY id")).scalars()
        assert list(actions)[-2:] == ["publish", "rollback"]
        statuses = connection.execute(text("SELECT label, status FROM releases ORDER BY id")).all()
    assert [tuple(s) for s in statuses] == [
        ("2016-Q4", "published"),
        ("2017-Q1", "withdrawn"),
        ("2017-Q1", "withdrawn"),
    ]


def test_the_api_answers_from_a_postgresql_catalog(catalog_url, data_dir):
    settings = make_settings(data_dir, catalog_url=catalog_url)
    with TestClient(create_app(settings)) as client:
        entry = client.get("/api/v1/datasets/use_of_force").json()
        assert entry["current_release"] == "2016-Q4"
        rows = client.get("/api/v1/datasets/use_of_force/rows", params={"_count": "true"}).json()
        assert rows["total"] == entry["row_count"]
        groups = client.get(
            "/api/v1/datasets/use_of_force/aggregate", params={"_group": "subject_race"}
        ).json()["groups"]
        assert sum(g["count"] for g in groups) == entry["row_count"]


def test_a_purge_on_postgresql_keeps_a_tombstone_and_frees_the_label(catalog_url, data_dir):
    from openblotter.services.purge import purge

    portal = make_portal(data_dir, catalog_url=catalog_url)
    withdrawn = [r for r in portal.catalog.releases("use_of_force") if r.label == "2017-Q1"]
    if not withdrawn:  # run apart from the test above (another xdist worker): its history
        for _ in range(2):
            publish_file(portal, DALLAS_USE_OF_FORCE, "use_of_force", "2017-Q1", **OPTIONS)
            release_service.withdraw(portal, "use_of_force", "2017-Q1", reason="test")
        withdrawn = [r for r in portal.catalog.releases("use_of_force") if r.label == "2017-Q1"]
    result = purge(
        portal, "use_of_force", "2017-Q1", reason="test purge", release_id=withdrawn[0].id
    )
    assert [r.id for r in result.purged] == [withdrawn[0].id]
    assert result.files_kept == (withdrawn[0].file_key,)  # the other 2017-Q1 holds the bytes
    with portal.catalog.engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, withdrawn_reason, report FROM releases WHERE id = :id"),
            {"id": withdrawn[0].id},
        ).one()
    assert (row[0], row[1]) == ("purged", "test purge") and row[2] == {"purged": True}
    assert portal.release("use_of_force").label == "2016-Q4"
