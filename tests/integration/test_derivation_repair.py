"""Portals from before the atomic publish (issue 17): contacts at 2026-Q4, hate crimes at
2026-Q3. The gap is reported (at serve's start, by `openblotter repair`) and completed: the
view derived from the published contacts release equals what the publish would have made."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from openblotter.cli import app as cli_app
from openblotter.services import derived
from openblotter.services.derivation_repair import (
    MissingDerivation,
    complete_derivations,
    missing_derivations,
)
from openblotter.services.portal import Portal
from tests.factories import TEST_SALT, make_portal, publish_file, write_csv

HEADER = [
    "record_id",
    "incident_date",
    "incident_time",
    "bias_motivation",
    "subject_race",
    "block_address",
    "officer_id",
]


def _contacts(path: Path, quarter: str) -> Path:
    day = {"2026-Q3": "2026-08-01", "2026-Q4": "2026-11-01"}[quarter]
    rows = [
        ["C-1", "2026-07-02", "21:15", "Anti-Asian", "Asian", "1234 W Main St", "A-17"],
        ["C-2", "2026-07-03", "08:00", "None (no bias)", "White", "88 E Lindsey St", "A-3"],
        [f"C-{quarter}", day, "13:40", "Anti-Jewish", "White", "1200 Block Elm Ave", "A-9"],
        [f"D-{quarter}", day, "", "Anti-Black or African American", "Black", "", "A-9"],
    ]
    return write_csv(path, HEADER, rows)


def _publish(portal: Portal, work: Path, quarter: str) -> None:
    source = _contacts(work / f"{quarter}.csv", quarter)
    publish_file(portal, source, "contacts", quarter, family="contacts")


def _old_portal(work: Path, monkeypatch: pytest.MonkeyPatch) -> Portal:
    """Contacts at 2026-Q4, hate crimes at 2026-Q3, as a publish stopped midway left them."""
    portal = make_portal(work / "old")
    _publish(portal, work, "2026-Q3")
    with monkeypatch.context() as stopped:
        stopped.setattr(derived, "prepare_derived_views", lambda *args: [])
        _publish(portal, work, "2026-Q4")
    assert (portal.release("contacts").label, portal.release("hate_crimes").label) == (
        "2026-Q4",
        "2026-Q3",
    )
    return portal


def _rows(portal: Portal, dataset_id: str) -> pl.DataFrame:
    frame = pl.read_parquet(portal.release_path(portal.release(dataset_id)))
    return frame.sort("record_id")


def test_a_missing_derivation_is_found_and_said_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = _old_portal(tmp_path, monkeypatch)
    assert missing_derivations(portal) == [MissingDerivation("contacts", "hate_crimes", "2026-Q4")]
    assert missing_derivations(portal)[0].describe() == (
        "hate_crimes has no release 2026-Q4, though contacts 2026-Q4 is published (a publish "
        "stopped before deriving it). Run `openblotter repair` to derive it from contacts 2026-Q4."
    )


def test_repair_derives_what_the_publish_would_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = _old_portal(tmp_path, monkeypatch)
    whole = make_portal(tmp_path / "whole")  # the same two publishes, never stopped
    _publish(whole, tmp_path, "2026-Q3")
    _publish(whole, tmp_path, "2026-Q4")

    stored = complete_derivations(portal)
    assert [(s.release.dataset_id, s.release.label) for s in stored] == [("hate_crimes", "2026-Q4")]
    assert portal.release("hate_crimes").label == "2026-Q4"
    assert _rows(portal, "hate_crimes").equals(_rows(whole, "hate_crimes"))
    assert stored[0].changelog == whole.release("hate_crimes").changelog
    assert missing_derivations(portal) == []
    assert complete_derivations(portal) == []  # nothing left to do


def test_a_withdrawn_view_is_not_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openblotter.services.releases import withdraw

    portal = make_portal(tmp_path / "portal")
    _publish(portal, tmp_path, "2026-Q3")
    withdraw(portal, "hate_crimes", "2026-Q3", reason="withdrawn on purpose")
    assert missing_derivations(portal) == []


def test_the_repair_command_completes_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = _old_portal(tmp_path, monkeypatch)
    env = {"OPENBLOTTER_DATA_DIR": str(portal.settings.data_dir), "OPENBLOTTER_SALT": TEST_SALT}
    runner = CliRunner()
    done = runner.invoke(cli_app, ["repair"], env=env)
    assert done.exit_code == 0, done.output
    assert "Derived hate_crimes 2026-Q4 from contacts 2026-Q4" in done.output
    again = runner.invoke(cli_app, ["repair"], env=env)
    assert again.exit_code == 0 and "Nothing to repair" in again.output


def test_serve_says_at_start_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from openblotter.web.server import serve

    portal = _old_portal(tmp_path, monkeypatch)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    said: list[str] = []
    settings = portal.settings.model_copy(update={"port": 0, "server_preload_analysis": False})
    serve(settings, said.append)
    assert (
        said[0] == f"Warning: {MissingDerivation('contacts', 'hate_crimes', '2026-Q4').describe()}"
    )
    assert said[1].startswith("Serving ")
