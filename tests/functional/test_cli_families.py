"""`openblotter families`: every family of the schema files, in catalog order (issue 14:
the CLI asks services/families.py, not ingest)."""

from __future__ import annotations

from typer.testing import CliRunner

from openblotter.cli import app as cli_app
from openblotter.services.families import families


def test_families_lists_each_family_with_its_fields_in_catalog_order() -> None:
    result = CliRunner().invoke(cli_app, ["families"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    titles = [f"{f.name}: {f.title}" for f in families()]
    places = [result.output.index(title) for title in titles]
    assert places == sorted(places)
    assert "record_id" in result.output and "subject_race" in result.output
