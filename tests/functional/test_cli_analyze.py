"""`openblotter analyze benchmark` as a person runs it: a process, its table, its JSON, its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openblotter.services.analysis import benchmark
from tests.factories import (
    TEST_SALT,
    make_portal,
    publish_file,
    write_contacts_by_race,
    write_small_city_residents,
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli-analyze")
    portal = make_portal(directory)
    residents = write_small_city_residents(directory / "d.csv")
    publish_file(
        portal, residents, "community_demographics", "2026-Q3", family="community_demographics"
    )
    publish_file(
        portal,
        write_contacts_by_race(directory / "c.csv"),
        "contacts",
        "2026-Q3",
        family="contacts",
    )
    return directory


def _run(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENBLOTTER_DATA_DIR": str(data_dir),
        "OPENBLOTTER_SALT": TEST_SALT,
        "COLUMNS": "250",
        **settings,
    }
    env.pop("OPENBLOTTER_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "openblotter.cli", "analyze", "benchmark", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_json_is_the_api_result(data_dir: Path) -> None:
    run = _run(data_dir, "contacts", "--by", "subject_race", "--period", "2025", "--json")
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    expected = benchmark(make_portal(data_dir), "contacts", by="subject_race", period="2025")
    assert printed["rows"] == json.loads(json.dumps(expected["rows"]))
    assert printed["event_unit"] == expected["event_unit"]


def test_the_table_shows_each_group_with_its_events_and_rate(data_dir: Path) -> None:
    run = _run(data_dir, "contacts", "--by", "subject_race", "--period", "2025")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    black = next(line for line in lines if "Black or African American alone" in line)
    assert " 40 " in black and "200.0" in black  # 40 events among 200 residents per 1,000
    unknown = next(line for line in lines if line.strip("│ ").startswith("Unknown"))
    assert " 7 " in unknown
    caveats = benchmark(make_portal(data_dir), "contacts", period="2025")["caveats"]
    assert caveats and all(f"- {c['title']}:" in run.stdout for c in caveats)


def test_a_counts_only_dataset_prints_hidden_groups(data_dir: Path) -> None:
    run = _run(
        data_dir,
        "contacts",
        "--period",
        "2025",
        OPENBLOTTER_AGGREGATES_ONLY_DATASETS='["contacts"]',
        # A year of a release that spans two reads the year-by-race table; race and a
        # separate ethnicity by year would be a three-way table, which is not published.
        OPENBLOTTER_AGGREGATES_DIMENSIONS='{"contacts": ["subject_race", "subject_sex", "year"]}',
    )
    assert run.returncode == 0, run.stderr
    unknown = next(line for line in run.stdout.splitlines() if "Unknown" in line)
    assert "hidden" in unknown
    assert "Counts from 1 to 9 are hidden" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "soon"], "is not a period"),
        # These contacts record no age (the family has the fields, the agency's file not).
        (["--by", "subject_age_group", "--period", "2025"], "does not record them"),
        (["--by", "officer_height"], "'by' must be one of"),
    ],
)
def test_mistakes_get_a_message_not_a_traceback(
    data_dir: Path, args: list[str], message: str
) -> None:
    run = _run(data_dir, "contacts", *args)
    assert run.returncode == 2
    assert message in " ".join(run.stderr.split())
    assert "Traceback" not in run.stderr + run.stdout


def test_the_residents_line_is_words_not_a_python_dict(data_dir: Path) -> None:
    run = _run(data_dir, "contacts", "--period", "2025")
    residents = next(line for line in run.stdout.splitlines() if "Residents:" in line)
    assert "{" not in residents and "'dataset'" not in residents
    assert "Residents: Test city, 2020 Census (2020; dataset community_demographics)." in residents


def test_piped_output_is_not_wrapped_at_80_columns(data_dir: Path) -> None:
    """Without a terminal (a log, CI), each message stays on one line, whatever its length."""
    run = _run(data_dir, "contacts", "--period", "2025", COLUMNS="")
    caveats = benchmark(make_portal(data_dir), "contacts", period="2025")["caveats"]
    lines = run.stdout.splitlines()
    long_ones = [c for c in caveats if len(c["text"]) > 100]
    assert long_ones
    for caveat in long_ones:
        assert f"- {caveat['title']}: {caveat['text']}" in lines
    mistake = _run(data_dir, "contacts", "--by", "officer_height", COLUMNS="")
    assert len(mistake.stderr.strip().splitlines()) == 1  # one message, one line
