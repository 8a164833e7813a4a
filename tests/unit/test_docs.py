"""The docs stay honest: every setting is documented, the README has its two commands."""

from pathlib import Path

from openblotter.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    operations = (ROOT / "docs" / "operations.md").read_text()
    for name in Settings.model_fields:
        assert f"`OPENBLOTTER_{name.upper()}`" in operations, name


def test_readme_commands_exist_in_the_makefile_and_ci_calls_the_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_catalog_schema_head_matches_the_newest_migration():
    from openblotter.storage.catalog import SCHEMA_HEAD

    versions = sorted((ROOT / "src/openblotter/storage/migrations/versions").glob("*.py"))
    assert versions[-1].name.startswith(SCHEMA_HEAD)
