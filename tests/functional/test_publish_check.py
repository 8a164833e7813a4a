"""`openblotter publish --check` and `--report FILE` as a records clerk runs them.

A dry run validates and shows what would be public but stores nothing; the
report lists every distinct problem value column by column, and the console,
the JSON and the HTML/Markdown files say the same thing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from openblotter.services.checking import check
from openblotter.services.publishing import PublishRequest
from openblotter.services.report_files import unit
from tests.conftest import REAL_DATA
from tests.factories import TEST_SALT, make_portal, publish_file

INDIANAPOLIS = REAL_DATA / "indianapolis/IMPD_complaints_Dec_2020.csv"
DALLAS = REAL_DATA / "dallas/37-00049_UOF-P_2016_prepped.csv"
MAPPING = Path(__file__).resolve().parents[2] / "src/openblotter/mappings/dallas_use_of_force.toml"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("check") / "portal"
    portal = make_portal(directory)
    publish_file(
        portal, REAL_DATA / "south_bend/Police_Use_of_Force_Incidents.csv", "sb", "2026-Q2"
    )
    return directory


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(data_dir),
        "OPENBLOTTER_SALT": TEST_SALT,
        "COLUMNS": "250",
    }
    env.pop("OPENBLOTTER_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "openblotter.cli", "publish", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _snapshot(directory: Path) -> tuple[dict[str, str], list[str]]:
    """Every file but the catalog (hashed), and every row of the catalog (SQLite's WAL
    checkpoints rewrite its bytes without changing a row)."""
    files = {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.startswith("catalog.sqlite")
    }
    with closing(sqlite3.connect(directory / "catalog.sqlite")) as catalog:
        rows = list(catalog.iterdump())
    return files, rows


def test_a_dry_run_shows_schema_privacy_and_sample_and_stores_nothing(data_dir, tmp_path):
    before = _snapshot(data_dir)
    report = tmp_path / "indy.html"
    run = _run(
        data_dir,
        str(INDIANAPOLIS),
        "--dataset",
        "indy",
        "--release",
        "2026-Q3",
        "--check",
        "--report",
        str(report),
    )
    assert run.returncode == 0, run.stderr
    out = " ".join(run.stdout.split())
    assert "Schema and privacy (dry run: nothing is stored)" in out
    assert "occurred_dt │ date │ OCCURRED_DT │ published as recorded" in out
    assert "The first 5 rows as they would be public" in out
    assert "Sherman Towne" in out  # row 1's street, as it would be published
    assert "Nothing was stored." in out
    assert _snapshot(data_dir) == before  # catalog and data directory unchanged
    assert not (data_dir / "releases").exists() or not any((data_dir / "releases").rglob("indy*"))
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page
    assert "What would be published (dry run: nothing was stored)" in page
    # The file has problems: one race written several ways, among others.
    assert "no problems" not in out.lower()
    assert "spelling_variants" in page and "White / white / WHITE" in page


def test_a_dry_run_of_a_family_mapping_shows_fields_the_agency_does_not_record(data_dir, tmp_path):
    report = tmp_path / "dallas.md"
    args = [str(DALLAS), "--dataset", "use_of_force", "--release", "2026-Q3"]
    run = _run(data_dir, *args, "--mapping", str(MAPPING), "--check", "--report", str(report))
    assert run.returncode == 0, run.stderr
    out = " ".join(run.stdout.split())
    assert "subject_age │ integer (not recorded)" in out
    assert "officer_hire_date" not in out  # left out by the mapping, never shown as public
    text = report.read_text(encoding="utf-8")
    assert "Not recorded by this agency (blank on every row)" in text
    assert "| subject_date_of_birth |" in text and "not published" in text


def test_console_and_json_report_agree_column_by_column(data_dir, tmp_path):
    report = tmp_path / "dallas.json"
    args = [str(DALLAS), "--dataset", "uof", "--release", "2026-Q3", "--mapping", str(MAPPING)]
    run = _run(data_dir, *args, "--check", "--report", str(report))
    assert run.returncode == 0, run.stderr
    printed = " ".join(run.stdout.split())
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["check"]["stored"] is False
    assert {g["code"] for g in data["problems"]} >= {"unmapped_value", "missing_column"}
    for group in data["problems"]:
        counted = f"{group['count']:,} {unit(group)}"  # rows, or columns missing from the file
        assert f"{group['code']} ({group['severity']}, {counted})" in printed
        assert sum(c["count"] for c in group["columns"]) == group["count"]
        for column in group["columns"]:
            listed = [e for e in group["examples"] if e["column"] == column["column"]]
            assert len(listed) == column["listed"]
            if column["distinct_values"] is None:
                continue
            assert column["listed"] == min(column["distinct_values"], 100)
            assert sum(e["rows"] for e in listed) <= column["count"]
            line = (
                f"column {column['column']}: {column['distinct_values']:,} distinct value(s) "
                f"in {column['count']:,} rows"
            )
            assert line in printed
            hidden = column["listed"] - min(column["listed"], 10) + column["more"]
            if hidden:
                assert f"… and {hidden:,} more distinct values in this column" in printed


def test_a_dry_run_of_a_counts_only_dataset_shows_no_rows(tmp_path):
    portal = make_portal(tmp_path / "p", aggregates_only_datasets=["indy"])
    request = PublishRequest(path=INDIANAPOLIS, dataset_id="indy", label="2026-Q3")
    result = check(portal, request)
    assert result.counts_only and result.sample == []
    assert {c["name"] for c in result.columns} >= {"occurred_dt", "finding"}
    assert portal.catalog.dataset("indy") is None  # nothing stored


def test_a_dry_run_names_the_person_tables_a_mapping_would_publish(tmp_path):
    portal = make_portal(tmp_path / "p")
    request = PublishRequest(
        path=REAL_DATA / "orlando/OPD_Response_To_Resistance.csv",
        dataset_id="orlando_uof",
        label="2026-Q3",
        mapping=Path("orlando_use_of_force"),
    )
    result = check(portal, request)
    roles = {p["role"]: p for p in result.people}
    assert set(roles) == {"officers", "subjects"}
    assert roles["officers"]["dataset"] == "orlando_uof_officers" and roles["officers"]["rows"] > 0
    assert portal.catalog.datasets() == []  # nothing stored, person tables neither
