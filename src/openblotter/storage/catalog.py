"""The catalog database: datasets, releases, audit log (SQLAlchemy Core).

SQLite by default; PostgreSQL by changing the URL. The schema is upgraded by
Alembic migrations on open (an empty catalog is created at the newest at once).
Every change that makes a release current happens in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.engine import RowMapping

from openblotter.domain.releases import Dataset, Release
from openblotter.storage import tables

_MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration; a test checks it against the migrations folder.
SCHEMA_HEAD = "0002"
#: Alembic's record of the migration a database is at, as Alembic creates it.
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers keep reading the old catalog state while a publish commits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Catalog:
    """Reads and writes the catalog. One instance per process; connections are pooled."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def migrate(self) -> None:
        """Bring the catalog schema to the newest migration (creates it when empty)."""
        version = self.schema_version()
        if version == SCHEMA_HEAD:
            return
        if version is None and self._empty():
            self._create()
            return
        # Alembic is imported only when there is something to migrate: it is slow to import.
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def _empty(self) -> bool:
        with self.engine.connect() as conn:
            return not inspect(conn).get_table_names()

    def _create(self) -> None:
        """An empty catalog gets the newest schema at once, stamped as migrated to it.

        ``tables`` is what the migrations make (a test compares the two databases and
        asks Alembic for differences): creating it directly spares a first publish or
        start importing Alembic and running every migration (0.1 s)."""
        with self.engine.begin() as connection:
            tables.metadata.create_all(connection)
            _ALEMBIC_VERSION.create(connection)
            connection.execute(insert(_ALEMBIC_VERSION).values(version_num=SCHEMA_HEAD))

    def schema_version(self) -> str | None:
        """The migration the catalog is at (None for an empty database)."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return str(row[0]) if row else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # -- datasets -----------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.datasets).order_by(tables.datasets.c.id)).mappings()
            return [_dataset(r) for r in rows]

    def dataset(self, dataset_id: str) -> Dataset | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(tables.datasets).where(tables.datasets.c.id == dataset_id))
                .mappings()
                .first()
            )
            return _dataset(row) if row else None

    def save_dataset(self, conn: Connection, dataset: Dataset) -> None:
        """Insert or update a dataset's descriptive columns (not its current release)."""
        values = asdict(dataset)
        values.pop("current_release_id")
        exists = conn.execute(
            select(tables.datasets.c.id).where(tables.datasets.c.id == dataset.id)
        ).first()
        if exists:
            values.pop("created_at")
            conn.execute(
                update(tables.datasets).where(tables.datasets.c.id == dataset.id).values(**values)
            )
        else:
            conn.execute(insert(tables.datasets).values(**values))

    def set_current(self, conn: Connection, dataset_id: str, release_id: int | None) -> None:
        conn.execute(
            update(tables.datasets)
            .where(tables.datasets.c.id == dataset_id)
            .values(current_release_id=release_id, updated_at=_now())
        )

    # -- releases -----------------------------------------------------------------

    def releases(self, dataset_id: str) -> list[Release]:
        """Every release of a dataset, oldest quarter first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tables.releases)
                .where(tables.releases.c.dataset_id == dataset_id)
                .order_by(tables.releases.c.label, tables.releases.c.id)
            ).mappings()
            return [_release(r) for r in rows]

    def release(self, release_id: int) -> Release | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(tables.releases).where(tables.releases.c.id == release_id))
                .mappings()
                .first()
            )
            return _release(row) if row else None

    def dataset_and_current(self, dataset_id: str) -> tuple[Dataset, Release | None] | None:
        """A dataset and its current release in one query (the hot path of every API request)."""
        join = tables.datasets.outerjoin(
            tables.releases, tables.datasets.c.current_release_id == tables.releases.c.id
        )
        query = select(*tables.datasets.c, *[c.label(f"r_{c.name}") for c in tables.releases.c])
        with self.engine.connect() as conn:
            row = (
                conn.execute(query.select_from(join).where(tables.datasets.c.id == dataset_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        dataset = _dataset({c.name: row[c.name] for c in tables.datasets.c})
        if row["r_id"] is None:
            return dataset, None
        return dataset, _release({c.name: row[f"r_{c.name}"] for c in tables.releases.c})

    def current_releases(self) -> dict[str, Release]:
        """The current release of every dataset that has one, in one query."""
        join = tables.datasets.join(
            tables.releases, tables.datasets.c.current_release_id == tables.releases.c.id
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(tables.releases).select_from(join)).mappings()
            return {r["dataset_id"]: _release(r) for r in rows}

    def file_keys(self) -> set[str]:
        """The file of every release, whatever its status."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(tables.releases.c.file_key)).scalars())

    def insert_release(self, conn: Connection, values: dict[str, Any]) -> int:
        result = conn.execute(insert(tables.releases).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_status(
        self, conn: Connection, release_id: int, status: str, reason: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if status == "withdrawn":
            values.update(withdrawn_at=_now(), withdrawn_reason=reason)
        conn.execute(
            update(tables.releases).where(tables.releases.c.id == release_id).values(**values)
        )

    def mark_purged(self, conn: Connection, release_id: int, reason: str) -> None:
        """Keep only a release's tombstone: label, when, why; its report and changelog go.

        The report quotes rows (examples of invalid values) and the changelog
        counts them; the schema, checksums and row count stay (no row is in them).
        """
        conn.execute(
            update(tables.releases)
            .where(tables.releases.c.id == release_id)
            .values(
                status="purged",
                withdrawn_at=_now(),
                withdrawn_reason=reason,
                report={"purged": True},
                changelog={},
            )
        )

    def reports_without(self, mark: str) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """Id, schema and report of every release whose stored report lacks the key ``mark``
        (a pass over reports stored before a change to what they may hold); a purged
        release's tombstone holds no report and is left as it is."""
        text = sa_cast(tables.releases.c.report, Text)
        query = select(
            tables.releases.c.id, tables.releases.c.schema, tables.releases.c.report
        ).where(~text.contains(f'"{mark}"'), tables.releases.c.status != "purged")
        with self.engine.connect() as conn:
            return [(int(r.id), dict(r.schema), dict(r.report)) for r in conn.execute(query)]

    def set_report(self, conn: Connection, release_id: int, report: dict[str, Any]) -> None:
        """Replace a release's stored report (only its public form is ever stored)."""
        conn.execute(
            update(tables.releases).where(tables.releases.c.id == release_id).values(report=report)
        )

    def file_in_use(self, file_key: str) -> bool:
        """Whether a release that is not purged still stores its rows under ``file_key``."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tables.releases.c.id).where(
                    tables.releases.c.file_key == file_key, tables.releases.c.status != "purged"
                )
            ).first()
            return row is not None

    def compact(self) -> None:
        """Rewrite the database so no deleted or overwritten value survives in free pages or the WAL."""
        if self.url.startswith("sqlite"):
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                conn.execute(text("VACUUM"))
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        elif self.url.startswith("postgresql"):
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("VACUUM FULL releases"))
                conn.execute(text("VACUUM FULL audit_log"))

    # -- audit --------------------------------------------------------------------

    def audit(
        self,
        conn: Connection,
        *,
        actor: str,
        action: str,
        dataset_id: str | None,
        label: str | None,
        detail: dict[str, Any],
    ) -> None:
        conn.execute(
            insert(tables.audit_log).values(
                at=_now(),
                actor=actor,
                action=action,
                dataset_id=dataset_id,
                label=label,
                detail=detail,
            )
        )

    def audit_entries(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        query = select(tables.audit_log).order_by(tables.audit_log.c.id)
        if dataset_id is not None:
            query = query.where(tables.audit_log.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; everything the catalog writes is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _dataset(row: RowMapping | dict[str, Any]) -> Dataset:
    values = dict(row)
    values["created_at"] = _aware(values["created_at"])
    values["updated_at"] = _aware(values["updated_at"])
    return Dataset(**values)


def _release(row: RowMapping | dict[str, Any]) -> Release:
    values = dict(row)
    for key in ("created_at", "published_at", "withdrawn_at"):
        values[key] = _aware(values[key])
    return Release(**values)
