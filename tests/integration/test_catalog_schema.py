"""An empty catalog is created at the newest schema directly (no Alembic run): the same
database the migrations make, and the migrations make what ``storage/tables.py`` says."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from openblotter.storage import tables
from openblotter.storage.catalog import _MIGRATIONS, SCHEMA_HEAD, Catalog


def _migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with create_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return url


def _objects(url: str) -> set[tuple[str, str, str]]:
    with create_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master")).all()
    return {(kind, name, sql or "") for kind, name, sql in rows}


def test_an_empty_catalog_is_created_as_the_migrations_make_it(tmp_path: Path) -> None:
    created = Catalog(f"sqlite:///{tmp_path / 'created.sqlite'}")
    created.migrate()
    assert created.schema_version() == SCHEMA_HEAD
    migrated = _migrated(tmp_path / "migrated.sqlite")
    assert _objects(created.url) == _objects(migrated)
    assert {name for kind, name, _ in _objects(created.url) if kind == "index"} >= {
        "uq_release_label_live"
    }
    created.migrate()  # at the head already: nothing to do
    assert created.schema_version() == SCHEMA_HEAD


def test_the_migrations_make_what_the_tables_module_says(tmp_path: Path) -> None:
    migrated = _migrated(tmp_path / "migrated.sqlite")
    with create_engine(migrated).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert differences == []


def test_a_catalog_with_tables_but_no_record_is_left_to_the_migrations(tmp_path: Path) -> None:
    """Only a truly empty database is created directly; anything else is Alembic's."""
    url = f"sqlite:///{tmp_path / 'odd.sqlite'}"
    with create_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER)"))
    catalog = Catalog(url)
    catalog.migrate()
    assert catalog.schema_version() == SCHEMA_HEAD
    assert ("table", "notes", "CREATE TABLE notes (id INTEGER)") in _objects(url)
